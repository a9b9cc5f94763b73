"""Editorial work: states, the scheduled publisher with two replicas, slugs and their redirects, revisions."""
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dsi import events, vocab
from dsi.errors import Conflict, InvalidInput, NotFound
from services.content import items, listing
from services.content.models import Item
from tests.content.conftest import EDITOR


def types(sent):
    return [event["type"] for event in sent]


def test_a_draft_is_invisible_until_published(session, outbox, make_item, sent_events):
    item = make_item("story", title="Open data in Riga")
    assert listing.list_published(session, "story")["total"] == 0
    with pytest.raises(NotFound):
        listing.get_published(session, "story", item.slug)
    assert events.CONTENT_PUBLISHED not in types(sent_events())

    items.transition(session, outbox, item.id, "publish", EDITOR)
    session.commit()
    page = listing.list_published(session, "story")
    assert page["total"] == 1
    assert page["items"][0] | {"name": "Open data in Riga", "kind": "story", "url": "/stories/open-data-in-riga"} \
        == page["items"][0]
    published = [e for e in sent_events() if e["type"] == events.CONTENT_PUBLISHED]
    assert len(published) == 1 and published[0]["payload"]["item"]["version"] == 1
    assert published[0]["payload"]["item"]["body_text"] == "Some text."


def test_publish_update_unpublish_archive_each_announced(session, outbox, make_item, sent_events):
    item = make_item("story", publish=True)
    items.update(session, outbox, item.id, {**item.source, "title": "A better title"}, EDITOR)
    items.transition(session, outbox, item.id, "unpublish", EDITOR)
    with pytest.raises(NotFound):
        listing.get_published(session, "story", item.slug)
    items.transition(session, outbox, item.id, "publish", EDITOR)
    items.transition(session, outbox, item.id, "archive", EDITOR)
    session.commit()
    assert types(sent_events()) == [events.CONTENT_PUBLISHED, events.CONTENT_UPDATED, events.CONTENT_UNPUBLISHED,
                                    events.CONTENT_PUBLISHED, events.CONTENT_UNPUBLISHED]
    versions = [e["payload"].get("version") or e["payload"]["item"]["version"] for e in sent_events()]
    assert versions == sorted(versions) and len(set(versions)) == 5
    with pytest.raises(Conflict):
        items.transition(session, outbox, item.id, "publish", EDITOR)  # archived is final
    with pytest.raises(Conflict):
        items.update(session, outbox, item.id, item.source, EDITOR)


def test_an_undated_event_cannot_be_published(session, outbox):
    item = items.create(session, outbox, "event", {"title": "Sometime"}, EDITOR)
    with pytest.raises(InvalidInput) as error:
        items.transition(session, outbox, item.id, "publish", EDITOR)
    assert "start" in error.value.details


def test_schedule_needs_a_future_time_with_offset(session, outbox, make_item, now):
    item = make_item("story")
    for bad in (None, "tomorrow", (now + timedelta(hours=1)).replace(tzinfo=None).isoformat(),
                (now - timedelta(minutes=1)).isoformat()):
        with pytest.raises(InvalidInput):
            items.transition(session, outbox, item.id, "schedule", EDITOR, bad)
    scheduled = items.transition(session, outbox, item.id, "schedule", EDITOR, (now + timedelta(hours=1)).isoformat())
    assert scheduled.state == items.SCHEDULED


def test_two_replicas_publish_a_due_item_once(session, outbox, make_item, content_db, now, sent_events):
    """Both replicas' timers see the item due; the conditional UPDATE lets only the first one publish it."""
    item = make_item("story")
    items.transition(session, outbox, item.id, "schedule", EDITOR, (now + timedelta(minutes=5)).isoformat())
    session.commit()
    later = now + timedelta(minutes=6)
    with Session(content_db) as replica_a, Session(content_db) as replica_b:
        assert items.due(replica_a, later) == [item.id] == items.due(replica_b, later)
        assert items.publish_scheduled(replica_a, outbox, item.id, later) is True
        replica_a.commit()
        assert items.publish_scheduled(replica_b, outbox, item.id, later) is False
        replica_b.commit()
    session.expire_all()
    assert session.get(Item, item.id).state == items.PUBLISHED
    assert types(sent_events()).count(events.CONTENT_PUBLISHED) == 1
    assert items.history(session, item.id)[-1]["actor"] == items.SCHEDULER


def test_an_item_not_due_yet_stays_scheduled(session, outbox, make_item, now):
    item = make_item("story")
    items.transition(session, outbox, item.id, "schedule", EDITOR, (now + timedelta(hours=2)).isoformat())
    session.commit()
    assert items.due(session, now + timedelta(hours=1)) == []
    assert items.publish_scheduled(session, outbox, item.id, now + timedelta(hours=1)) is False


