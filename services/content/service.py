"""Content service: owns the editorial hub (stories, case studies, events, funding, resources, cluster pages),
its publishing workflow and the public's suggestions of events and funding.

Entrypoints only: each parses, calls the domain (items.py, listing.py, suggestions.py, images.py, ical.py)
inside one transaction, and returns. Editorial RPCs take the staff session cookie first and ask the moderation
service, which owns staff accounts, whether it belongs to an editor or an admin.
"""
from nameko.rpc import RpcProxy

from dsi import events, redaction
from dsi.database import DatabaseHealth
from dsi.errors import InvalidInput
from dsi.lifecycle import timer
from dsi.messaging import first_delivery, handles, rpc
from dsi.settings import Settings
from dsi.submissions import EXPECTED, SubmissionLinks

from . import ical, images, items, listing, suggestions
from .dependencies import database, media, outbox
from .kinds import KINDS, filter_names
from .models import ProcessedEvent
from .rendering import render
from .settings import ContentSettings

redaction.install()  # no e-mail addresses or link tokens in this service's logs

EDITORS = ("editor", "admin")


class ContentService(SubmissionLinks, DatabaseHealth):
    submissions = suggestions
    name = "content"

    db = database
    outbox = outbox
    media = media
    moderation = RpcProxy("moderation")
    settings = Settings(ContentSettings)

    @property
    def public_url(self) -> str:
        return self.settings.public_url

    def _editor(self, cookie) -> str:
        """The email of the editor or admin whose session cookie this is; Forbidden otherwise."""
        return self.moderation.whoami(cookie, list(EDITORS))["email"]

    # --- public reads ------------------------------------------------------------------------------------------

    @rpc
    def kinds(self):
        return {name: {"singular": kind.label_one, "plural": kind.label, "segment": kind.segment,
                       "filters": list(filter_names(kind)), "searchable": list(kind.searchable),
                       "facets": list(kind.facets)} for name, kind in KINDS.items()}

    @rpc(expected_exceptions=EXPECTED)
    def list_items(self, kind, filters=None):
        with self.db.read_session() as session:
            return listing.list_published(session, kind, filters)

    @rpc(expected_exceptions=EXPECTED)
    def home_sections(self, lang=None):
        """The home page's four sections in one call (one round trip instead of four)."""
        with self.db.read_session() as session:
            return listing.home_sections(session, lang)

    @rpc(expected_exceptions=EXPECTED)
    def about_record(self, kind, record_id, lang=None):
        """Case studies and stories about a directory record, for its page."""
        with self.db.read_session() as session:
            return listing.about_record(session, kind, record_id, lang)

    @rpc
    def records_written_about(self):
        """{"organisation": [ids], "project": [ids]}: the records some published case study or story is about."""
        with self.db.read_session() as session:
            return listing.records_written_about(session)

    @rpc(expected_exceptions=EXPECTED)
    def get_item(self, kind, slug, lang=None):
        with self.db.read_session() as session:
            return listing.get_published(session, kind, slug, lang)

    @rpc(expected_exceptions=EXPECTED)
    def get_cluster(self, slug, lang=None):
        with self.db.read_session() as session:
            return listing.get_cluster(session, slug, lang)

    @rpc(expected_exceptions=EXPECTED)
    def events_ics(self, filters=None):
        """Upcoming events under the page's filters as an iCalendar text."""
        with self.db.read_session() as session:
            return ical.calendar(listing.upcoming_events(session, filters), self.public_url).decode()

    @rpc(expected_exceptions=EXPECTED)
    def event_ics(self, slug):
        with self.db.read_session() as session:
            event = listing.published_event(session, slug)
            return ical.calendar([event], self.public_url, event.title).decode()

    @rpc
    def export_published(self, after_id=0, limit=500):
        with self.db.read_session() as session:
            return listing.export_published(session, after_id, limit)

    @rpc(expected_exceptions=EXPECTED)
    def preview(self, token, lang=None):
        """A draft through the signed preview link an editor shares."""
        with self.db.get_session() as session:
            return items.preview_by_token(session, token, lang)

    # --- suggestions from the public ---------------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def submit(self, body, submission_id=None):
        with self.db.get_session() as session:
            return suggestions.submit(session, self.outbox, body, self.public_url, submission_id)

    @rpc(expected_exceptions=EXPECTED)
    def suggestion_for_editing(self, submission_id, token):
        """A suggestion sent back for changes, through the signed link mailed to its suggester."""
        with self.db.get_session() as session:
            return suggestions.for_editing(session, submission_id, token)

    @rpc(expected_exceptions=EXPECTED)
    def resubmit(self, submission_id, token, body):
        with self.db.get_session() as session:
            return suggestions.resubmit(session, self.outbox, submission_id, token, body, self.public_url)

    # --- editorial work (editors and admins) -------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def editor_list(self, cookie, kind=None, state=None, q=None, page=1, per_page=25):
        self._editor(cookie)
        with self.db.get_session() as session:
            return listing.list_for_editors(session, kind, state, q, page, per_page)

    @rpc(expected_exceptions=EXPECTED)
    def editor_get(self, cookie, item_id):
        self._editor(cookie)
        with self.db.get_session() as session:
            return items.editor_view(items.get(session, item_id))

    @rpc(expected_exceptions=EXPECTED)
    def create(self, cookie, kind, body):
        actor = self._editor(cookie)
        with self.db.get_session() as session:
            return items.editor_view(items.create(session, self.outbox, kind, body, actor))

    @rpc(expected_exceptions=EXPECTED)
    def update(self, cookie, item_id, body, expected_version=None):
        """`expected_version`: the edit_version the editor opened; a later save by anyone else is a Conflict."""
        actor = self._editor(cookie)
        with self.db.get_session() as session:
            return items.editor_view(items.update(session, self.outbox, item_id, body, actor,
                                                  expected_version=expected_version))

    @rpc(expected_exceptions=EXPECTED)
    def render_preview(self, cookie, markdown):
        """The console's live preview: the HTML the Markdown will be published as."""
        self._editor(cookie)
        if not isinstance(markdown, str) or len(markdown) > 100_000:
            raise InvalidInput("Expected Markdown text up to 100,000 characters.", {"body": "invalid"})
        return {"html": render(markdown)}

    def _transition(self, cookie, item_id, action, publish_at=None):
        actor = self._editor(cookie)
        with self.db.get_session() as session:
            return items.editor_view(items.transition(session, self.outbox, item_id, action, actor, publish_at))

    @rpc(expected_exceptions=EXPECTED)
    def schedule(self, cookie, item_id, publish_at):
        return self._transition(cookie, item_id, "schedule", publish_at)

    @rpc(expected_exceptions=EXPECTED)
    def publish(self, cookie, item_id):
        return self._transition(cookie, item_id, "publish")

    @rpc(expected_exceptions=EXPECTED)
    def unpublish(self, cookie, item_id):
        return self._transition(cookie, item_id, "unpublish")

    @rpc(expected_exceptions=EXPECTED)
    def archive(self, cookie, item_id):
        return self._transition(cookie, item_id, "archive")

    @rpc(expected_exceptions=EXPECTED)
    def history(self, cookie, item_id):
        self._editor(cookie)
        with self.db.get_session() as session:
            return items.history(session, item_id)

    @rpc(expected_exceptions=EXPECTED)
    def restore(self, cookie, item_id, revision_id):
        actor = self._editor(cookie)
        with self.db.get_session() as session:
            return items.editor_view(items.restore(session, self.outbox, int(item_id), int(revision_id), actor))

    @rpc(expected_exceptions=EXPECTED)
    def upload_image(self, cookie, data_base64, alt):
        actor = self._editor(cookie)
        with self.db.get_session() as session:
            return images.upload(session, self.media, data_base64, alt, actor)

    # --- moderation outcomes of suggestions --------------------------------------------------------------------

    def _apply_once(self, event):
        with self.db.get_session() as session:
            if first_delivery(session, ProcessedEvent, event):
                suggestions.apply_decision(session, self.outbox, event, self.public_url)

    on_approved = handles(events.MODERATION, events.SUBMISSION_APPROVED, _apply_once)
    on_rejected = handles(events.MODERATION, events.SUBMISSION_REJECTED, _apply_once)
    on_changes_requested = handles(events.MODERATION, events.CHANGES_REQUESTED, _apply_once)

    # --- timers ------------------------------------------------------------------------------------------------

    @timer(interval=5)
    def publish_due(self):
        """Publishes scheduled items whose time has come; safe on every replica (see items.publish_scheduled)."""
        with self.db.get_session() as session:
            item_ids = items.due(session)
        for item_id in item_ids:  # one transaction each: one item's failure does not hold back the others
            with self.db.get_session() as session:
                items.publish_scheduled(session, self.outbox, item_id)

    @timer(interval=3600, eager=True)
    def prepare_calendar(self):
        """Writes the upcoming events' VEVENTs ahead of the first /events.ics (a thousand take ~0.2 s to write;
        each is kept per revision, so the feed answers from them; see ical.py)."""
        with self.db.get_session() as session:
            ical.calendar(listing.upcoming_events(session), self.public_url)

    @timer(interval=1)
    def relay_outbox(self):
        """Sends what a worker could not: after a crash, a broker outage, or before consumers bound their queues."""
        self.outbox.relay(self.db.engine)
