"""`dsi import-editorial` on the real texts of the original platform (read from ../shared/data/editorial)."""
from datetime import date

import pytest
from sqlalchemy import func, select

from dsi import events
from dsi.errors import InvalidInput
from services.content import demo, importer, listing
from services.content.models import Item, Revision, Translation
from tests.content.conftest import EDITORIAL_DATA

pytestmark = pytest.mark.skipif(not (EDITORIAL_DATA / "manifest.json").exists(),
                                reason="the editorial data is not on this machine")


def by_key(session, name):
    return session.scalar(select(Item).where(Item.import_key == f"editorial:{name}"))


def counts(session):
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (Item, Translation, Revision))


def test_imports_stories_event_and_report_without_inventing_dates(session, outbox, sent_events):
    summary = importer.import_editorial(session, outbox, EDITORIAL_DATA)
    session.commit()
    assert summary == {"published": 2, "drafts": 3, "unchanged": 0}

    migrants = by_key(session, "migrants-cross-borders.txt")
    assert (migrants.state, migrants.category, migrants.cluster) == ("published", "blog", "migration-and-integration")
    assert migrants.published_at.date() == date(2018, 1, 24)
    assert migrants.source["authors"] == ["Ben Mason (betterplace lab)"]
    assert migrants.summary.startswith("Ben Mason from betterplace lab introduces")
    assert migrants.body.startswith("For the past two and a half years")  # title, date and standfirst are not body

    article = by_key(session, "what-is-not-dsi.en.txt")
    assert article.state == "draft" and article.published_at is None  # the text gives no date
    assert article.cluster == "health-and-care"
    assert [(t.lang, t.title) for t in article.translations] == [("it", "Una definizione al contrario")]
    assert "Negli ultimi dieci anni" in article.translations[0].body_html
    assert by_key(session, "what-is-not-dsi.it.txt") is None  # a translation, not a story of its own

    event = by_key(session, "policy-event.txt")
    assert event.state == "draft" and event.starts_at is None and event.source["start"] is None
    assert (event.source["timezone"], event.country, event.is_free) == ("Europe/Brussels", "BE", True)
    assert event.source["city"] == "Brussels" and "European Parliament" in event.source["venue"]

    report = by_key(session, "dsiscale-report.txt")
    assert (report.kind, report.state, report.category) == ("resource", "draft", "report")
    assert report.source["year"] is None and report.source["publisher"] == "CORDIS, European Commission"
    assert report.source["resource_url"] == "https://cordis.europa.eu/project/id/780473"

    published = [e["payload"]["item"]["id"] for e in sent_events() if e["type"] == events.CONTENT_PUBLISHED]
    assert sorted(published) == sorted([migrants.id, by_key(session, "mapping-dsi-migration.txt").id])
    stories = listing.list_published(session, "story")
    assert [item["name"] for item in stories["items"]] == [
        "Mapping DSI: Migration and integration", "Migrants cross national borders – DSI must do the same"]


def test_a_second_import_changes_nothing(session, outbox):
    importer.import_editorial(session, outbox, EDITORIAL_DATA)
    session.commit()
    before = counts(session)
    assert importer.import_editorial(session, outbox, EDITORIAL_DATA) == {"published": 0, "drafts": 0,
                                                                           "unchanged": 5}
    session.commit()
    assert counts(session) == before


def test_the_italian_translation_shows_once_an_editor_publishes(session, outbox):
    from services.content import items
    importer.import_editorial(session, outbox, EDITORIAL_DATA)
    article = by_key(session, "what-is-not-dsi.en.txt")
    items.transition(session, outbox, article.id, "publish", "editor@dsi.test")
    session.commit()
    shown = listing.get_published(session, "story", article.slug, "it")
    assert (shown["title"], shown["lang"], shown["original_lang"]) == ("Una definizione al contrario", "it", "en")


def test_a_folder_without_manifest_is_refused(session, outbox, tmp_path):
    with pytest.raises(InvalidInput):
        importer.import_editorial(session, outbox, tmp_path)


def test_demo_set_fills_every_section_and_loads_once(session, outbox):
    today = date.today()
    assert demo.load_demo(session, outbox, today) > 0
    session.commit()
    before = counts(session)
    assert demo.load_demo(session, outbox, today) == 0
    assert counts(session) == before
    for kind in ("story", "case_study", "event", "funding", "resource", "cluster"):
        assert listing.list_published(session, kind)["total"] > 0, kind
    assert listing.list_published(session, "event", {"when": "past"})["total"] > 0
    assert listing.list_published(session, "funding", {"status": "closed"})["total"] > 0
    assert any(item["closing_soon"] for item in listing.list_published(session, "funding")["items"])
