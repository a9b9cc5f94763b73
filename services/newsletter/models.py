"""The newsletter's tables: subscribers, the send queues (transactional mails and edition recipients), the
read models of published records (directory) and published items (content), editions, and the bookkeeping of
rate limits and applied events."""
import uuid
from datetime import date, datetime, timezone

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dsi.clock import utcnow
from dsi.messaging import ProcessedEventMixin


class Base(DeclarativeBase):
    pass


def stamp(value: datetime | None) -> str | None:
    """ISO 8601 with its UTC offset: SQLite hands back our UTC times without one."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


class Subscriber(Base):
    """A newsletter subscriber; `key` (random, never reused) is what signed links name, not the row id."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    social_areas: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), index=True)  # see subscribers.STATES
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# The claim's index (see delivery.claim): only the rows that can be due, in the order they are claimed (an order
# the primary key cannot give, so the planner never prefers it whatever its statistics say), so a claim reads
# about `limit` entries.
CLAIMABLE = text("state IN ('queued', 'claimed')")
FAILED_ROWS = text("state = 'failed'")


def partial_index(name: str, where, *columns: str) -> Index:
    """An index of the rows `where` holds only, on PostgreSQL and SQLite alike."""
    return Index(name, *columns, postgresql_where=where, sqlite_where=where)


class DeliveryMixin:
    """Columns of a send queue row: see delivery.py for its states and the claim protocol."""

    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))


class Mail(Base, DeliveryMixin):
    """A transactional mail, rendered when it was requested and stored before the request was acknowledged."""

    __tablename__ = "mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)  # the event id: a redelivery adds nothing
    template: Mapped[str] = mapped_column(String(64))
    to: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (partial_index("ix_mails_due", CLAIMABLE, "next_attempt_at", "id"),)


class PublishedRecord(Base):
    """The newsletter's read model of the directory: what is public, as of the newest version seen."""

    __tablename__ = "published_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # the directory's id
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    public: Mapped[bool] = mapped_column(default=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(300), default="")
    place: Mapped[str] = mapped_column(String(300), default="")
    social_areas: Mapped[list] = mapped_column(JSON, default=list)  # slugs
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # when the record was created: records imported from the original keep their original dates, so a month's
    # "new records" are those created in it, not those the import published in it
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class PublishedContent(Base):
    """The newsletter's read model of content (from its events, never its database): what is public, as of
    the newest version seen, with what an edition shows of it."""

    __tablename__ = "published_content"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # content's id
    kind: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    public: Mapped[bool] = mapped_column(default=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(String(500), default="")
    url: Mapped[str] = mapped_column(String(300), default="")  # the public path, /stories/{slug}
    lang: Mapped[str] = mapped_column(String(8), default="en")
    translations: Mapped[dict] = mapped_column(JSON, default=dict)  # {lang: {title, summary}}
    social_areas: Mapped[list] = mapped_column(JSON, default=list)  # slugs
    place: Mapped[str] = mapped_column(String(300), default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)  # events
    closes_on: Mapped[date | None] = mapped_column(Date, index=True)  # funding; none when rolling


class Edition(Base):
    """One edition (campaign) of the newsletter; `month` is unique so every instance agrees on one per month."""

    __tablename__ = "editions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM of the records it presents
    state: Mapped[str] = mapped_column(String(16), index=True)  # see editions.STATES
    subject: Mapped[str] = mapped_column(String(200), default="")  # the default for languages without their own
    intro: Mapped[str] = mapped_column(Text, default="")
    subjects: Mapped[dict | None] = mapped_column(JSON)  # {lang: subject} written by the editor
    intros: Mapped[dict | None] = mapped_column(JSON)  # {lang: introduction}
    # the editor's choice per section: {section: [ids in order]}; a section not named shows what the month has
    arrangement: Mapped[dict | None] = mapped_column(JSON)
    items: Mapped[list | None] = mapped_column(JSON)  # frozen when sending starts: what it presents
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Recipient(Base, DeliveryMixin):
    """An edition's checkpoint for one subscriber; the unique pair makes a second copy impossible."""

    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id"),
        partial_index("ix_recipients_due", CLAIMABLE, "edition_id", "next_attempt_at", "id"),
        # an edition's failures, counted every second while it sends (sending._Gate): few rows, rarely written
        partial_index("ix_recipients_failed", FAILED_ROWS, "edition_id"),
    )


class RateLimitHit(Base):
    """A counter per key and fixed time window, shared by every instance."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)  # start of the window, epoch seconds
    count: Mapped[int] = mapped_column(Integer, default=0)


class ProcessedEvent(Base, ProcessedEventMixin):
    pass

