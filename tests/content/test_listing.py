"""Public lists: each page's filters and order, the list contract, languages, cluster pages, the export."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from dsi.errors import InvalidInput
from services.content import items, listing
from services.content.views import public_item
from tests.helpers import statements_run


def local(days: int, hour: int = 10) -> str:
    return datetime.combine(date.today() + timedelta(days=days), datetime.min.time()).replace(hour=hour).isoformat()


@pytest.fixture
def some_events(make_item):
    make = lambda title, days, **fields: make_item("event", publish=True, title=title, start=local(days),  # noqa
                                                   **fields)
    return {
        "later": make("Later", 30, country="DE", attendance="in_person", cluster="health-and-care"),
        "soon": make("Soon", 2, attendance="online", free=True),
        "middle": make("Middle", 10, country="DE", attendance="hybrid", free=True),
        "past": make("Past", -5, country="FR"),
        "long_past": make("Long past", -50),
    }


def names(page):
    return [item["name"] for item in page["items"]]


def test_upcoming_events_soonest_first_and_past_latest_first(session, some_events):
    assert names(listing.list_published(session, "event")) == ["Soon", "Middle", "Later"]
    assert names(listing.list_published(session, "event", {"when": "past"})) == ["Past", "Long past"]


def test_event_filters(session, some_events):
    def only(**filters):
        return names(listing.list_published(session, "event", filters))
    assert only(country="de") == ["Middle", "Later"]
    assert only(attendance="online") == ["Soon"]
    assert only(free="true") == ["Soon", "Middle"]
    assert only(free="false") == ["Later"]
    assert only(cluster="Health and care") == ["Later"]
    month = (date.today() + timedelta(days=30)).strftime("%Y-%m")
    assert "Later" in only(month=month)
    with pytest.raises(InvalidInput) as error:
        only(month="2026-13", country="Narnia", attendance="telepathy")
    assert {"month", "country", "attendance"} <= set(error.value.details)


def test_a_list_statement_is_built_once_per_form_and_takes_each_call_its_values(session, some_events, some_calls):
    def only(kind, **filters):
        return names(listing.list_published(session, kind, filters))
    assert only("event", country="DE", attendance="hybrid") == ["Middle"]
    built = listing._page_statement.cache_info().misses
    assert only("event", country="DE", attendance="in_person") == ["Later"]
    assert only("event", country="FR", attendance="hybrid") == []
    assert listing._page_statement.cache_info().misses == built  # other values, the same statement
    assert only("event", country="FR", attendance="in_person", when="past") == ["Past"]  # `when` changes the form
    assert only("funding", country="PL") == ["Soon", "Rolling"]  # another kind's `country`: its own statement
    assert only("event", free="false") == ["Later"] and only("event", free="true") == ["Soon", "Middle"]


def test_an_event_in_progress_is_still_upcoming(session, make_item):
    make_item("event", publish=True, title="Going on", start=local(-1), end=local(1))
    assert names(listing.list_published(session, "event")) == ["Going on"]


@pytest.fixture
def some_calls(make_item):
    today = date.today()
    make = lambda title, **fields: make_item("funding", publish=True, title=title, **fields)  # noqa: E731
    return {
        "rolling": make("Rolling", rolling=True, europe_wide=True, funding_types=["Grant funding"]),
        "late": make("Late", closes_on=(today + timedelta(days=60)).isoformat(), countries=["ES"],
                     targets=["Startup"], funding_types=["Working spaces"]),
        "soon": make("Soon", closes_on=(today + timedelta(days=5)).isoformat(), countries=["PL"],
                     funding_types=["grant-funding"], targets=["individuals"]),
        "closed": make("Closed", closes_on=(today - timedelta(days=3)).isoformat(), countries=["ES"]),
    }


def test_open_calls_soonest_closing_first_rolling_last(session, some_calls):
    page = listing.list_published(session, "funding")
    assert names(page) == ["Soon", "Late", "Rolling"]
    assert [item["closing_soon"] for item in page["items"]] == [True, False, False]
    assert names(listing.list_published(session, "funding", {"status": "closed"})) == ["Closed"]


def test_funding_filters(session, some_calls):
    def only(**filters):
        return names(listing.list_published(session, "funding", filters))
    assert only(type="Grant funding") == ["Soon", "Rolling"]
    assert only(target="startup") == ["Late"]
    assert only(country="ES") == ["Late", "Rolling"]  # a Europe-wide call is open to Spain too
    closing = (date.today() + timedelta(days=30)).isoformat()
    assert only(closing_before=closing) == ["Soon"]
    with pytest.raises(InvalidInput):
        only(type="lottery")


def test_list_contract_and_bounds(session, make_item):
    for number in range(3):
        make_item("resource", publish=True, title=f"Guide {number}", resource_type="guide")
    page = listing.list_published(session, "resource", {"per_page": "2", "page": "2"})
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (3, 2, 2, 1)
    assert set(page["items"][0]) >= {"id", "kind", "name", "url"}
    assert page["items"][0]["url"].startswith("/resources/")
    for bad in ({"per_page": 101}, {"page": 0}, {"per_page": "many"}, {"colour": "red"}):
        with pytest.raises(InvalidInput):
            listing.list_published(session, "resource", bad)
    assert listing.list_published(session, "resource", {"type": "dataset"})["total"] == 0


def test_stories_filters_and_language(session, make_item):
    make_item("story", publish=True, title="English only", category="news", cluster="digital-democracy",
              social_areas=["Science"])
    make_item("story", publish=True, title="Translated", category="blog", lang="en",
              translations={"it": {"title": "Tradotto", "body": "Ciao"}})
    italian = listing.list_published(session, "story", {"lang": "it"})["items"]
    assert {(item["name"], item["lang"]) for item in italian} == {("English only", "en"), ("Tradotto", "it")}
    assert names(listing.list_published(session, "story", {"category": "news"})) == ["English only"]
    assert names(listing.list_published(session, "story", {"cluster": "digital-democracy"})) == ["English only"]
    assert names(listing.list_published(session, "story", {"area": "science"})) == ["English only"]
    detail = listing.get_published(session, "story", "translated", "it")
    assert (detail["title"], detail["lang"], detail["body_html"]) == ("Tradotto", "it", "<p>Ciao</p>")
    assert listing.get_published(session, "story", "translated", "de")["lang"] == "en"


def test_a_list_page_costs_the_same_few_statements_whatever_its_length(session, make_item):
    """No query per item (terms, translations, a body left unloaded) and no body read at all."""
    def statements_for_a_page():
        session.expunge_all()
        with statements_run(session.bind) as run:
            page = listing.list_published(session, "story", {"lang": "it"})
        assert all("body" not in item for item in page["items"])
        return [statement for statement, _parameters in run]

    translated = {"it": {"title": "Tradotto", "body": "Ciao"}}
    make_item("story", publish=True, social_areas=["Science"], translations=translated)
    few = statements_for_a_page()
    for _ in range(4):
        make_item("story", publish=True, social_areas=["Science"], translations=translated)
    many = statements_for_a_page()
    assert len(many) == len(few) == 1  # the page's rows with their terms and translations
    assert not any("body_html" in statement for statement in many if "FROM items" in statement)


def test_the_core_reads_show_what_the_orm_item_shows(session, some_calls, make_item):
    """Lists and item pages read rows with their terms and translations as JSON arrays (listing.public_row): the
    same view as the ORM item's, in every language, with terms in their order and translations in theirs."""
    translated = {lang: {"title": f"Title {lang}", "summary": f"Summary {lang}", "body": f"Body *{lang}*"}
                  for lang in ("pl", "de", "it")}
    make_item("story", publish=True, title="Story", category="blog", cluster="health-and-care",
              social_areas=["Science", "Health and care", "Culture and arts"], translations=translated)
    make_item("case_study", publish=True, title="Case", featured_position=2, organisation_id=7, translations=translated)
    make_item("event", publish=True, title="Event", country="DE", attendance="hybrid", free=True)
    make_item("resource", publish=True, title="Guide", resource_type="guide")
    today = date.today()
    for kind in ("story", "case_study", "event", "funding", "resource"):
        for lang in ("en", "it", "pl", "fr"):
            page = listing.list_published(session, kind, {"lang": lang})["items"]
            assert page, kind
            for shown in page:
                item = items.get(session, shown["id"])
                assert shown == public_item(item, lang, full=False, today=today)
                assert listing.get_published(session, kind, item.slug, lang) == public_item(item, lang)


