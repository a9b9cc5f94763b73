"""The read model, editions and the send queue protocol, on SQLite and PostgreSQL."""
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from dsi.errors import Conflict, InvalidInput
from services.newsletter import delivery, editions
from services.newsletter.models import Edition, PublishedRecord, Recipient
from services.newsletter.subscribers import Links
from tests.helpers import statements_run
from tests.newsletter.factories import published, subscriber, unpublished

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # in the past: rows made "now" are due


def apply(session, *events):
    for event in events:
        if event["type"] == "record_published":
            editions.apply_published(session, event)
        else:
            editions.apply_unpublished(session, event)
    session.commit()


def test_the_read_model_keeps_the_newest_version_whatever_the_order(session):
    apply(session, published(1, 2, name="Second"), published(1, 1, name="First"), published(1, 2, name="Again"))
    assert session.get(PublishedRecord, 1).name == "Second"
    apply(session, unpublished(1, 3), published(1, 2, name="Late"))
    row = session.get(PublishedRecord, 1)
    assert (row.public, row.version) == (False, 3)
    apply(session, unpublished(2, 2), published(2, 1))  # unpublished before we ever saw it published
    assert session.get(PublishedRecord, 2).public is False
    apply(session, published(1, 4, name="Back"))
    assert session.get(PublishedRecord, 1).public is True


def test_a_months_items_are_exactly_its_newly_published_public_records(session):
    apply(session,
          published(1, published_at="2026-10-01T00:00:00+00:00"),
          published(2, kind="organisation", published_at="2026-10-31T23:59:59+00:00"),
          published(3, published_at="2026-09-30T23:59:59+00:00"),
          published(4, published_at="2026-11-01T00:00:00+00:00"),
          published(5, published_at="2026-10-10T00:00:00+00:00"), unpublished(5, 2),
          published(6, 2, published_at="2026-10-12T00:00:00+00:00"))  # an edit keeps its first publication
    assert [item["id"] for item in editions.month_items(session, "2026-10")] == [1, 6, 2]
    assert editions.month_items(session, "2026-10")[0]["summary"] == "What project 1 does & why."
    with pytest.raises(InvalidInput):
        editions.month_items(session, "2026-13")


def test_sections_put_the_readers_areas_first_and_show_every_item_once(session):
    apply(session, published(1, areas=["science"]), published(2, areas=["health-and-care"]),
          published(3, kind="organisation"))
    items = editions.month_items(session, "2026-10")

    parts = editions.sections(items, ["health-and-care"], "en", "http://dsi.test")
    assert [(s["title"], [i["id"] for i in s["items"]]) for s in parts] == [
        ("Picked for your interests", [2]), ("New projects", [1]), ("New organisations", [3])]
    assert parts[0]["items"][0]["url"] == "http://dsi.test/projects/2"


def in_parallel(url, work, count=4):
    """Run work(session) at once in `count` OS threads (one connection each), as instances would."""
    threading = eventlet.patcher.original("threading")
    results, errors, start = [], [], threading.Barrier(count)
    options = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}

    def run():
        engine = create_engine(url, poolclass=NullPool, **options)
        try:
            with Session(engine, expire_on_commit=False) as session:
                start.wait()
                results.append(work(session))
                session.commit()
        except Exception as error:
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


def test_one_edition_per_month_whoever_plans_it(session, database_url):
    assert editions.plan_month(session, NOW, 48) is None  # October had no news yet
    apply(session, published(1))
    planned = in_parallel(database_url, lambda other: editions.plan_month(other, NOW, 48))
    assert len(planned) == 4 and len([edition for edition in planned if edition]) == 1
    [edition] = session.scalars(select(Edition)).all()
    assert (edition.month, edition.state) == ("2026-10", "scheduled")
    assert edition.scheduled_at.replace(tzinfo=timezone.utc) == NOW  # planned late: it goes now, not in the past
    assert editions.plan_month(session, NOW, 48) is None


def test_planning_early_in_the_month_leaves_editors_time(session):
    apply(session, published(1))
    edition = editions.plan_month(session, datetime(2026, 11, 1, 0, 5, tzinfo=timezone.utc), 48)
    assert edition.scheduled_at.replace(tzinfo=timezone.utc) == datetime(2026, 11, 3, tzinfo=timezone.utc)