def test_slugs_are_unique_per_kind_and_stable(session, outbox, make_item):
    first = make_item("story", title="Tech for good")
    second = make_item("story", title="Tech for good")
    event = make_item("event", title="Tech for good")
    assert (first.slug, second.slug, event.slug) == ("tech-for-good", "tech-for-good-2", "tech-for-good")
    items.update(session, outbox, first.id, {**first.source, "title": "Tech for the common good"}, EDITOR)
    assert first.slug == "tech-for-good"  # a new title keeps the URL
    with pytest.raises(Conflict):
        items.update(session, outbox, first.id, {**first.source, "slug": "tech-for-good-2"}, EDITOR)


@pytest.mark.parametrize("title, slug", [
    ("Łódź", "lodz"), ("Straße der Ärzte", "strasse-der-arzte"), ("Øresund & Ærø", "oresund-aero"),
    ("Œuvre d'Île", "oeuvre-d-ile"), ("Đakovo", "dakovo"), ("Þingvellir", "thingvellir"),
])
def test_slugs_transliterate_letters_rather_than_drop_them(title, slug):
    assert vocab.slugify(title) == slug


def test_a_changed_slug_redirects_from_the_old_one(session, outbox, make_item):
    item = make_item("story", title="Old name", publish=True)
    items.update(session, outbox, item.id, {**item.source, "slug": "new-name"}, EDITOR)
    items.update(session, outbox, item.id, {**item.source, "slug": "newest-name"}, EDITOR)
    session.commit()
    for old in ("old-name", "new-name"):
        assert listing.get_published(session, "story", old) == {
            "redirect": {"slug": "newest-name", "url": "/stories/newest-name"}}
    assert listing.get_published(session, "story", "newest-name")["id"] == item.id
    other = make_item("story", title="Another", slug="old-name", publish=True)  # a live slug beats a redirect
    assert listing.get_published(session, "story", "old-name")["id"] == other.id


def test_revisions_record_who_what_and_restore(session, outbox, make_item):
    item = make_item("story", title="First title", summary="First standfirst")
    items.update(session, outbox, item.id, {**item.source, "title": "Second title"}, "other@dsi.test")
    revisions = items.history(session, item.id)
    assert [(r["actor"], r["action"]) for r in revisions] == [(EDITOR, "created"), ("other@dsi.test", "updated")]
    assert revisions[1]["changes"] == [{"field": "title", "before": "First title", "after": "Second title"}]

    items.restore(session, outbox, item.id, revisions[0]["id"], EDITOR)
    assert item.title == "First title" and item.summary == "First standfirst"
    last = items.history(session, item.id)[-1]
    assert last["action"] == f"restored:{revisions[0]['id']}" and last["changed_fields"] == ["title"]
    with pytest.raises(NotFound):
        items.restore(session, outbox, item.id, 999_999, EDITOR)


def test_invalid_fields_name_the_field(session, outbox):
    with pytest.raises(InvalidInput) as error:
        items.create(session, outbox, "story", {"title": "", "category": "gossip", "summary": "x" * 301}, EDITOR)
    assert {"title", "category", "summary"} <= set(error.value.details)
    with pytest.raises(InvalidInput) as error:
        items.create(session, outbox, "event", {"title": "E", "timezone": "Mars/Olympus"}, EDITOR)
    assert "timezone" in error.value.details
    with pytest.raises(InvalidInput):
        items.create(session, outbox, "poem", {"title": "E"}, EDITOR)


def test_preview_link_shows_a_draft(session, make_item):
    item = make_item("story", title="Not yet")
    shown = items.preview_by_token(session, items.preview_token(item))
    assert shown["title"] == "Not yet" and shown["state"] == "draft"