@pytest.mark.parametrize("kind, filters", [("story", {}), ("story", {"category": "blog", "page": 3}),
                                           ("event", {}), ("event", {"when": "past"}), ("funding", {}),
                                           ("funding", {"status": "closed"}), ("resource", {})])
def test_each_list_order_reads_an_index_without_sorting(session, backend, kind, filters):
    if backend != "sqlite":
        pytest.skip("PostgreSQL's planner rightly scans a table this small; the index matters at size")
    query = listing.query_for(kind, listing.parse(listing.FILTERS[kind], filters, "?"), datetime.now(), date.today())
    compiled = query.compile(session.bind, compile_kwargs={"literal_binds": True})
    plan = " | ".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "USING INDEX ix_items_by_" in plan and "TEMP B-TREE" not in plan, plan


def test_cluster_page_gathers_its_sections(session, outbox, make_item):
    from services.content import demo
    demo.ensure_cluster_pages(session, outbox)
    make_item("story", publish=True, title="About health", cluster="health-and-care")
    make_item("story", publish=True, title="About food", cluster="food-environment-and-climate-change")
    make_item("event", publish=True, title="Health event", cluster="health-and-care")
    make_item("event", title="Draft event", cluster="health-and-care")
    page = listing.get_cluster(session, "health-and-care")
    assert page["lead_partner"] == "WeMake" and page["url"] == "/clusters/health-and-care"
    assert names({"items": page["stories"]}) == ["About health"]
    assert names({"items": page["events"]}) == ["Health event"]
    assert listing.list_published(session, "cluster")["total"] == 6


