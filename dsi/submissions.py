"""What the directory's records and content's suggestions share: the links mailed to whoever submitted one."""
from dsi.errors import Conflict, Forbidden, InvalidInput, NotFound
from dsi.messaging import rpc

EXPECTED = (InvalidInput, NotFound, Conflict, Forbidden)


class SubmissionLinks:
    """Base of a service that takes submissions from the public: the RPCs behind the mailed links (status,
    address confirmation, withdrawal). `submissions` names its domain module, which has get_status,
    confirm_email and withdraw; the service has `db` and `outbox`."""

    submissions = None

    @rpc(expected_exceptions=EXPECTED)
    def submission_status(self, submission_id, token):
        with self.db.get_session() as session:
            return self.submissions.get_status(session, submission_id, token)

    @rpc(expected_exceptions=EXPECTED)
    def confirm_email(self, submission_id, token):
        with self.db.get_session() as session:
            return self.submissions.confirm_email(session, submission_id, token)

    @rpc(expected_exceptions=EXPECTED)
    def withdraw(self, submission_id, token):
        with self.db.get_session() as session:
            return self.submissions.withdraw(session, self.outbox, submission_id, token)
