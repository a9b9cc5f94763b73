"""Sending over real SMTP (the aiosmtpd sink in its own process): editions, retries, bounces, pauses, and
transactional mail. SQLite and PostgreSQL."""
import logging
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, select, text

from dsi import events
from services.newsletter import delivery, editions, mails, sending
from services.newsletter.models import Edition, Mail, Recipient, Subscriber
from tests.newsletter.conftest import wait_until
from tests.newsletter.factories import published, subscriber

PAST = datetime(2026, 11, 20, tzinfo=timezone.utc)


def start_edition(sessions, people, records=(published(1), published(2, kind="organisation"))):
    with sessions.begin() as session:
        for event in records:
            editions.apply_published(session, event)
        session.add_all(people)
        edition = editions.create(session, "2026-10", PAST)
        editions.change(session, edition.id, {"intro": "Welcome <b>all</b>"})
        editions.act(session, edition.id, "schedule", PAST)
    return edition.id


def send_until_settled(sessions, mailer, edition_id, seconds=30):
    def settled():
        sending.send_editions(sessions, mailer)
        with sessions() as session:
            return session.get(Edition, edition_id).state in ("finished", "paused")
    assert wait_until(settled, seconds, step=0.02)
    with sessions() as session:
        return session.get(Edition, edition_id), delivery.counts(session, Recipient)


