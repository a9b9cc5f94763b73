"""Double opt-in, unsubscribe, preferences, GDPR export and erase, purge and rate limits, on SQLite and
PostgreSQL."""
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select, update

from dsi import signing
from dsi.errors import Forbidden, InvalidInput, NotFound, RateLimited
from dsi.messaging import utcnow
from services.newsletter import subscribers
from services.newsletter.models import Mail, Subscriber
from services.newsletter.subscribers import Limits, Links

LINKS = Links("http://dsi.test")
LIMITS = Limits()


def sign_up(session, email="ada@example.org", client="10.0.0.1", limits=LIMITS, **fields):
    answer = subscribers.subscribe(session, {"email": email, **fields}, client, LINKS, limits)
    session.commit()
    return answer


def token_in(text: str, path: str) -> str:
    for word in text.split():
        if path in word:
            return parse_qs(urlparse(word).query)["token"][0]
    raise AssertionError(f"no link to {path} in {text!r}")


def mails_to(session, address):
    return session.scalars(select(Mail).where(Mail.to == address).order_by(Mail.id)).all()


def test_sign_up_is_pending_until_the_mailed_link_confirms_it(session):
    answer = sign_up(session, "Ada@Example.org", language="de", social_areas=["Health and care", "science"])
    assert answer == subscribers.ACCEPTED
    subscriber = session.scalar(select(Subscriber))
    assert (subscriber.email, subscriber.state, subscriber.language) == ("ada@example.org", "pending", "de")
    assert subscriber.social_areas == ["health-and-care", "science"]
    [mail] = mails_to(session, "ada@example.org")
    assert mail.template == "subscription_confirm" and mail.state == "queued"
    assert "Abonnement" in mail.subject  # in the subscriber's language

    view = subscribers.confirm(session, token_in(mail.text, "/newsletter/confirm"))
    session.commit()
    assert view["state"] == "confirmed"
    assert session.get(Subscriber, subscriber.id).confirmed_at is not None


def test_a_repeated_sign_up_request_subscribes_and_mails_once(session):
    """The gateway relays a spooled sign-up under its id, possibly more than once: only the first counts."""
    request_id = "8b0c6f6e-3f0e-4a57-9d55-4a0b8d7c1e2f"
    for _ in range(3):
        answer = subscribers.subscribe(session, {"email": "ada@example.org"}, "10.0.0.1", LINKS, LIMITS, request_id)
        session.commit()
        assert answer == subscribers.ACCEPTED
    assert len(mails_to(session, "ada@example.org")) == 1
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 1
    # a sign-up of its own (another id) is a new request: the visitor asked for another link
    subscribers.subscribe(session, {"email": "ada@example.org"}, "10.0.0.1", LINKS, LIMITS, str(uuid.uuid4()))
    session.commit()
    assert len(mails_to(session, "ada@example.org")) == 2


def test_the_answer_never_tells_whether_an_address_is_known(session):
    first = sign_up(session)
    subscribers.confirm(session, token_in(mails_to(session, "ada@example.org")[0].text, "/newsletter/confirm"))
    session.commit()
    again = sign_up(session, language="fr")
    assert again == first
    subscriber = session.scalar(select(Subscriber))
    assert subscriber.state == "confirmed" and subscriber.language == "en"  # a stranger cannot change them
    assert [m.template for m in mails_to(session, "ada@example.org")] == ["subscription_confirm", "subscription_exists"]


def test_bad_sign_ups_name_their_fields(session):
    with pytest.raises(InvalidInput) as caught:
        subscribers.subscribe(session, {"email": "not-an-address", "language": "xx", "social_areas": ["Astrology"]},
                              "10.0.0.1", LINKS, LIMITS)
    assert set(caught.value.details) == {"email", "language", "social_areas.0"}
    with pytest.raises(InvalidInput):
        subscribers.subscribe(session, ["ada@example.org"], "10.0.0.1", LINKS, LIMITS)


