"""The edition's content sections (from content's events), new records by creation date, the editor's
arrangement and per-language subjects: the domain on SQLite and PostgreSQL."""
from datetime import datetime, timezone

import pytest

from dsi import events
from dsi.errors import Conflict, InvalidInput
from services.newsletter import editions
from services.newsletter.models import Edition, PublishedContent
from tests.newsletter.factories import content_published, content_unpublished, published

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)  # composing October's edition early in November


def apply(session, *sent):
    for event in sent:
        if event["producer"] == events.CONTENT:
            if event["type"] == events.CONTENT_UNPUBLISHED:
                editions.apply_content_unpublished(session, event)
            else:
                editions.apply_content_published(session, event)
        elif event["type"] == events.RECORD_PUBLISHED:
            editions.apply_published(session, event)
    session.commit()


def _record(record_id, created_at, **more):
    event = published(record_id, **more)
    event["payload"]["record"]["created_at"] = created_at
    return event


@pytest.fixture
def month(session):
    """October 2026 as the read models heard of it."""
    apply(session,
          content_published(1, title="Health story", areas=["health-and-care"]),
          content_published(2, title="Democracy story", areas=["digital-democracy"]),
          content_published(3, title="General story"),
          content_published(4, title="September story", published_at="2026-09-30T10:00:00+00:00"),
          content_published(5, title="Withdrawn story"), content_unpublished(5, 2),
          content_published(10, kind="event", title="Next week", starts_at="2026-11-09T09:00:00+00:00",
                            city="Brussels", country_name="Belgium"),
          content_published(11, kind="event", title="Tomorrow", starts_at="2026-11-03T09:00:00+00:00"),
          content_published(12, kind="event", title="Already over", starts_at="2026-10-20T09:00:00+00:00"),
          content_published(13, kind="event", title="Next spring", starts_at="2027-04-01T09:00:00+00:00"),
          content_published(20, kind="funding", title="Closing in a month", closes_on="2026-12-01"),
          content_published(21, kind="funding", title="Closing in ten days", closes_on="2026-11-12"),
          content_published(22, kind="funding", title="Closing in March", closes_on="2027-03-01"),
          content_published(23, kind="funding", title="Rolling", rolling=True, closes_on=None),
          content_published(24, kind="funding", title="Closed", closes_on="2026-10-30"),
          _record(100, "2026-10-05T10:00:00+00:00", name="Created in October"),
          # imported from the original in October, created in 2017: not news
          _record(101, "2017-03-01T10:00:00+00:00", name="Imported", published_at="2026-10-20T10:00:00+00:00"),
          )


def titled(parts):
    return [(part["title"], [item["name"] for item in part["items"]]) for part in parts]


def test_the_sections_are_the_months_stories_coming_events_closing_funding_and_new_records(session, month):
    edition = editions.create(session, "2026-10", NOW)
    items = editions.edition_items(session, edition, NOW)
    parts = editions.sections(items, [], "en", "http://dsi.test")
    assert titled(parts) == [
        ("Stories of the month", ["Health story", "Democracy story", "General story"]),
        ("Coming events", ["Tomorrow", "Next week"]),
        ("Funding closing soon", ["Closing in ten days", "Closing in a month"]),
        ("New projects", ["Created in October"]),
    ]
    event = parts[1]["items"][1]
    assert event["url"] == "http://dsi.test/events/next-week"
    assert event["place"] == "November 9, 2026 · Brussels, Belgium"
    assert set(event) == set(editions.SHOWN)


def test_content_sections_follow_the_readers_areas(session, month):
    items = editions.edition_items(session, editions.create(session, "2026-10", NOW), NOW)
    parts = editions.sections(items, ["health-and-care"], "en", "http://dsi.test")
    assert titled(parts)[0] == ("Stories of the month", ["Health story", "General story"])  # no area: for all


def test_translations_are_shown_in_the_readers_language(session, month):
    apply(session, content_published(1, 2, title="Health story", areas=["health-and-care"], translations={
        "it": {"title": "Storia della salute", "summary": "Sulla salute.", "body_html": "", "body_text": ""}}))
    items = editions.edition_items(session, editions.create(session, "2026-10", NOW), NOW)
    parts = editions.sections(items, [], "it", "http://dsi.test")
    assert parts[0]["title"] == "Storie del mese"
    assert [item["name"] for item in parts[0]["items"]][:2] == ["Storia della salute", "Democracy story"]


