"""Content's published items in the index beside the directory's records: the same contract on every backend
(see conftest.engine), fed as content's events carry them (`make_item`)."""
import pytest

from dsi.errors import InvalidInput
from services.search.schemas import parse_params
from tests.helpers import paged_export


def search(engine, **params):
    return engine.query(parse_params(params))


def found(result):
    return [(item["kind"], item["name"]) for item in result["items"]]


def facet(result, name):
    return {entry["value"]: entry["count"] for entry in result["facets"][name]}


@pytest.fixture
def hub(engine, make_record, make_item):
    """Two records and one item of each content kind, some of them sharing ids with the records."""
    things = [
        make_record(1, "Waag Society", country="NL", city="Amsterdam"),
        make_record(2, "Care Map", kind="project", country="PL", social_areas=["health-and-care"]),
    ]
    for record in things:
        assert engine.record_published(record)
    items = [
        make_item(1, "Makers against loneliness", cluster="health-and-care", social_areas=["health-and-care"],
                  body_text="In Łódź, a fablab repairs hearing aids with volunteers every Thursday."),
        make_item(2, "Participatory budgets in Barcelona", kind="case_study", cluster="digital-democracy",
                  social_areas=["digital-democracy"], body_text="Decidim helped citizens to decide."),
        make_item(3, "DSI Fair 2026", kind="event", country="BE", city="Brussels",
                  body_text="A day of workshops on civic technology."),
        make_item(4, "Horizon civic tech call", kind="funding", europe_wide=False, countries=["ES", "IT"],
                  body_text="Grants for open-source tools.", funder_name="Fondazione Cariplo"),
        make_item(5, "Toolkit for digital inclusion", kind="resource", publisher="Nesta",
                  body_text="A guide for libraries."),
        make_item(6, "Health and care", kind="cluster", cluster="health-and-care",
                  body_text="The cluster of health and care innovators."),
    ]
    for item in items:
        assert engine.content_published(item)
    return things, items


def test_a_story_is_found_by_words_of_its_body_with_the_same_rules(engine, hub):
    assert found(search(engine, q="hearing aids")) == [("story", "Makers against loneliness")]
    assert found(search(engine, q="lodz"))[0] == ("story", "Makers against loneliness")  # folded
    assert found(search(engine, q="volunters"))[0] == ("story", "Makers against loneliness")  # one typo
    assert found(search(engine, q="thursd"))[0] == ("story", "Makers against loneliness")  # prefix while typing
    snippet = search(engine, q="hearing")["items"][0]["snippet"]
    assert "<mark>hearing</mark>" in snippet


def test_results_carry_the_items_own_id_and_url(engine, hub):
    story = search(engine, q="loneliness")["items"][0]
    assert (story["id"], story["kind"], story["url"]) == (1, "story", "/stories/makers-against-loneliness")
    record = search(engine, q="waag")["items"][0]
    assert (record["id"], record["kind"], record["url"]) == (1, "organisation", "/organisations/1")
    assert search(engine, q="budgets")["items"][0]["url"] == "/case-studies/participatory-budgets-in-barcelona"


def test_the_kind_facet_counts_every_kind(engine, hub):
    result = search(engine)
    assert result["total"] == 8  # ids shared by a record and an item are different documents
    assert facet(result, "kind") == {"organisation": 1, "project": 1, "story": 1, "case_study": 1, "event": 1,
                                     "funding": 1, "resource": 1, "cluster": 1}
    labels = {entry["value"]: entry["label"] for entry in result["facets"]["kind"]}
    assert labels["case_study"] == "Case study"
    assert found(search(engine, kind=["stories", "event"])) == [("event", "DSI Fair 2026"),
                                                                  ("story", "Makers against loneliness")]
    assert [kind for kind, _ in found(search(engine, kind="case-studies"))] == ["case_study"]


def test_filters_across_kinds(engine, hub):
    health = search(engine, social_areas=["health-and-care"])
    assert {kind for kind, _ in found(health)} == {"project", "story"}
    assert facet(search(engine), "cluster") == {"health-and-care": 2, "digital-democracy": 1}
    assert {kind for kind, _ in found(search(engine, cluster=["health-and-care"]))} == {"story", "cluster"}
    assert {name for _, name in found(search(engine, country=["ES"]))} == {"Horizon civic tech call"}
    assert {name for _, name in found(search(engine, country=["BE"]))} == {"DSI Fair 2026"}
    with pytest.raises(InvalidInput) as error:
        parse_params({"cluster": ["nowhere"]})
    assert "cluster" in error.value.details


def test_kind_specific_fields_and_translations_are_searchable(engine, hub, make_item):
    assert found(search(engine, q="cariplo")) == [("funding", "Horizon civic tech call")]
    assert found(search(engine, q="nesta")) == [("resource", "Toolkit for digital inclusion")]
    italian = make_item(7, "Open schools", translations={
        "it": {"title": "Scuole aperte", "summary": "", "body_html": "", "body_text": "Laboratori nelle scuole."}})
    engine.content_published(italian)
    assert found(search(engine, q="laboratori")) == [("story", "Open schools")]


def test_unpublished_items_leave_and_a_late_event_cannot_bring_them_back(engine, hub, make_item):
    story = hub[1][0]
    assert engine.content_unpublished(story["id"], 2)
    assert search(engine, q="loneliness")["total"] == 0
    assert not engine.content_published(story)  # version 1 arriving late
    assert search(engine, q="loneliness")["total"] == 0
    assert search(engine, q="waag")["total"] == 1  # record 1 shares the number, not the document
    assert engine.content_published({**story, "version": 3, "title": "Makers against isolation"})
    assert found(search(engine, q="isolation")) == [("story", "Makers against isolation")]


def test_an_update_replaces_and_an_older_one_is_ignored(engine, hub):
    event = hub[1][2]
    assert engine.content_published({**event, "version": 3, "title": "DSI Fair moved"})
    assert not engine.content_published({**event, "version": 2, "title": "DSI Fair stale"})
    assert found(search(engine, q="fair")) == [("event", "DSI Fair moved")]


def test_suggestions_include_content(engine, hub):
    suggestions = engine.suggest("makers", 8)
    assert {"id": 1, "kind": "story", "name": "Makers against loneliness",
            "url": "/stories/makers-against-loneliness"} in suggestions


def test_rebuild_takes_both_owners(engine, hub, make_item):
    records, items = hub
    result = engine.rebuild(paged_export(records), paged_export(items[1:] + [make_item(9, "A new story")]))
    assert result["documents"] == 8
    assert search(engine, q="loneliness")["total"] == 0
    assert found(search(engine, q="new story")) == [("story", "A new story")]
    assert search(engine, q="waag")["total"] == 1


def test_check_compares_each_owner_with_its_part(engine, hub, make_item):
    records, items = hub
    published = [items[0], {**items[1], "version": 2, "title": "Budgets revisited"}, *items[3:],
                 make_item(9, "A new story")]
    report = engine.check(paged_export(records), content_export=paged_export(published))
    assert (report["missing"], report["stale"], report["extra"]) == ([], [], [])
    content = report["content"]
    assert (content["missing"], content["stale"], content["extra"], report["in_sync"]) == ([9], [2], [3], False)
    fixed = engine.check(paged_export(records), fix=True, content_export=paged_export(published))
    assert fixed["fixed"] == 3
    assert engine.check(paged_export(records), content_export=paged_export(published))["in_sync"]
    assert search(engine, q="fair")["total"] == 0
    assert found(search(engine, q="revisited")) == [("case_study", "Budgets revisited")]