def test_an_edition_reaches_every_confirmed_subscriber_once(sessions, sink, make_mailer):
    people = [subscriber(f"reader{n}@example.org") for n in range(30)]
    people += [subscriber("de@example.org", language="de", areas=["health-and-care"]),
               subscriber("pending@example.org", state="pending")]
    edition_id = start_edition(sessions, people)
    edition, counts = send_until_settled(sessions, make_mailer(), edition_id)
    assert edition.state == "finished" and counts == {"sent": 31}

    messages = sink.wait_for(31)
    assert sorted(m["X-Sink-Rcpt-To"] for m in messages) == sorted(p.email for p in people[:31])
    german = sink.to("de@example.org")[0]
    assert german["Subject"] == "DSI-Neuigkeiten: Oktober 2026"
    text = german.get_body(("plain",)).get_content()
    assert "Passend zu Ihren Interessen" in text and "Project 1" in text and "Organisation 2" in text
    html = german.get_body(("html",)).get_content()
    assert "Welcome &lt;b&gt;all&lt;/b&gt;" in html  # the editor's intro is text, escaped
    assert german["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = german["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("http://dsi.test/de/newsletter/unsubscribe?token=") and unsubscribe in html
    assert len({m["List-Unsubscribe"] for m in messages}) == 31  # a personal link each
    assert len({m["Message-ID"] for m in messages}) == 31


def test_temporary_failures_are_retried_and_permanent_ones_bounce(sessions, sink, make_mailer):
    people = [subscriber("ok@example.org"), subscriber("flaky@example.org"), subscriber("busy@example.org"),
              subscriber("bounce@example.org")]
    edition_id = start_edition(sessions, people)
    edition, counts = send_until_settled(sessions, make_mailer(), edition_id)
    assert edition.state == "finished"
    assert counts == {"sent": 2, "failed": 2}
    assert {m["X-Sink-Rcpt-To"] for m in sink.messages()} == {"ok@example.org", "flaky@example.org"}
    with sessions() as session:
        states = dict(session.execute(select(Subscriber.email, Subscriber.state)).all())
        busy = session.scalar(select(Recipient).join(Subscriber, Subscriber.id == Recipient.subscriber_id)
                              .where(Subscriber.email == "busy@example.org"))
    assert states["bounce@example.org"] == "bounced" and states["busy@example.org"] == "confirmed"
    assert busy.attempts == 3 and busy.last_error.startswith("end of DATA: 451")


def test_a_message_whose_answer_never_came_is_not_sent_again(sessions, sink, make_mailer):
    edition_id = start_edition(sessions, [subscriber("slow@example.org"), subscriber("ok@example.org")])
    edition, counts = send_until_settled(sessions, make_mailer(SMTP_TIMEOUT=1), edition_id)
    assert edition.state == "finished" and counts == {"sent": 1, "unconfirmed": 1}
    assert wait_until(lambda: len(sink.to("slow@example.org")) == 1)  # the server had taken it
    sending.send_editions(sessions, make_mailer())
    with sessions() as session:
        slow = session.scalar(select(Recipient).join(Subscriber, Subscriber.id == Recipient.subscriber_id)
                              .where(Subscriber.email == "slow@example.org"))
    assert (slow.state, slow.attempts) == ("unconfirmed", 0) and "no answer" in slow.last_error
    assert len(sink.to("slow@example.org")) == 1


def test_too_many_errors_pause_the_edition(sessions, sink, make_mailer):
    people = [subscriber(f"bounce{n}@example.org") for n in range(5)] + [subscriber("ok@example.org")]
    edition_id = start_edition(sessions, people)
    edition, counts = send_until_settled(sessions, make_mailer(MAX_ERRORS=3, SEND_CONCURRENCY=1, SEND_BATCH=1),
                                         edition_id)
    assert edition.state == "paused" and "failed deliveries" in edition.paused_reason
    assert counts.get("failed") == 3 and counts.get("queued", 0) + counts.get("claimed", 0) >= 1


def test_a_subscriber_who_leaves_meanwhile_is_skipped(sessions, sink, make_mailer):
    edition_id = start_edition(sessions, [subscriber("stay@example.org"), subscriber("leave@example.org")])
    with sessions.begin() as session:
        editions.start_due(session, datetime.now(timezone.utc))
        session.execute(Subscriber.__table__.update().where(Subscriber.email == "leave@example.org")
                        .values(state="unsubscribed"))
    edition, counts = send_until_settled(sessions, make_mailer(), edition_id)
    assert counts == {"sent": 1, "skipped": 1}
    assert [m["X-Sink-Rcpt-To"] for m in sink.wait_for(1)] == ["stay@example.org"]


def test_transactional_mail_is_stored_then_sent_without_logging_its_links(sessions, sink, make_mailer, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "http://dsi.test/submissions/1?token=SECRET-TOKEN"
    request = events.envelope(events.DIRECTORY, events.MAIL_REQUESTED, {
        "template": "submission_received", "to": "founder@example.org", "language": "en",
        "context": {"name": "Open Lab <script>", "kind": "organisation", "action": "create", "status_url": secret,
                    "confirm_url": secret + "-confirm", "status_token": "SECRET-TOKEN"}})
    unknown = events.envelope(events.MODERATION, events.MAIL_REQUESTED, {
        "template": "no_such_template", "to": "x@example.org", "language": "en", "context": {}})
    with sessions.begin() as session:
        mails.on_requested(session, request)
        mails.on_requested(session, request)  # redelivered: stored once
        mails.on_requested(session, unknown)
        mails.on_requested(session, {**unknown, "id": "broken", "payload": {"to": "nobody"}})
    outcome = sending.deliver_mails(sessions, make_mailer(), seconds=5)
    assert outcome.sent == 1
    [message] = sink.wait_for(1)
    assert message["Subject"] == "We received Open Lab <script>: it is waiting for review"
    assert secret in message.get_body(("plain",)).get_content()
    assert "Open Lab &lt;script&gt;" in message.get_body(("html",)).get_content()
    with sessions() as session:
        states = dict(session.execute(select(Mail.template, Mail.state)).all())
    assert states == {"submission_received": "sent", "no_such_template": "failed"}
    assert "SECRET-TOKEN" not in caplog.text and "founder@example.org" not in caplog.text


@contextmanager
def statements_of(engine):
    """(connection, SQL) of every statement run on `engine` meanwhile, and its transactions that were not in
    autocommit mode (a BEGIN and a COMMIT or ROLLBACK: round trips of their own on PostgreSQL)."""
    seen = {"statements": [], "transactions": []}

    def on_execute(conn, _cursor, statement, _parameters, _context, _many):
        seen["statements"].append((id(conn.connection.dbapi_connection), statement))

    def on_begin(conn):
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            seen["transactions"].append(conn)

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "begin", on_begin)


def test_a_message_costs_one_statement_and_no_transaction_of_its_own(sessions, sink, make_mailer):
    """A sender runs each step as one statement on an autocommit connection of its own: per message, the
    UPDATE that marks it sending (and the one before it sent); per batch, its claim, its readers' look-up and
    the mark of its last success."""
    edition_id = start_edition(sessions, [subscriber(f"reader{n}@example.org") for n in range(40)])
    with sessions.begin() as session:
        editions.start_due(session, datetime.now(timezone.utc))
        edition = editions.get(session, edition_id)
    mailer = make_mailer(SEND_CONCURRENCY=1, SEND_BATCH=20)
    settings = mailer.settings
    dispatcher = delivery.Dispatcher(sessions, Recipient, mailer.owner, mailer.connect, mailer.pacer,
                                     settings.editions, scope=(Recipient.edition_id == edition_id,))
    engine = sessions.kw["bind"]
    with statements_of(engine) as seen:
        outcome = dispatcher.run(editions.Copies(edition, settings.links, settings.smtp.sender).prepare)
    assert outcome.sent == 40 and len(sink.wait_for(40)) == 40
    assert seen["transactions"] == []
    statements = [sql for _, sql in seen["statements"]]
    # 2 batches × (claim, look-up, the mark of its last success) + 40 marks + the claim that found nothing
    assert len(statements) == 2 * 3 + 40 + 1, statements
    assert len({connection for connection, _ in seen["statements"]}) == 1
    with sessions() as session:
        assert delivery.counts(session, Recipient) == {"sent": 40}


def test_senders_give_their_connections_back_waiting_for_the_disk(sessions, sink, make_mailer):
    """A sender's connection runs in autocommit, and its marks' commits do not wait for the disk: nobody
    else's may."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    edition_id = start_edition(sessions, [subscriber(f"reader{n}@example.org") for n in range(30)])
    edition, counts = send_until_settled(sessions, make_mailer(SEND_CONCURRENCY=4, SEND_BATCH=5), edition_id)
    assert counts == {"sent": 30}
    pooled = [engine.connect() for _ in range(engine.pool.checkedin())]  # every connection the senders used
    try:
        assert pooled and {c.execute(text("SHOW synchronous_commit")).scalar() for c in pooled} == {"on"}
        assert not any(c.connection.dbapi_connection.autocommit for c in pooled)  # transactions as usual
    finally:
        for connection in pooled:
            connection.close()