def test_on_postgresql_a_racing_replica_waits_for_the_row_and_then_finds_it_published(
        session, outbox, make_item, database_url, now, sent_events):
    """Two replicas at the same moment: the second one's UPDATE blocks on the first's row lock and, once that
    commits, matches nothing. Replica B runs in a real OS thread (not a green one), so it can truly block."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers on the whole file; the interleaved test above covers it")
    import eventlet.patcher
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    threading = eventlet.patcher.original("threading")
    item = make_item("story")
    items.transition(session, outbox, item.id, "schedule", EDITOR, (now + timedelta(minutes=5)).isoformat())
    session.commit()
    later = now + timedelta(minutes=6)
    results = {}

    def replica_b():
        engine = create_engine(database_url, poolclass=NullPool)
        try:
            with Session(engine) as other:
                results["b"] = items.publish_scheduled(other, outbox, item.id, later)
                other.commit()
        except Exception as error:  # reported below
            results["b"] = error
        finally:
            engine.dispose()

    with Session(session.get_bind()) as replica_a:
        assert items.publish_scheduled(replica_a, outbox, item.id, later) is True  # holds the row, uncommitted
        racer = threading.Thread(target=replica_b)
        racer.start()
        racer.join(0.5)  # B is now waiting for A's row lock (or has not reached it yet: the outcome is the same)
        replica_a.commit()
    racer.join()
    assert results["b"] is False
    assert types(sent_events()).count(events.CONTENT_PUBLISHED) == 1


def test_a_slug_taken_at_the_same_moment_is_a_conflict(session, outbox, make_item, monkeypatch):
    make_item("story", title="Same title")
    monkeypatch.setattr(items, "_taken", lambda *args: False)  # as if the other editor committed after our check
    with pytest.raises(Conflict) as error:
        items.create(session, outbox, "story", {"title": "Same title"}, EDITOR)
    assert error.value.details == {"slug": "already used"}


def test_a_save_over_someone_elses_later_save_is_a_conflict(session, outbox, make_item):
    item = make_item("story", title="Shared", body="First text")
    opened = items.editor_view(item)["edit_version"]  # both editors open the same version
    items.update(session, outbox, item.id, {**item.source, "body": "Ada's text"}, "ada@dsi.test",
                 expected_version=opened)
    session.commit()
    with pytest.raises(Conflict) as error:
        items.update(session, outbox, item.id, {**item.source, "body": "Grace's text"}, "grace@dsi.test",
                     expected_version=str(opened))
    session.rollback()
    assert "ada@dsi.test saved this item" in error.value.message and "not saved" in error.value.message
    latest = session.get(Item, item.id).edit_version
    assert latest > opened and error.value.details == {"version": latest, "reason": "edited_meanwhile"}
    assert session.get(Item, item.id).body == "Ada's text"
    # saving again over the version the conflict named replaces it, knowingly
    items.update(session, outbox, item.id, {**item.source, "body": "Grace's text"}, "grace@dsi.test",
                 expected_version=f'"{latest}"')
    assert session.get(Item, item.id).body == "Grace's text"
    with pytest.raises(InvalidInput):
        items.update(session, outbox, item.id, item.source, "grace@dsi.test", expected_version="three")


def test_two_saves_racing_from_the_same_version_cannot_both_win(session, outbox, make_item, content_db):
    """Both pass the version check before either writes: the version counter in the UPDATE refuses the second."""
    item = make_item("story", title="Raced", body="Start")
    with Session(content_db) as ada, Session(content_db) as grace:
        opened = items.get(ada, item.id).edit_version
        items.get(grace, item.id)  # loaded at the same version, before Ada writes
        items.update(ada, outbox, item.id, {**item.source, "body": "Ada"}, "ada@dsi.test", expected_version=opened)
        ada.commit()
        with pytest.raises(Conflict) as error:
            items.update(grace, outbox, item.id, {**item.source, "body": "Grace"}, "grace@dsi.test",
                         expected_version=opened)
    assert error.value.details["reason"] == "edited_meanwhile"
    session.expire_all()
    assert session.get(Item, item.id).body == "Ada"


def test_a_bulk_load_publishes_items_as_create_derives_them(session, outbox, sent_events):
    loaded = items.load_published(session, [
        ("story", {"title": "Bulk story", "body": "Some *text*.", "cluster": "health-and-care"}),
        ("event", {"title": "Bulk event", "start": "2030-05-01T10:00:00", "timezone": "Europe/Warsaw",
                   "country": "PL"}),
        ("funding", {"title": "Bulk call", "closes_on": "2030-06-01", "countries": ["PL"]}),
    ], EDITOR, origin="bench")
    session.commit()
    assert loaded == 3
    story = listing.get_published(session, "story", "bulk-story")
    assert story["body_html"].strip() == "<p>Some <em>text</em>.</p>" and story["cluster"]["value"] == "health-and-care"
    event = listing.get_published(session, "event", "bulk-event")
    assert event["starts_at"].startswith("2030-05-01T08:00:00")  # 10:00 in Warsaw, in UTC
    assert listing.list_published(session, "funding", {"country": "PL"})["total"] == 1
    assert sent_events() == []  # no event per item: a reindex tells search
    with pytest.raises(Conflict):
        items.load_published(session, [("story", {"title": "Bulk story"})], EDITOR)
