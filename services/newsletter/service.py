"""Newsletter service: subscribers, the monthly digest, and the platform's mailer.

Entrypoints only: each parses, calls the domain (subscribers, editions, mails, sending) and returns.
"""
from datetime import datetime

from dsi import events, redaction
from dsi.database import DatabaseHealth
from dsi.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from dsi.clock import parse_iso, utcnow
from dsi.lifecycle import timer
from dsi.messaging import first_delivery, handles, rpc, session_rpc
from dsi.validation import parse_paging

from . import editions, mails, sending, subscribers
from .dependencies import database, mailer
from .models import ProcessedEvent

redaction.install()  # no e-mail addresses or link tokens in this service's logs

EXPECTED = (InvalidInput, NotFound, Conflict, Forbidden, RateLimited)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise InvalidInput("A time is written in ISO 8601.", {"at": "expected a time like 2026-12-03T09:00:00Z"})


class NewsletterService(DatabaseHealth):
    name = "newsletter"

    db = database
    mailer = mailer

    @property
    def sessions(self):
        return self.mailer.sessions(self.db.engine)

    # --- subscribers (public, through the gateway) -------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def subscribe(self, body, client="", request_id=None):
        with self.db.get_session() as session:
            return subscribers.subscribe(session, body, client, self.mailer.settings.links,
                                         self.mailer.settings.limits, request_id)

    confirm = session_rpc(subscribers.confirm, EXPECTED)
    unsubscribe = session_rpc(subscribers.unsubscribe, EXPECTED)
    get_preferences = session_rpc(subscribers.preferences, EXPECTED)
    update_preferences = session_rpc(subscribers.update_preferences, EXPECTED)
    export_subscriber = session_rpc(subscribers.export, EXPECTED)
    erase_subscriber = session_rpc(subscribers.erase, EXPECTED)

    # --- operators -------------------------------------------------------------------------------------------

    @rpc
    def purge_signups(self):
        with self.db.get_session() as session:
            return subscribers.purge(session, self.mailer.settings.limits)

    # --- the public archive ------------------------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def list_archive(self, page=1, per_page=20):
        with self.db.get_session() as session:
            return editions.archive(session, *parse_paging(page, per_page))

    @rpc(expected_exceptions=EXPECTED)
    def get_archived(self, month):
        with self.db.get_session() as session:
            return editions.archived(session, month, self.mailer.settings.public_url)

    # --- editors (CLI now, the staff console later) ------------------------------------------------------------

    list_editions = session_rpc(editions.overview, EXPECTED)

    @rpc(expected_exceptions=EXPECTED)
    def create_edition(self, month):
        with self.db.get_session() as session:
            return editions.view(editions.create(session, month))

    edition_report = session_rpc(editions.report, EXPECTED)

    @rpc(expected_exceptions=EXPECTED)
    def preview_edition(self, edition_id, language="en", social_areas=()):
        with self.db.get_session() as session:
            return editions.preview(session, edition_id, language, social_areas, self.mailer.settings.links)

    @rpc(expected_exceptions=EXPECTED)
    def update_edition(self, edition_id, body):
        with self.db.get_session() as session:
            return editions.view(editions.change(session, edition_id, body))

    @rpc(expected_exceptions=EXPECTED)
    def edition_items(self, edition_id):
        """Each section's items: those the edition presents, in order, and those the editor dropped."""
        with self.db.get_session() as session:
            return editions.edition_candidates(session, edition_id)

    @rpc(expected_exceptions=EXPECTED)
    def arrange_edition(self, edition_id, body):
        """{"sections": {section: [ids kept, in order] | null}} before sending starts."""
        with self.db.get_session() as session:
            return editions.view(editions.arrange(session, edition_id, body))

    @rpc(expected_exceptions=EXPECTED)
    def send_test(self, edition_id, to, language="en"):
        with self.db.get_session() as session:
            return editions.send_test(session, edition_id, to, language, self.mailer.settings.links)

    @rpc(expected_exceptions=EXPECTED)
    def schedule_edition(self, edition_id, at=None):
        with self.db.get_session() as session:
            return editions.view(editions.act(session, edition_id, "schedule", _moment(at)))

    @rpc(expected_exceptions=EXPECTED)
    def edition_action(self, edition_id, action):
        """unschedule, pause, resume or cancel."""
        with self.db.get_session() as session:
            return editions.view(editions.act(session, edition_id, action))

    # --- events ------------------------------------------------------------------------------------------------

    def _apply_once(self, event, apply):
        with self.db.get_session() as session:
            if first_delivery(session, ProcessedEvent, event):
                apply(session, event)

    on_directory_mail = handles(events.DIRECTORY, events.MAIL_REQUESTED, _apply_once, mails.on_requested)
    on_moderation_mail = handles(events.MODERATION, events.MAIL_REQUESTED, _apply_once, mails.on_requested)
    on_content_mail = handles(events.CONTENT, events.MAIL_REQUESTED, _apply_once, mails.on_requested)
    on_record_published = handles(events.DIRECTORY, events.RECORD_PUBLISHED, _apply_once, editions.apply_published)
    on_record_unpublished = handles(events.DIRECTORY, events.RECORD_UNPUBLISHED,
                                    _apply_once, editions.apply_unpublished)
    on_content_published = handles(events.CONTENT, events.CONTENT_PUBLISHED,
                                   _apply_once, editions.apply_content_published)
    on_content_updated = handles(events.CONTENT, events.CONTENT_UPDATED, _apply_once, editions.apply_content_published)
    on_content_unpublished = handles(events.CONTENT, events.CONTENT_UNPUBLISHED,
                                     _apply_once, editions.apply_content_unpublished)

    # --- timers: each fires on every instance; the database decides who does what -----------------------------

    @timer(interval=1, eager=True)
    def deliver_mails(self):
        sending.deliver_mails(self.sessions, self.mailer)

    @timer(interval=1, eager=True)
    def send_editions(self):
        sending.send_editions(self.sessions, self.mailer)

    @timer(interval=300, eager=True)
    def plan_monthly_edition(self):
        with self.db.get_session() as session:
            editions.plan_month(session, utcnow(), self.mailer.settings.plan_delay_hours)

    @timer(interval=3600, eager=True)
    def purge(self):
        with self.db.get_session() as session:
            subscribers.purge(session, self.mailer.settings.limits)