def test_editor_actions_follow_the_states(session):
    edition = editions.create(session, "2026-10", NOW)
    session.commit()
    with pytest.raises(Conflict):
        editions.create(session, "2026-10", NOW)
    with pytest.raises(InvalidInput):
        editions.create(session, "2027-01", NOW)
    editions.change(session, edition.id, {"intro": "Hello\n\nWorld", "subject": "October news"})
    assert editions.act(session, edition.id, "schedule").state == "scheduled"
    assert editions.act(session, edition.id, "unschedule").state == "draft"
    assert editions.act(session, edition.id, "schedule").state == "scheduled"
    assert editions.act(session, edition.id, "pause").state == "paused"
    assert editions.act(session, edition.id, "resume").state == "scheduled"  # it never started
    with pytest.raises(Conflict):
        editions.act(session, edition.id, "resume")
    with pytest.raises(InvalidInput):
        editions.act(session, edition.id, "explode")
    assert editions.act(session, edition.id, "cancel").state == "cancelled"
    with pytest.raises(Conflict):
        editions.change(session, edition.id, {"intro": "too late"})


def test_starting_freezes_items_and_checkpoints_confirmed_subscribers_once(session, database_url):
    apply(session, published(1), published(2, kind="organisation"))
    session.add_all([subscriber("a@example.org"), subscriber("b@example.org"),
                     subscriber("p@example.org", state="pending"), subscriber("u@example.org", state="unsubscribed")])
    edition = editions.create(session, "2026-10", NOW)
    editions.act(session, edition.id, "schedule", NOW)
    session.commit()
    started = in_parallel(database_url, lambda other: editions.start_due(other, NOW))
    assert sorted(started) == [[], [], [], [edition.id]]
    session.refresh(edition)
    assert edition.state == "running" and [item["id"] for item in edition.items] == [1, 2]
    assert session.scalar(select(func.count()).select_from(Recipient)) == 2


def _sending_edition(session, subscribers: int):
    """An edition of 2026-10 being sent to `subscribers` confirmed subscribers."""
    session.add_all([subscriber(f"s{n}@example.org") for n in range(subscribers)])
    edition = editions.create(session, "2026-10", NOW)
    editions.act(session, edition.id, "schedule", NOW)
    session.commit()
    editions.start_due(session, NOW)
    session.commit()
    return edition


def test_parallel_claims_never_overlap(session, database_url):
    _sending_edition(session, 40)
    owners = iter(range(100))
    claimed = in_parallel(database_url, lambda other: delivery.claim(other, Recipient, f"i{next(owners)}", 15, 60))
    ids = [row_id for batch in claimed for row_id, _ in batch]
    assert len(ids) == len(set(ids)) == 40


