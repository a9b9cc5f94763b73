"""Directory service: owns organisations and projects, their submissions and their lifecycle.

Entrypoints only: each parses, calls the domain in records.py inside one transaction, and returns.
"""
from functools import partial

from dsi import events, redaction
from dsi.database import DatabaseHealth
from dsi.errors import InvalidInput
from dsi.lifecycle import timer
from dsi.messaging import first_delivery, forgets_on, handles, rpc
from dsi.settings import Settings
from dsi.submissions import EXPECTED, SubmissionLinks
from dsi.validation import MAX_ID, parse_id, parse_int, parse_paging

from . import records
from .dependencies import database, outbox, totals
from .models import ProcessedEvent
from .settings import DirectorySettings

redaction.install()  # no e-mail addresses or link tokens in this service's logs



class DirectoryService(SubmissionLinks, DatabaseHealth):
    submissions = records
    name = "directory"

    db = database
    outbox = outbox
    totals = totals
    settings = Settings(DirectorySettings)

    @property
    def public_url(self) -> str:
        return self.settings.public_url

    # --- submissions -------------------------------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def submit(self, body, submission_id=None):
        with self.db.get_session() as session:
            return records.submit(session, self.outbox, body, self.public_url, submission_id)

    @rpc(expected_exceptions=EXPECTED)
    def propose_edit(self, record_id, body, token, language="en"):
        """`language`: of the page the edit came from; its mails are written in it."""
        with self.db.get_session() as session:
            return records.propose_edit(session, self.outbox, parse_id(record_id, "record_id"), body, token,
                                        self.public_url, language)

    # --- public reads ------------------------------------------------------------------------------------------

    # The public reads outside a transaction (dsi.database.read_connection), the busiest on a bare connection: no
    # ORM session to make and close for them.

    @rpc(expected_exceptions=EXPECTED)
    def get_record(self, kind, record_id):
        record_id = parse_id(record_id, "record_id")
        with self.db.read_connection() as connection:
            return records.get_published(connection, kind, record_id)

    @rpc(expected_exceptions=EXPECTED)
    def editable_record(self, record_id, token):
        with self.db.get_session() as session:
            return records.get_for_edit(session, parse_id(record_id, "record_id"), token)

    @rpc(expected_exceptions=EXPECTED)
    def find_by_names(self, kind, names):
        """The join form's organisations typed by name: which are published records already."""
        if not isinstance(names, list) or len(names) > 20 or not all(isinstance(name, str) for name in names):
            raise InvalidInput("Expected a list of at most 20 names.", {"names": "a list of at most 20 names"})
        with self.db.read_session() as session:
            return records.published_by_name(session, kind, [name[:200] for name in names])

    @rpc(expected_exceptions=EXPECTED)
    def list_records(self, kind, filters=None, page=1, per_page=20):
        page, per_page = parse_paging(page, per_page)
        with self.db.read_connection() as connection:
            return records.list_published(connection, kind, filters or {}, page, per_page, self.totals)

    @rpc(expected_exceptions=EXPECTED)
    def export_published(self, after_id=0, limit=500):
        after_id, limit = parse_int(after_id, "after_id", 0, MAX_ID), parse_int(limit, "limit", 1, 1000)
        with self.db.read_session() as session:
            return records.export_published(session, after_id, limit)

    @rpc
    def stats(self):
        with self.db.read_session() as session:
            return records.stats(session)

    @rpc
    def vocabularies(self):
        return records.vocabularies()

    # --- moderation outcomes -----------------------------------------------------------------------------------

    def _apply_once(self, event, apply):
        with self.db.get_session() as session:
            if first_delivery(session, ProcessedEvent, event):
                apply(session, self.outbox, event)
        self._forget_totals()  # this instance's at once; every instance's on the events below

    def _forget_totals(self):
        self.totals.forget()

    # Published records changed, here or elsewhere (another instance, `dsi demo-data`): the lists' totals are out of
    # date.
    forget_totals_on_published = forgets_on(events.DIRECTORY, events.RECORD_PUBLISHED, _forget_totals)
    forget_totals_on_unpublished = forgets_on(events.DIRECTORY, events.RECORD_UNPUBLISHED, _forget_totals)

    def _apply_decision(self, event):
        self._apply_once(event, partial(records.apply_decision, public_url=self.public_url))

    on_approved = handles(events.MODERATION, events.SUBMISSION_APPROVED, _apply_decision)
    on_rejected = handles(events.MODERATION, events.SUBMISSION_REJECTED, _apply_decision)
    on_changes_requested = handles(events.MODERATION, events.CHANGES_REQUESTED, _apply_decision)
    on_hidden = handles(events.MODERATION, events.RECORD_HIDDEN, _apply_once, records.set_visibility)
    on_restored = handles(events.MODERATION, events.RECORD_RESTORED, _apply_once, records.set_visibility)

    # --- outbox ------------------------------------------------------------------------------------------------

    @timer(interval=1)
    def relay_outbox(self):
        """Sends what a worker could not: after a crash, a broker outage, or before consumers bound their queues."""
        self.outbox.relay(self.db.engine)
