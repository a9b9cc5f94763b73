"""Subscribers: double opt-in, one-click unsubscribe, preferences, GDPR export and erase, purge of stale
sign-ups, rate limits. Plain functions over a session; callers commit.

The public answer to a sign-up never depends on whether the address is known: a new or pending address gets
a confirmation link, a confirmed one a note that nothing changed, and the requester sees the same reply."""
import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dsi import i18n, signing
from dsi.errors import Forbidden, NotFound, RateLimited
from dsi.messaging import first_delivery, utcnow

from . import mails
from .models import Edition, Mail, ProcessedEvent, RateLimitHit, Recipient, Subscriber, stamp
from .schemas import Preferences, Subscription, parse

PENDING, CONFIRMED, UNSUBSCRIBED, BOUNCED = "pending", "confirmed", "unsubscribed", "bounced"
STATES = (PENDING, CONFIRMED, UNSUBSCRIBED, BOUNCED)

CONFIRM, UNSUBSCRIBE, MANAGE = "newsletter-confirm", "newsletter-unsubscribe", "newsletter-preferences"
CONFIRM_MAX_AGE = 7 * 24 * 3600
LINK_MAX_AGE = 10 * 365 * 24 * 3600  # unsubscribe and preference links in old mails keep working

ACCEPTED = {
    "status": "accepted",
    "message": "Thank you. If this address can receive mail, a message with a confirmation link is on its way.",
}


@dataclass(frozen=True)
class Limits:
    per_client_hour: int = 10  # sign-ups one client (IP address) may make per hour
    per_address_day: int = 3  # mails one address may receive from sign-ups per day
    purge_after_days: int = 14  # unconfirmed sign-ups are deleted after this


@dataclass(frozen=True)
class Links:
    public_url: str

    def confirm(self, subscriber: Subscriber) -> str:
        token = signing.sign_ref(CONFIRM, subscriber.key, binding=subscriber.email)
        return self._page(subscriber, "confirm", token)

    def unsubscribe(self, subscriber: Subscriber) -> str:
        return self._page(subscriber, "unsubscribe", signing.sign_ref(UNSUBSCRIBE, subscriber.key))

    def preferences(self, subscriber: Subscriber) -> str:
        return self._page(subscriber, "preferences", signing.sign_ref(MANAGE, subscriber.key))

    def _page(self, subscriber: Subscriber, page: str, token: str) -> str:
        """A subscriber's page, in the language they chose."""
        return f"{self.public_url}{i18n.localised(subscriber.language, f'/newsletter/{page}')}?token={token}"

    @property
    def archive(self) -> str:
        return f"{self.public_url}/newsletter/archive"

    def edition(self, month: str) -> str:
        """The archive page of an edition, with every record it presents (once it is sent)."""
        return f"{self.public_url}/newsletter/archive/{month}"


def _digest(value: str) -> str:
    """Rate-limit keys hold no address or IP in clear."""
    return hashlib.sha256(value.encode()).hexdigest()[:40]


def count_hit(session, key: str, window_seconds: int) -> int:
    """Count one hit for `key` in the current fixed window; returns the window's count so far."""
    window = int(time.time()) // window_seconds * window_seconds
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(RateLimitHit)
        .values(key=key, window=window, count=1)
        .on_conflict_do_update(index_elements=["key", "window"], set_={"count": RateLimitHit.count + 1})
        .returning(RateLimitHit.count)
    )
    return session.execute(statement).scalar_one()


SIGN_UP = "newsletter.sign_up"  # the kind of request recorded under its idempotency key


def subscribe(session, body, client: str, links: Links, limits: Limits, request_id: str | None = None) -> dict:
    """A sign-up; `request_id` (the gateway's, kept with a spooled sign-up) makes a repeat of it change nothing,
    so a relayed copy neither subscribes twice nor mails a second confirmation."""
    data = parse(Subscription, body, "sign-up")
    if request_id is not None and not first_delivery(session, ProcessedEvent, {"id": str(request_id), "type": SIGN_UP}):
        return ACCEPTED
    if count_hit(session, "client:" + _digest(client or "unknown"), 3600) > limits.per_client_hour:
        raise RateLimited.because("too_many_signups", {"retry_after": 3600})
    if count_hit(session, "address:" + _digest(data.email), 86400) > limits.per_address_day:
        return ACCEPTED  # the same reply: whether the address is known stays private
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == data.email))
    if subscriber is None:
        subscriber = Subscriber(email=data.email, state=PENDING, key=uuid.uuid4().hex)
        session.add(subscriber)
    if subscriber.state == CONFIRMED:  # only the owner of the address may change their preferences
        session.flush()
        mails.enqueue(session, uuid.uuid4().hex, "subscription_exists", subscriber.email, subscriber.language,
                      {"preferences_url": links.preferences(subscriber)})
        return ACCEPTED
    subscriber.state = PENDING
    subscriber.language = data.language
    subscriber.social_areas = data.social_areas
    session.flush()
    mails.enqueue(session, uuid.uuid4().hex, "subscription_confirm", subscriber.email, subscriber.language,
                  {"confirm_url": links.confirm(subscriber)})
    return ACCEPTED


