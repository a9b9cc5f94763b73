"""The content service's tables: editorial items with their translations, terms, slugs, revisions, images and
the public's suggestions."""
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dsi.clock import utcnow
from dsi.database import TermsMixin
from dsi.messaging import OutboxMixin, ProcessedEventMixin
from dsi.submissions import SubmissionMixin


class Base(DeclarativeBase):
    pass


class Item(Base):
    """A story, case study, event, funding call, resource or cluster page.

    `source` holds the item's validated editable fields as the editor last saved them (revisions snapshot it);
    the other columns are derived from it for filtering, ordering and rendering."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # leads the list indexes below
    state: Mapped[str] = mapped_column(String(24), index=True)  # see items.STATES
    slug: Mapped[str] = mapped_column(String(120))
    lang: Mapped[str] = mapped_column(String(2), default="en")  # the language it was written in
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, as written
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered through the allow-list when saved
    source: Mapped[dict] = mapped_column(JSON, default=dict)
    origin: Mapped[str] = mapped_column(String(16), default="editor")  # editor | suggestion | import | demo
    # Columns the lists filter and order by.
    cluster: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str | None] = mapped_column(String(32), index=True)  # story category, resource type
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    attendance: Mapped[str | None] = mapped_column(String(16))
    is_free: Mapped[bool | None] = mapped_column(Boolean)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    start_date: Mapped[date | None] = mapped_column(Date)  # the local day it starts, for the month filter
    closes_on: Mapped[date | None] = mapped_column(Date, index=True)
    rolling: Mapped[bool] = mapped_column(Boolean, default=False)
    featured_position: Mapped[int | None] = mapped_column(Integer)
    import_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    publish_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every public change; 0: never public
    # Bumped by every write of the row (SQLAlchemy's version counter): an editor saves over the version they
    # opened or not at all (items.update), and two racing writes cannot both match it.
    edit_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254), default="")

    translations: Mapped[list["Translation"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Translation.lang")
    terms: Mapped[list["ItemTerm"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ItemTerm.position")

    # One index per list order (listing.query_for), carrying the common filters after the order so that a page and
    # its count are read from the index without sorting or visiting the rows they skip.
    __table_args__ = (
        UniqueConstraint("kind", "slug", name="uq_items_kind_slug"),
        Index("ix_items_by_published", "kind", "state", "published_at", "id", "category", "cluster"),
        Index("ix_items_by_start", "kind", "state", "starts_at", "id", "ends_at", "country", "attendance", "is_free"),
        Index("ix_items_by_closing", "kind", "state", "rolling", "closes_on", "id"),
    )
    __mapper_args__ = {"version_id_col": edit_version}


class Translation(Base):
    __tablename__ = "translations"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")


class ItemTerm(Base, TermsMixin):
    """A multi-valued field: social areas, funding types, targets, countries."""

    __tablename__ = "item_terms"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)


class SlugRedirect(Base):
    """A slug an item had before: its old URL answers with a redirect to the current one."""

    __tablename__ = "slug_redirects"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)


class Revision(Base):
    """Who changed an item, when, and what: the changed fields and a snapshot to restore."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(24))  # created | updated | restored | published | …
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changes: Mapped[list] = mapped_column(JSON, default=list)  # [{field, before, after}]
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(24))


class Image(Base):
    """An uploaded image, re-encoded and stored under the media folder."""

    __tablename__ = "images"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    filename: Mapped[str] = mapped_column(String(80), unique=True)
    format: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    alt: Mapped[str] = mapped_column(String(300))
    uploaded_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Suggestion(Base, SubmissionMixin):
    """An event or funding call suggested by the public, waiting for or decided by moderation."""

    __tablename__ = "suggestions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))

    item: Mapped[Item] = relationship(lazy="joined")


class Outbox(Base, OutboxMixin):
    pass


class ProcessedEvent(Base, ProcessedEventMixin):
    pass