def test_a_claim_takes_the_oldest_due_rows_and_reads_them_from_the_claim_index(session):
    edition = _sending_edition(session, 6)
    ids = sorted(session.scalars(select(Recipient.id)))
    # the first two are retries, due since a minute after the rest
    session.execute(update(Recipient).where(Recipient.id.in_(ids[:2]))
                    .values(next_attempt_at=NOW + timedelta(minutes=1)))
    session.commit()
    engine = session.get_bind()
    with statements_run(engine) as statements:
        claimed = delivery.claim(session, Recipient, "a", 4, lease=60, scope=(Recipient.edition_id == edition.id,))
    assert [row_id for row_id, _ in claimed] == ids[2:]
    # the plan: the partial index gives the rows in claim order (no sort), whatever this tiny table's statistics
    [(statement, parameters)] = [(s, p) for s, p in statements if "candidates" in s]
    cursor = session.connection().connection.cursor()
    if engine.dialect.name == "postgresql":
        # on six rows a seq scan, or another index and a sort, costs about as much: the question is only whether
        # this index gives the claim order, so the planner is told to prefer any plan without those
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            session.execute(text(f"SET LOCAL {setting} TO off"))
        cursor.execute("EXPLAIN " + statement, parameters)
    else:
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
    plan = " ".join(str(column) for row in cursor.fetchall() for column in row)
    session.rollback()
    assert "ix_recipients_due" in plan and "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_claims_are_exclusive_and_a_lapsed_claim_is_taken_over(session, newsletter_db):
    _sending_edition(session, 10)
    with Session(newsletter_db) as other:
        mine = delivery.claim(session, Recipient, "a", 6, lease=60)
        session.commit()
        theirs = delivery.claim(other, Recipient, "b", 6, lease=60)
        other.commit()
        assert len(mine) == 6 and len(theirs) == 4 and not {i for i, _ in mine} & {i for i, _ in theirs}
        assert delivery.claim(session, Recipient, "c", 6, lease=60) == []
        session.commit()
        row_id = mine[0][0]
        assert not delivery.move(other, Recipient, row_id, "b", (delivery.CLAIMED,), state=delivery.SENDING)
        other.commit()
        taken = delivery.claim(other, Recipient, "b", 20, lease=-1)  # every claim has lapsed
        other.commit()
        assert {i for i, _ in taken} == {i for i, _ in mine} | {i for i, _ in theirs}
        assert not delivery.move(session, Recipient, row_id, "a", (delivery.CLAIMED,), state=delivery.SENDING)
        session.commit()
        assert delivery.move(other, Recipient, row_id, "b", (delivery.CLAIMED,), state=delivery.SENDING)
        other.commit()
    assert delivery.settle_stale(session, Recipient, older_than=-1) == 1
    session.commit()
    assert delivery.counts(session, Recipient) == {"claimed": 9, "unconfirmed": 1}


def test_a_send_starts_in_one_statement_that_also_records_the_previous_success(session, newsletter_db):
    _sending_edition(session, 3)
    first, second, third = (row_id for row_id, _ in delivery.claim(session, Recipient, "a", 3, lease=60))
    session.commit()
    assert delivery.mark(session.connection(), Recipient, "a", sending=first)
    session.commit()
    with Session(newsletter_db) as other:  # the first is with the server: only the others are claimed
        assert delivery.mark(other.connection(), Recipient, "a", sending=second, sent=first)
        other.commit()
        assert [row_id for row_id, _ in delivery.claim(other, Recipient, "b", 5, lease=-1)] == [third]
        other.commit()
    # the third was taken over: not ours to send, but the second's success is recorded all the same
    assert not delivery.mark(session.connection(), Recipient, "a", sending=third, sent=second)
    session.commit()
    rows = {row.id: row for row in session.scalars(select(Recipient).execution_options(populate_existing=True))}
    assert [(rows[i].state, rows[i].claimed_by) for i in (first, second, third)] == [
        ("sent", "a"), ("sent", "a"), ("claimed", "b")]
    assert rows[first].sent_at is not None and rows[third].sent_at is None
    assert delivery.settle_stale(session, Recipient, older_than=3600) == 0  # times stored as the claim's are


def test_a_marks_commit_does_not_wait_for_the_disk_and_leaves_the_connection_as_it_was(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    _sending_edition(session, 1)
    [(row_id, _)] = delivery.claim(session, Recipient, "a", 1, lease=60)
    session.commit()
    assert delivery.mark(session.connection(), Recipient, "a", sending=row_id)
    assert session.scalar(text("SHOW synchronous_commit")) == "off"  # for the transaction the mark ran in
    session.commit()
    assert session.scalar(text("SHOW synchronous_commit")) == "on"  # and for it only


def test_a_long_month_shows_the_first_items_and_links_to_the_rest(session):
    apply(session, *[published(n) for n in range(1, 106)], published(200, kind="organisation"))
    edition = editions.create(session, "2026-10", NOW)
    session.commit()
    shown = editions.preview(session, edition.id, "fr", [], Links("http://dsi.test"))
    assert shown["items"] == 106
    assert "… et 5 de plus sur le site" in shown["text"] and "Project 100" in shown["text"]
    assert "Project 101" not in shown["text"] and "Organisation 200" in shown["text"]
    assert "… et 5 de plus sur le site" in shown["html"]
    assert "… et 5 de plus sur le site: http://dsi.test/newsletter/archive/2026-10" in shown["text"]