def test_the_content_read_model_keeps_the_newest_version(session):
    apply(session, content_published(1, 2, title="Second"), content_published(1, 1, title="First"))
    assert session.get(PublishedContent, 1).title == "Second"
    apply(session, content_unpublished(1, 3), content_published(1, 2, title="Late"))
    row = session.get(PublishedContent, 1)
    assert (row.public, row.version) == (False, 3)
    apply(session, content_published(1, 4, title="Back", event_type=events.CONTENT_UPDATED))
    assert (session.get(PublishedContent, 1).public, session.get(PublishedContent, 1).title) == (True, "Back")


def test_the_editor_drops_and_reorders_before_sending_and_the_choice_is_frozen(session, month):
    edition = editions.create(session, "2026-10", NOW)
    session.commit()
    editions.arrange(session, edition.id, {"sections": {"stories": [3, 1], "events": [10]}}, NOW)
    session.commit()
    shown = editions.edition_candidates(session, edition.id, NOW)
    assert [item["id"] for item in shown["sections"]["stories"]["items"]] == [3, 1]
    assert [item["id"] for item in shown["sections"]["stories"]["dropped"]] == [2]
    assert [item["id"] for item in shown["sections"]["events"]["items"]] == [10]
    assert [item["id"] for item in shown["sections"]["funding"]["items"]] == [21, 20]  # not arranged: as is
    assert shown["sections"]["stories"]["items"][0]["url"] == "/stories/general-story"

    with pytest.raises(InvalidInput) as error:
        editions.arrange(session, edition.id, {"sections": {"stories": [4]}}, NOW)  # September's: not here
    assert "stories" in error.value.details
    for bad in ({"sections": {"letters": [1]}}, {"sections": {"stories": [1, 1]}}, {"sections": {}}, []):
        with pytest.raises(InvalidInput):
            editions.arrange(session, edition.id, bad, NOW)

    editions.act(session, edition.id, "schedule", NOW)
    editions.start_due(session, NOW)
    session.commit()
    frozen = session.get(Edition, edition.id).items
    assert [(item["section"], item["id"]) for item in frozen if item["section"] in ("stories", "events")] == [
        ("stories", 3), ("stories", 1), ("events", 10)]
    with pytest.raises(Conflict):
        editions.arrange(session, edition.id, {"sections": {"stories": [1]}}, NOW)
    # what a started edition presents is what it froze
    assert editions.edition_candidates(session, edition.id)["sections"]["stories"]["dropped"] == []


def test_an_arranged_section_goes_back_to_the_months_order(session, month):
    edition = editions.create(session, "2026-10", NOW)
    editions.arrange(session, edition.id, {"sections": {"stories": []}}, NOW)
    assert not [i for i in editions.edition_items(session, edition, NOW) if i["section"] == "stories"]
    editions.arrange(session, edition.id, {"sections": {"stories": None}}, NOW)
    assert len([i for i in editions.edition_items(session, edition, NOW) if i["section"] == "stories"]) == 3


def test_subject_and_introduction_per_language_with_fallback(session, month):
    edition = editions.create(session, "2026-10", NOW)
    assert editions.subject_of(edition, "de") == "DSI-Neuigkeiten: Oktober 2026"  # nothing written: generated
    editions.change(session, edition.id, {"subject": "October in DSI", "intro": "Hello all",
                                          "subjects": {"it": "Ottobre in DSI"}, "intros": {"it": "Ciao a tutti"}})
    assert editions.subject_of(edition, "it") == "Ottobre in DSI"
    assert editions.subject_of(edition, "fr") == "October in DSI"
    assert editions.intro_of(edition, "it") == "Ciao a tutti" and editions.intro_of(edition, "pl") == "Hello all"
    editions.change(session, edition.id, {"subjects": {"it": ""}})  # removed: falls back again
    assert editions.subject_of(edition, "it") == "October in DSI"
    with pytest.raises(InvalidInput):
        editions.change(session, edition.id, {"subjects": {"xx": "?"}})


def test_imported_records_are_not_the_months_news(session, month):
    assert [item["name"] for item in editions.month_items(session, "2026-10")] == ["Created in October"]
    assert [item["name"] for item in editions.month_items(session, "2017-03")] == ["Imported"]
