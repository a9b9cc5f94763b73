"""The directory's tables: records (organisations and projects), their terms and links, and submissions."""
import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dsi.clock import utcnow
from dsi.database import TermsMixin
from dsi.messaging import OutboxMixin, ProcessedEventMixin
from dsi.submissions import SubmissionMixin


class Base(DeclarativeBase):
    pass


class Record(Base):
    """An organisation or a project. Its columns hold the version the public sees once it is published;
    edits of a published record wait in a Submission until approved."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # organisation | project
    status: Mapped[str] = mapped_column(String(24), index=True)  # see records.STATUSES
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str] = mapped_column(String(500), default="")
    short_description: Mapped[str] = mapped_column(String(300), default="")
    long_description: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    social_impact: Mapped[str] = mapped_column(Text, default="")
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    city: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    organisation_type: Mapped[str | None] = mapped_column(String(64), index=True)
    organisation_size: Mapped[str | None] = mapped_column(String(16))
    project_status: Mapped[str | None] = mapped_column(String(16))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    logo_url: Mapped[str] = mapped_column(String(500), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")  # private: never in public output
    import_key: Mapped[str | None] = mapped_column(String(80), unique=True)  # e.g. dsi4eu-2017:project:251
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every public change; 0: never public
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    terms: Mapped[list["RecordTerm"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RecordTerm.position"
    )


# The directory's lists: published records of one kind by name, read in index order (no sort per request). On
# PostgreSQL each listing index holds the name too: its planner reads an index alone only when it holds every column
# the statement names (here `name`, inside lower(name)), and a page walks past its offset in the index alone, reading
# from the table only the rows it shows (records._list_statements; a page at offset 900 of 1,228: 3.2 → 0.3 ms).
LISTING = {"postgresql_include": ["name"]}
Index("ix_records_listing", Record.kind, Record.status, func.lower(Record.name), Record.id, **LISTING)
# A list filtered on a column of records: its page read in index order, its total counted from the index alone.
Index("ix_records_listing_country", Record.kind, Record.status, Record.country, func.lower(Record.name), Record.id,
      **LISTING)
Index("ix_records_listing_type", Record.kind, Record.status, Record.organisation_type, func.lower(Record.name),
      Record.id, **LISTING)
# Both: the count of a list filtered on type and country from the index alone, not from each row of the type.
Index("ix_records_listing_type_country", Record.kind, Record.status, Record.organisation_type, Record.country,
      func.lower(Record.name), Record.id, **LISTING)
# A list filtered on a term: each record that has it checked for kind and status in this index, not in its row.
Index("ix_records_published_ids", Record.kind, Record.status, Record.id)
# The figures every home and search page shows (records.stats): counted from the index alone, not the rows.
Index("ix_records_public_figures", Record.status, Record.kind, Record.country)


class RecordTerm(Base, TermsMixin):
    """A multi-valued field value: a social area, technology, DSI focus, tag or network tag."""

    __tablename__ = "record_terms"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)


# A list filtered on a term (a social area, technology…): the records that have it, from the index alone.
Index("ix_record_terms_records", RecordTerm.facet, RecordTerm.value, RecordTerm.record_id)


class RecordLink(Base):
    """An organisation's part in a project."""

    __tablename__ = "record_links"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="partner")  # lead | partner

    __table_args__ = (Index("ix_record_links_project", "project_id"),)


class Submission(Base, SubmissionMixin):
    """A proposal waiting for, or decided by, moderation: a new record (create) or an edit (update)."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))  # create | update
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    record: Mapped[Record] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": lock_version}


class Outbox(Base, OutboxMixin):
    pass


class ProcessedEvent(Base, ProcessedEventMixin):
    pass
