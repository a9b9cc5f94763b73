"""Moderation service: the review queue, reports of published records, and staff accounts.

Entrypoints only: each checks the caller's session and role, calls the domain (queue.py, reports.py,
accounts.py) inside one transaction, and returns. Every RPC that reads or changes moderation data takes the
staff session cookie as its first argument, so the service itself refuses a visitor or the wrong role.
"""

from dsi import events, redaction
from dsi.database import DatabaseHealth
from dsi.errors import Conflict, Forbidden, InvalidInput, NotFound, PlatformError, RateLimited
from dsi.lifecycle import timer
from dsi.messaging import first_delivery, handles, reliable_handler, rpc
from dsi.metrics import Metrics
from dsi.settings import Settings
from dsi.validation import MAX_ID, parse_id, parse_int, parse_paging

from . import accounts, queue, reports
from .dependencies import database, outbox
from .models import ProcessedEvent
from .schemas import Decision, Filters, parse
from .settings import ModerationSettings

redaction.install()  # no e-mail addresses or link tokens in this service's logs

EXPECTED = (InvalidInput, NotFound, Conflict, Forbidden, RateLimited)


class ModerationService(DatabaseHealth):
    name = "moderation"

    db = database
    outbox = outbox
    settings = Settings(ModerationSettings)
    metrics = Metrics(measure=queue.measure)  # the queue's length and oldest age, besides the RPC and event figures

    def _staff(self, session, cookie, roles):
        return accounts.authorise(session, cookie, roles, self.settings.SESSION_HOURS)

    # --- directory events --------------------------------------------------------------------------------------

    @reliable_handler(events.DIRECTORY, events.SUBMISSION_RECEIVED)
    def on_submission_received(self, event):
        with self.db.get_session() as session:
            if first_delivery(session, ProcessedEvent, event):
                queue.receive(session, event["payload"])

    @reliable_handler(events.DIRECTORY, events.SUBMISSION_DECIDED)
    def on_submission_decided(self, event):
        with self.db.get_session() as session:
            if first_delivery(session, ProcessedEvent, event):
                queue.directory_decided(session, event["payload"])

    @reliable_handler(events.DIRECTORY, events.SUBMISSION_CONFIRMED)
    def on_submission_confirmed(self, event):
        with self.db.get_session() as session:
            if first_delivery(session, ProcessedEvent, event):
                queue.confirmed(session, event["payload"])

    # --- content events: the public's suggestions of events and funding enter the same queue ---------------------

    on_suggestion_received = handles(events.CONTENT, events.SUBMISSION_RECEIVED, on_submission_received)
    on_suggestion_decided = handles(events.CONTENT, events.SUBMISSION_DECIDED, on_submission_decided)

    @reliable_handler(events.CONTENT, events.SUBMISSION_CONFIRMED)
    def on_suggestion_confirmed(self, event):
        self.on_submission_confirmed(event)

    # --- the queue ---------------------------------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def list_queue(self, cookie, filters=None):
        with self.db.get_session() as session:
            self._staff(session, cookie, accounts.MODERATORS)
            return queue.list_items(session, parse(Filters, filters or {}))

    @rpc(expected_exceptions=EXPECTED)
    def show(self, cookie, submission_id):
        with self.db.get_session() as session:
            self._staff(session, cookie, accounts.MODERATORS)
            return queue.show(session, submission_id)

    @rpc(expected_exceptions=EXPECTED)
    def decide(self, cookie, submission_id, decision):
        with self.db.get_session() as session:
            staff = self._staff(session, cookie, accounts.MODERATORS)
            return queue.decide(session, self.outbox, staff["email"], submission_id, parse(Decision, decision))

    @rpc(expected_exceptions=EXPECTED)
    def bulk_decide(self, cookie, items, decision):
        """One decision on many items ([{submission_id, version}]), each in its own transaction: a result per item."""
        with self.db.get_session() as session:
            staff = self._staff(session, cookie, accounts.MODERATORS)
        if not isinstance(decision, dict):
            raise InvalidInput("The decision must be an object.", {"decision": "expected an object"})
        if not isinstance(items, list) or not items or len(items) > 100:
            raise InvalidInput("Choose from 1 to 100 submissions.", {"items": "expected 1 to 100 items"})
        results = []
        for entry in items:
            entry = entry if isinstance(entry, dict) else {}
            submission_id = str(entry.get("submission_id", ""))
            try:
                with self.db.get_session() as session:
                    chosen = parse(Decision, {**decision, "version": entry.get("version")})
                    item = queue.decide(session, self.outbox, staff["email"], submission_id, chosen)
                results.append({"submission_id": submission_id, "ok": True, "state": item["state"]})
            except PlatformError as error:
                results.append({"submission_id": submission_id, "ok": False, "error": error.code,
                                "message": error.message, "reason": error.reason})
        with self.db.get_session() as session:
            names = queue.names(session, [result["submission_id"] for result in results])
        return {"results": [{**result, "name": names.get(result["submission_id"])} for result in results],
                "decided": sum(result["ok"] for result in results)}

    # --- reports -----------------------------------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def report(self, kind, record_id, name, reporter, body):
        """A report from the public (the gateway checked that the record is published, and rate limits)."""
        record_id = parse_id(record_id, "record_id")
        key = reports.reporter_key(self.settings.SECRET_KEY, kind, record_id, str(reporter))
        with self.db.get_session() as session:
            return reports.report(session, self.outbox, kind, record_id, str(name or ""), key, body,
                                  self.settings.REPORT_THRESHOLD)

    @rpc(expected_exceptions=EXPECTED)
    def list_reports(self, cookie, state="active", page=1, per_page=25):
        with self.db.get_session() as session:
            self._staff(session, cookie, accounts.MODERATORS)
            return reports.list_cases(session, state, *parse_paging(page, per_page))

    @rpc(expected_exceptions=EXPECTED)
    def show_report(self, cookie, kind, record_id):
        with self.db.get_session() as session:
            self._staff(session, cookie, accounts.MODERATORS)
            return reports.show_case(session, kind, parse_id(record_id, "record_id"))

    @rpc(expected_exceptions=EXPECTED)
    def resolve_report(self, cookie, kind, record_id, action, version, reason=""):
        with self.db.get_session() as session:
            staff = self._staff(session, cookie, accounts.MODERATORS)
            return reports.resolve(session, self.outbox, staff["email"], kind, parse_id(record_id, "record_id"), action,
                                   parse_int(version, "version", 0, MAX_ID),
                                   str(reason or "")[:2000])

    # --- staff -------------------------------------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def login(self, email, password, client=""):
        """`client`: the address the login came from (lockout is per account and client); "" from callers that
        do not pass it yet, which then share one count per account."""
        with self.db.get_session() as session:
            result = accounts.login(session, str(email or ""), str(password or "")[:1000],
                                    self.settings.LOGIN_MAX_FAILURES, self.settings.LOCKOUT_MINUTES,
                                    self.settings.SESSION_HOURS, client=str(client or "")[:100])
        if "error" in result:  # refused only after the failed attempt was counted
            raise Forbidden.because(result["error"])
        return result

    @rpc(expected_exceptions=EXPECTED)
    def logout(self, cookie):
        with self.db.get_session() as session:
            accounts.logout(session, cookie, self.settings.SESSION_HOURS)

    @rpc(expected_exceptions=EXPECTED)
    def whoami(self, cookie, roles=None):
        """The staff member of a session cookie, checked against `roles` (any staff role when None)."""
        with self.db.get_session() as session:
            return self._staff(session, cookie, tuple(roles) if roles else accounts.ROLES)

    @rpc(expected_exceptions=EXPECTED)
    def set_language(self, cookie, language):
        """The console speaks the language its staff member picks (kept with the account)."""
        with self.db.get_session() as session:
            staff = self._staff(session, cookie, accounts.ROLES)
            return accounts.set_language(session, staff["id"], str(language or ""))

    @rpc(expected_exceptions=EXPECTED)
    def list_staff(self, cookie):
        with self.db.get_session() as session:
            self._staff(session, cookie, accounts.ADMINS)
            return accounts.list_staff(session)

    @rpc(expected_exceptions=EXPECTED)
    def create_staff(self, cookie, body):
        with self.db.get_session() as session:
            admin = self._staff(session, cookie, accounts.ADMINS)
            return accounts.create_staff(session, body, admin["email"])

    @rpc(expected_exceptions=EXPECTED)
    def set_staff_active(self, cookie, staff_id, active):
        with self.db.get_session() as session:
            admin = self._staff(session, cookie, accounts.ADMINS)
            return accounts.set_active(session, parse_id(staff_id, "staff_id"), bool(active), admin["email"])

    # --- operations --------------------------------------------------------------------------------------------

    @timer(interval=1)
    def relay_outbox(self):
        """Sends what a worker could not: after a crash, a broker outage, or before consumers bound their queues."""
        self.outbox.relay(self.db.engine)
