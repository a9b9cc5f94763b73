"""One timer tick of sending: transactional mails, then every running edition, each for a bounded slice of
time so that the service stops promptly and the timer can fire again. Plain code: the bench calls it too."""
import logging
import time

from dsi.clock import utcnow
from dsi.lifecycle import stopping

from . import delivery, editions, mails, subscribers
from .delivery import Dispatcher, Outcome
from .models import Edition, Mail, Recipient

log = logging.getLogger(__name__)


def deliver_mails(sessions, mailer, seconds: float = 5.0) -> Outcome:
    settings = mailer.settings
    deadline = time.monotonic() + seconds
    dispatcher = Dispatcher(sessions, Mail, mailer.owner, mailer.connect, mailer.pacer, settings.mails)
    keep_going = lambda: time.monotonic() < deadline and not stopping()  # noqa: E731
    outcome = dispatcher.run(mails.prepare(settings.smtp.sender), keep_going)
    with sessions.begin() as session:
        delivery.settle_stale(session, Mail, settings.sending_grace)
    return outcome


class _Gate:
    """`keep_going` of an edition's slice: within the time slice, and the edition still running and not over
    its error budget (looked up once a second, and after every error)."""

    def __init__(self, sessions, edition_id: int, seconds: float, max_errors: int):
        self.sessions, self.edition_id, self.max_errors = sessions, edition_id, max_errors
        self.deadline = time.monotonic() + seconds
        self.checked_at, self.open, self.errors_seen = 0.0, True, 0
        self.dispatcher = None

    def __call__(self) -> bool:
        now = time.monotonic()
        if now >= self.deadline or stopping():  # claimed copies not sent yet go back when their lease ends
            return False
        errors = self.dispatcher.errors if self.dispatcher else 0
        if now - self.checked_at >= 1.0 or errors != self.errors_seen:
            self.checked_at, self.errors_seen = now, errors
            with self.sessions() as session:
                state = session.get(Edition, self.edition_id).state
                # the failed rows alone: their partial index makes this look-up read only them
                failed = delivery.count(session, Recipient, delivery.FAILED,
                                        (Recipient.edition_id == self.edition_id,))
            self.open = state == editions.RUNNING and failed < self.max_errors
        return self.open


def send_edition(sessions, mailer, edition_id: int, seconds: float) -> dict:
    settings = mailer.settings
    with sessions() as session:
        edition = editions.get(session, edition_id)
    copies = editions.Copies(edition, settings.links, settings.smtp.sender)
    dispatcher = Dispatcher(sessions, Recipient, mailer.owner, mailer.connect, mailer.pacer, settings.editions,
                            scope=(Recipient.edition_id == edition_id,))
    gate = _Gate(sessions, edition_id, seconds, settings.max_errors)
    gate.dispatcher = dispatcher
    outcome = dispatcher.run(copies.prepare, gate)
    with sessions.begin() as session:
        if outcome.bounced:
            subscribers.mark_bounced(session, editions.failed_subscribers(session, outcome.bounced))
        counts = editions.progress(session, edition_id, settings.max_errors, settings.sending_grace)
    if outcome.sent or outcome.retried or outcome.failed or outcome.bounced:
        log.info("edition %s: sent %s, deferred %s, failed %s, bounced %s; totals %s", edition_id, outcome.sent,
                 outcome.retried, len(outcome.failed), len(outcome.bounced), counts)
    return counts


def send_editions(sessions, mailer, now=None) -> dict[int, dict]:
    with sessions.begin() as session:
        editions.start_due(session, now or utcnow())
    with sessions() as session:
        ids = editions.running(session)
    return {edition_id: send_edition(sessions, mailer, edition_id, mailer.settings.slice_seconds)
            for edition_id in ids}
