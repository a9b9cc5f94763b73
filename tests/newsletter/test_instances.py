"""Crash and scale: `nameko run` processes of the newsletter service sending one edition to a real SMTP sink.

Killed (SIGKILL) mid-send and restarted, or running as two instances at once: one edition is planned for the
month, and no subscriber receives it twice; every one receives it, but for a copy a kill cut off mid-message,
which is recorded as in doubt. SQLite and PostgreSQL."""
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsi.clock import utcnow
from dsi.migrations import upgrade
from services.newsletter import editions
from services.newsletter.delivery import UNCONFIRMED
from services.newsletter.models import Edition, Recipient, Subscriber
from tests.newsletter.conftest import wait_until
from tests.newsletter.factories import published, subscriber


SEND_CONCURRENCY = 8  # SMTP connections of an instance (config.yml default): at most one message in flight each


# The processes plan the edition of the month before today's, so the news is published in that month.
MONTH = editions.previous_month(utcnow())
SUBJECT = f"DSI news: {editions.month_label(MONTH, 'en')}"


def prepare(database_url, engine_for, readers: int):
    """Last month's news and `readers` confirmed subscribers: the planner schedules the edition at once (the
    processes give the editor no delay)."""
    upgrade("newsletter", database_url)
    engine = engine_for(database_url)
    with Session(engine) as session, session.begin():
        for record_id in range(1, 6):
            editions.apply_published(session, published(record_id, published_at=f"{MONTH}-15T10:00:00+00:00"))
        session.add_all([subscriber(f"reader{n}@example.org") for n in range(readers)])
    return engine


def edition_state(engine):
    with Session(engine) as session:
        return session.execute(select(Edition.month, Edition.state)).all()


def assert_each_got_exactly_one(sink, engine, readers: int, in_doubt: int = 0):
    """Nobody gets two copies. Everybody gets one, except at most `in_doubt` readers whose message a kill cut off
    between the commit of `sending` and its final dot: SMTP cannot tell whether such a copy arrived, so it is
    never resent and is recorded `unconfirmed` for the editor (services/newsletter/delivery.py)."""
    copies = Counter(m["X-Sink-Rcpt-To"] for m in sink.messages() if m["Subject"] == SUBJECT)
    with Session(engine) as session:
        rows = session.execute(select(Subscriber.email, Recipient.state)
                               .join(Subscriber, Subscriber.id == Recipient.subscriber_id)).all()
    missing = {email: state for email, state in rows if email not in copies}
    assert set(copies.values()) == {1}, {address: n for address, n in copies.items() if n > 1}
    assert len(copies) + len(missing) == readers
    assert len(missing) <= in_doubt and set(missing.values()) <= {UNCONFIRMED}, \
        f"{len(missing)} readers got nothing; their rows: {missing}"


def test_killed_mid_send_and_restarted_every_reader_gets_the_edition_once(
        database_url, engine_for, sink, service_processes):
    readers = 400
    engine = prepare(database_url, engine_for, readers)
    first = service_processes("first", database_url, NEWSLETTER_SEND_RATE=150)
    assert wait_until(lambda: sink.count() >= 100, 30, step=0.02), "the first instance did not start sending"
    first.kill()
    sent_before = sink.count()
    assert sent_before < readers, "the edition finished before the kill"
    assert edition_state(engine) == [(MONTH, "running")]

    service_processes("restarted", database_url, NEWSLETTER_SEND_RATE=400)
    assert wait_until(lambda: edition_state(engine) == [(MONTH, "finished")], 60)
    assert_each_got_exactly_one(sink, engine, readers, in_doubt=SEND_CONCURRENCY)


def test_two_instances_plan_one_edition_and_send_each_copy_once(database_url, engine_for, sink, service_processes):
    readers = 600
    engine = prepare(database_url, engine_for, readers)
    service_processes("one", database_url, NEWSLETTER_SEND_RATE=120)
    service_processes("two", database_url, NEWSLETTER_SEND_RATE=120)
    assert wait_until(lambda: edition_state(engine) == [(MONTH, "finished")], 60)
    assert_each_got_exactly_one(sink, engine, readers)
    with Session(engine) as session:
        owners = session.scalar(select(func.count(func.distinct(Recipient.claimed_by))))
    assert owners == 2  # both instances sent part of it
