"""The moderation service's tables: the review queue, its append-only history, reports, and staff accounts."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dsi.clock import utcnow
from dsi.messaging import OutboxMixin, ProcessedEventMixin


class Base(DeclarativeBase):
    pass


class QueueItem(Base):
    """One submission from the directory (a new record or an edit of a published one) and where it stands."""

    __tablename__ = "queue_items"

    submission_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str | None] = mapped_column(String(16), index=True)
    action: Mapped[str | None] = mapped_column(String(16))  # create | update
    name: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    # decisions are mailed only to a confirmed address
    email_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    proposed: Mapped[dict | None] = mapped_column(JSON)
    published: Mapped[dict | None] = mapped_column(JSON)
    diff: Mapped[list | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(24), index=True, default="pending")
    priority: Mapped[int] = mapped_column(Integer, default=0, index=True)  # see queue.priority_of
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(254))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # a stale writer's UPDATE matches no row: optimistic locking


class HistoryEntry(Base):
    """One step in the life of a submission or of a reported record. Rows are only ever added."""

    __tablename__ = "history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str | None] = mapped_column(String(36), index=True)
    kind: Mapped[str | None] = mapped_column(String(16))
    record_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(254))  # a staff email, or directory / submitter / public / system
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    diff: Mapped[list | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_history_record", "kind", "record_id"),)


@event.listens_for(HistoryEntry, "before_update")
@event.listens_for(HistoryEntry, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("history is append-only")


class ReportCase(Base):
    """A published record that the public reported, and what moderators did about it."""

    __tablename__ = "report_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), index=True, default="open")  # see reports.CASE_STATES
    open_reports: Mapped[int] = mapped_column(Integer, default=0)  # distinct reporters since the last resolution
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (UniqueConstraint("kind", "record_id", name="uq_report_cases_record"),)
    __mapper_args__ = {"version_id_col": version}


class Report(Base):
    """One report by one reporter (an HMAC of the client's address: never the address itself)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("report_cases.id", ondelete="CASCADE"), index=True)
    reporter: Mapped[str] = mapped_column(String(64))
    reason_code: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("case_id", "reporter", name="uq_reports_reporter"),)


class Staff(Base):
    """A staff account: moderator, editor or admin."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")  # the console's, their pick


class LoginThrottle(Base):
    """Failed logins per account and client address, kept alike for addresses that have no account: neither the
    answer nor the lockout tells which accounts exist. `key` is a keyed digest: no address is stored."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class StaffSession(Base):
    """A logged-in session; the cookie holds the token, this table only its SHA-256, so logout really ends it."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Outbox(Base, OutboxMixin):
    pass


class ProcessedEvent(Base, ProcessedEventMixin):
    pass