def view(subscriber: Subscriber) -> dict:
    return {"email": subscriber.email, "state": subscriber.state, "language": subscriber.language,
            "social_areas": list(subscriber.social_areas or []), "confirmed_at": stamp(subscriber.confirmed_at)}


def _key_of(purpose: str, token: str) -> str:
    """The subscriber key of an unsubscribe or preferences link: an id and a MAC, or the older form (a signed
    key, no personal data either) that mails sent before still carry."""
    try:
        return signing.unsign_ref(purpose, token, max_age=LINK_MAX_AGE)
    except Forbidden:
        return str(signing.unsign(purpose, token, LINK_MAX_AGE))


def _by_key(session, key) -> Subscriber:
    subscriber = session.scalar(select(Subscriber).where(Subscriber.key == str(key)))
    if subscriber is None:
        raise NotFound.because("subscription_gone")
    return subscriber


def confirm(session, token: str) -> dict:
    subscriber = _by_key(session, signing.ref_of(token))
    # bound to the address: a link mailed before the address was erased or re-used confirms nothing
    signing.unsign_ref(CONFIRM, token, binding=subscriber.email, max_age=CONFIRM_MAX_AGE)
    if subscriber.state != CONFIRMED:
        subscriber.state = CONFIRMED
        subscriber.confirmed_at = utcnow()
        subscriber.unsubscribed_at = subscriber.bounced_at = None
    return view(subscriber)


def unsubscribe(session, token: str) -> dict:
    """One request, no questions (RFC 8058); repeating it, or after an erase, changes nothing."""
    key = _key_of(UNSUBSCRIBE, token)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.key == str(key)))
    if subscriber is None:
        return {"state": UNSUBSCRIBED}
    if subscriber.state != UNSUBSCRIBED:
        subscriber.state = UNSUBSCRIBED
        subscriber.unsubscribed_at = utcnow()
    return view(subscriber)


def preferences(session, token: str) -> dict:
    subscriber = _by_key(session, _key_of(MANAGE, token))
    return {**view(subscriber), "unsubscribe_token": signing.sign_ref(UNSUBSCRIBE, subscriber.key)}


def update_preferences(session, token: str, body) -> dict:
    data = parse(Preferences, body, "preferences")
    subscriber = _by_key(session, _key_of(MANAGE, token))
    subscriber.language = data.language
    subscriber.social_areas = data.social_areas
    return view(subscriber)


def export(session, token: str) -> dict:
    """Everything we hold about the subscriber (GDPR art. 15 and 20)."""
    subscriber = _by_key(session, _key_of(MANAGE, token))
    received = session.execute(
        select(Edition.month, Edition.subject, Recipient.state, Recipient.sent_at)
        .join(Edition, Edition.id == Recipient.edition_id)
        .where(Recipient.subscriber_id == subscriber.id)
        .order_by(Edition.month)
    )
    sent_mails = session.execute(
        select(Mail.template, Mail.subject, Mail.state, Mail.created_at, Mail.sent_at)
        .where(Mail.to == subscriber.email).order_by(Mail.id)
    )
    return {
        "subscriber": {
            **view(subscriber),
            "created_at": stamp(subscriber.created_at),
            "unsubscribed_at": stamp(subscriber.unsubscribed_at),
            "bounced_at": stamp(subscriber.bounced_at),
        },
        "editions": [{"month": m, "subject": s, "state": st, "sent_at": stamp(at)} for m, s, st, at in received],
        "mails": [{"template": t, "subject": s, "state": st, "created_at": stamp(c), "sent_at": stamp(at)}
                  for t, s, st, c, at in sent_mails],
    }


def erase(session, token: str) -> dict:
    """Forget the subscriber (GDPR art. 17): their row, their place in editions, the mails we sent them."""
    subscriber = _by_key(session, _key_of(MANAGE, token))
    session.execute(delete(Recipient).where(Recipient.subscriber_id == subscriber.id))
    session.execute(delete(Mail).where(Mail.to == subscriber.email))
    session.execute(delete(RateLimitHit).where(RateLimitHit.key == "address:" + _digest(subscriber.email)))
    session.delete(subscriber)
    return {"erased": True}


def mark_bounced(session, subscriber_ids) -> None:
    session.execute(
        update(Subscriber).where(Subscriber.id.in_(list(subscriber_ids)), Subscriber.state == CONFIRMED)
        .values(state=BOUNCED, bounced_at=utcnow())
    )


def purge(session, limits: Limits) -> int:
    """Delete sign-ups never confirmed, and rate-limit windows that ended; returns how many sign-ups."""
    cutoff = utcnow() - timedelta(days=limits.purge_after_days)
    purged = session.execute(
        delete(Subscriber).where(Subscriber.state == PENDING, Subscriber.updated_at < cutoff)
    ).rowcount
    session.execute(delete(RateLimitHit).where(RateLimitHit.window < int(time.time()) - 2 * 86400))
    return purged
