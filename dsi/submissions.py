"""What the directory's records and content's suggestions share: the links mailed to whoever submitted one."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dsi.clock import utcnow
from dsi.errors import Conflict, Forbidden, InvalidInput, NotFound
from dsi.messaging import rpc

EXPECTED = (InvalidInput, NotFound, Conflict, Forbidden)


class SubmissionMixin:
    """Columns of a submission from the public, waiting for or decided by moderation: its state, the fields it
    proposes, the submitter's address and when it was confirmed, the language their mails speak, and the
    decision."""

    state: Mapped[str] = mapped_column(String(24), index=True, default="pending")
    data: Mapped[dict] = mapped_column(JSON)  # the proposed fields, validated
    email: Mapped[str] = mapped_column(String(254))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")  # of the page it came from
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SubmissionLinks:
    """Base of a service that takes submissions from the public: the RPCs behind the mailed links (status,
    address confirmation, withdrawal). `submissions` names its domain module, which has get_status,
    confirm_email and withdraw (both with the outbox: confirming tells moderation); the service has `db` and
    `outbox`."""

    submissions = None

    @rpc(expected_exceptions=EXPECTED)
    def submission_status(self, submission_id, token):
        with self.db.get_session() as session:
            return self.submissions.get_status(session, submission_id, token)

    @rpc(expected_exceptions=EXPECTED)
    def confirm_email(self, submission_id, token):
        with self.db.get_session() as session:
            return self.submissions.confirm_email(session, self.outbox, submission_id, token)

    @rpc(expected_exceptions=EXPECTED)
    def withdraw(self, submission_id, token):
        with self.db.get_session() as session:
            return self.submissions.withdraw(session, self.outbox, submission_id, token)