def test_rate_limits_per_client_and_per_address(session):
    limits = Limits(per_client_hour=3, per_address_day=2)
    for number in range(3):
        sign_up(session, f"person{number}@example.org", client="10.0.0.9", limits=limits)
    with pytest.raises(RateLimited):
        sign_up(session, "one.more@example.org", client="10.0.0.9", limits=limits)
    session.rollback()
    for client in ("10.0.1.1", "10.0.1.2", "10.0.1.3"):
        assert sign_up(session, "target@example.org", client=client, limits=limits) == subscribers.ACCEPTED
    assert len(mails_to(session, "target@example.org")) == 2  # the third request sent nothing, said the same


def test_confirm_links_are_checked(session):
    sign_up(session)
    token = token_in(mails_to(session, "ada@example.org")[0].text, "/newsletter/confirm")
    with pytest.raises(Forbidden):
        subscribers.confirm(session, token[:-2] + "xx")
    with pytest.raises(Forbidden):  # a token made for another purpose
        subscribers.confirm(session, signing.sign_ref(subscribers.UNSUBSCRIBE, session.scalar(select(Subscriber.key))))
    key = session.scalar(select(Subscriber.key))
    with pytest.raises(Forbidden):  # forged with the right key but bound to another address
        subscribers.confirm(session, signing.sign_ref(subscribers.CONFIRM, key, binding="mallory@example.org"))
    # the link names the subscription, not the person (a bare "ada" can turn up in the random hex key)
    assert "ada@example.org" not in token and "example.org" not in token
    assert token.split(".")[0] == key  # the random subscription key, a time and a MAC


def test_unsubscribe_is_one_request_and_repeatable(session):
    sign_up(session)
    subscriber = session.scalar(select(Subscriber))
    token = urlparse(LINKS.unsubscribe(subscriber)).query.removeprefix("token=")
    assert subscribers.unsubscribe(session, token)["state"] == "unsubscribed"
    assert subscribers.unsubscribe(session, token)["state"] == "unsubscribed"
    session.commit()
    assert session.get(Subscriber, subscriber.id).unsubscribed_at is not None


def test_preferences_export_and_erase(session):
    sign_up(session)
    subscriber = session.scalar(select(Subscriber))
    token = signing.sign_ref(subscribers.MANAGE, subscriber.key)
    changed = subscribers.update_preferences(session, token, {"language": "it", "social_areas": ["Science"]})
    assert (changed["language"], changed["social_areas"]) == ("it", ["science"])
    with pytest.raises(InvalidInput):
        subscribers.update_preferences(session, token, {"language": "klingon"})
    session.commit()

    exported = subscribers.export(session, token)
    assert exported["subscriber"]["email"] == "ada@example.org"
    assert [m["template"] for m in exported["mails"]] == ["subscription_confirm"]

    assert subscribers.erase(session, token) == {"erased": True}
    session.commit()
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert mails_to(session, "ada@example.org") == []
    with pytest.raises(NotFound):
        subscribers.preferences(session, token)
    unsubscribe = signing.sign_ref(subscribers.UNSUBSCRIBE, subscriber.key)
    assert subscribers.unsubscribe(session, unsubscribe) == {"state": "unsubscribed"}  # old links stay harmless
    legacy = signing.sign(subscribers.UNSUBSCRIBE, subscriber.key)  # the form mails sent before still carry
    assert subscribers.unsubscribe(session, legacy) == {"state": "unsubscribed"}


def test_stale_unconfirmed_sign_ups_are_purged(session):
    sign_up(session, "old@example.org")
    sign_up(session, "new@example.org")
    old = session.scalar(select(Subscriber).where(Subscriber.email == "old@example.org"))
    session.execute(update(Subscriber).where(Subscriber.id == old.id)
                    .values(updated_at=utcnow() - timedelta(days=LIMITS.purge_after_days + 1)))
    session.commit()
    assert subscribers.purge(session, LIMITS) == 1
    session.commit()
    assert session.scalars(select(Subscriber.email)).all() == ["new@example.org"]