def test_export_pages_through_published_items_only(session, make_item):
    published = [make_item("story", publish=True).id for _ in range(3)]
    make_item("story")
    first = listing.export_published(session, 0, 2)
    rest = listing.export_published(session, first["next_after"], 2)
    assert [item["id"] for item in first["items"] + rest["items"]] == published
    assert rest["next_after"] is None


def test_stories_and_case_studies_about_a_directory_record(session, make_item):
    make_item("case_study", publish=True, title="About org 7", organisation_id=7, project_id=70)
    make_item("story", publish=True, title="Mentions org 7", related_organisations=[7, 8])
    make_item("story", publish=True, title="Mentions nobody")
    assert names(listing.list_published(session, "case_study", {"organisation": 7})) == ["About org 7"]
    assert names(listing.list_published(session, "case_study", {"project": 70})) == ["About org 7"]
    assert names(listing.list_published(session, "story", {"organisation": "7"})) == ["Mentions org 7"]
    assert listing.list_published(session, "story", {"organisation": 9})["total"] == 0


def test_the_home_page_sections_in_one_call(session, some_events, some_calls, make_item):
    make_item("story", publish=True, title="A story")
    make_item("case_study", publish=True, title="Featured", featured_position=1)
    make_item("case_study", publish=True, title="Not featured")
    sections = listing.home_sections(session, "de")
    assert [item["name"] for item in sections["stories"]] == ["A story"]
    assert [item["name"] for item in sections["case_studies"]] == ["Featured"]
    assert [item["name"] for item in sections["events"]] == ["Soon", "Middle", "Later"]
    assert [item["name"] for item in sections["funding"]] == ["Soon"]  # open and closing within 14 days only


def test_what_is_written_about_a_record_case_studies_first(session, make_item):
    make_item("story", publish=True, title="Mentions org 7", related_organisations=[7])
    make_item("case_study", publish=True, title="About org 7", organisation_id=7)
    make_item("story", publish=True, title="Mentions nobody")
    assert [item["name"] for item in listing.about_record(session, "organisation", 7)] == [
        "About org 7", "Mentions org 7"]
    with pytest.raises(InvalidInput):
        listing.about_record(session, "story", 7)
    make_item("case_study", title="A draft about project 9", project_id=9)
    assert listing.records_written_about(session) == {"organisation": [7], "project": []}
