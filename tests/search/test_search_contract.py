"""The contract every backend keeps: one suite, run against each (see conftest.engine)."""
import eventlet
import pytest

from dsi.errors import InvalidInput
from services.search.backends import Find
from services.search.schemas import parse_params
from services.search.text import Terms
from tests.helpers import paged_export


def search(engine, **params):
    return engine.query(parse_params(params))


def names(result):
    return [item["name"] for item in result["items"]]


@pytest.fixture
def directory(engine, make_record):
    """A small directory: organisations and projects in several countries with facets."""
    records = [
        make_record(1, "Fundació Barceló", city="Palma", organisation_type="for-profit-business",
                    organisation_size="6-10", latitude=39.57, longitude=2.65),
        make_record(2, "Barcelona Activa", city="Barcelona", organisation_type="government-public-sector",
                    organisation_size="over-1000", latitude=41.39, longitude=2.17),
        make_record(3, "Waag Society", country="NL", city="Amsterdam", latitude=52.37, longitude=4.90,
                    organisation_type="social-enterprise-charity-foundation-or-other-non-profit",
                    long_description="<p>Makers of <b>open</b> technology for the commons.</p>"),
        make_record(4, "Fundacja ePaństwo", country="PL", city="Warszawa", latitude=52.23, longitude=21.01,
                    organisation_type="social-enterprise-charity-foundation-or-other-non-profit"),
        make_record(5, "Care Map", kind="project", country="PL", city="Kraków",
                    short_description="A map of community health services.",
                    social_areas=["health-and-care"], technologies=["open-data", "geotagging-gps-and-gis"],
                    dsi_focus=["open-data"]),
        make_record(6, "Decidim", kind="project", country="ES", city="Barcelona",
                    short_description="Participatory democracy platform.",
                    social_areas=["digital-democracy"], technologies=["digital-democracy-tools"],
                    dsi_focus=["open-knowledge"]),
        make_record(7, "Open Health Lab", kind="project", country="ES",
                    short_description="Citizen science for <health> & care.",
                    social_areas=["health-and-care", "science"], technologies=["open-data"],
                    dsi_focus=["open-data", "open-hardware"]),
    ]
    for record in records:
        assert engine.record_published(record)
    return records


def test_typos_are_tolerated_by_word_length(engine, directory):
    assert names(search(engine, q="Waag"))[0] == "Waag Society"
    assert "Waag Society" in names(search(engine, q="socity"))  # 6 letters: one typo
    assert "Decidim" in names(search(engine, q="decidm"))
    assert "Barcelona Activa" in names(search(engine, q="barcleona"))  # 9 letters: two typos (a swap counts one)
    assert names(search(engine, q="wagg")) == []  # 4 letters: no typo allowed


def test_prefix_matches_as_you_type(engine, directory):
    assert set(names(search(engine, q="barc"))) >= {"Barcelona Activa", "Decidim"}  # Decidim is in Barcelona
    assert names(search(engine, q="fundac"))[:2] != []
    assert set(names(search(engine, q="care m"))) == {"Care Map"}


def test_accents_fold_both_ways(engine, directory):
    assert names(search(engine, q="Barcelo"))[0] == "Fundació Barceló"
    assert names(search(engine, q="Barceló"))[0] == "Fundació Barceló"
    assert "Fundacja ePaństwo" in names(search(engine, q="epanstwo"))
    assert "Care Map" in names(search(engine, q="krakow"))


def test_name_is_boosted_over_other_fields(engine, directory):
    result = search(engine, q="barcelona")
    assert result["items"][0]["name"] == "Barcelona Activa"
    assert "Decidim" in names(result)


def test_snippets_mark_hits_and_escape_the_rest(engine, directory):
    [item] = search(engine, q="citizen science")["items"]
    assert item["snippet"] == "<mark>Citizen</mark> <mark>science</mark> for &lt;health&gt; &amp; care."
    [waag] = search(engine, q="commons")["items"]
    assert "<mark>commons</mark>" in waag["snippet"] and "<b>" not in waag["snippet"]
    assert set(waag) >= {"id", "kind", "name", "snippet", "short_description", "country", "country_name", "city",
                         "latitude", "longitude"}


def test_facets_or_within_and_across_with_counts_ignoring_own_selection(engine, directory):
    result = search(engine, country=["ES", "PL"], kind=["project"])
    assert set(names(result)) == {"Care Map", "Decidim", "Open Health Lab"}
    facets = {name: {entry["value"]: entry["count"] for entry in entries} for name, entries in result["facets"].items()}
    assert facets["country"] == {"ES": 2, "PL": 1}  # projects per country, whatever countries are chosen
    assert facets["kind"] == {"organisation": 3, "project": 3}  # ES+PL per kind, whatever kinds are chosen
    assert facets["social_areas"] == {"health-and-care": 2, "digital-democracy": 1, "science": 1}
    assert facets["dsi_focus"] == {"open-data": 2, "open-knowledge": 1, "open-hardware": 1}
    labels = {entry["value"]: entry["label"] for entry in result["facets"]["country"]}
    assert labels == {"ES": "Spain", "PL": "Poland"}
    narrowed = search(engine, kind=["project"], technologies=["open-data"], social_areas=["science"])
    assert names(narrowed) == ["Open Health Lab"]


def test_a_chosen_value_without_matches_stays_listed(engine, directory):
    result = search(engine, country=["FR"])
    assert result["total"] == 0
    assert {"value": "FR", "label": "France", "count": 0} in result["facets"]["country"]


def test_bounding_box(engine, directory):
    spain = search(engine, bbox="-10,35,5,44")
    assert set(names(spain)) == {"Fundació Barceló", "Barcelona Activa"}
    assert search(engine, bbox="170,-50,-170,-40")["total"] == 0  # across the antimeridian, nothing there
    europe = search(engine, bbox="-10,35,25,60", kind="organisation")
    assert europe["total"] == 4


def test_sorting(engine, directory):
    by_name = names(search(engine, sort="name", per_page=50))
    assert by_name == sorted(by_name, key=lambda name: name.lower().replace("ó", "o"))
    newest = search(engine, sort="newest", per_page=50)
    assert [item["id"] for item in newest["items"]] == [7, 6, 5, 4, 3, 2, 1]


def test_paging_is_stable_and_complete(engine, directory):
    pages = [search(engine, q="a", page=page, per_page=2) for page in (1, 2, 3, 4, 5)]
    ids = [item["id"] for page in pages for item in page["items"]]
    assert len(ids) == len(set(ids)) == pages[0]["total"]
    assert [item["id"] for item in search(engine, q="a", per_page=50)["items"]] == ids
    assert all(page["page"] == number and page["per_page"] == 2 for number, page in enumerate(pages, 1))


def test_did_you_mean_on_zero_hits(engine, directory):
    result = search(engine, q="hlth")
    assert result["total"] == 0
    assert result["did_you_mean"] == "health"
    assert search(engine, q="health")["did_you_mean"] is None
    assert search(engine, q="qqqqqqqqq")["did_you_mean"] is None


def test_suggest_completes_names(engine, directory):
    assert engine.suggest("fund", 8)[:2] != []
    assert {suggestion["name"] for suggestion in engine.suggest("fund", 8)} == {"Fundació Barceló",
                                                                                 "Fundacja ePaństwo"}
    assert engine.suggest("deci", 8) == [{"id": 6, "kind": "project", "name": "Decidim", "url": "/projects/6"}]
    assert engine.suggest("", 8) == []


def test_unpublished_is_never_searchable_even_if_an_old_version_arrives_late(engine, directory, make_record):
    assert engine.record_unpublished(3, 2)
    assert search(engine, q="waag")["total"] == 0
    assert not engine.record_published(make_record(3, "Waag Society", country="NL"))  # version 1: older
    assert search(engine, q="waag")["total"] == 0
    assert {"value": "NL", "label": "Netherlands", "count": 0} in search(engine, country="NL")["facets"]["country"]
    assert engine.record_published(make_record(3, "Waag Futurelab", country="NL", version=3))
    assert names(search(engine, q="waag")) == ["Waag Futurelab"]


def test_events_apply_once_and_only_forward(engine, directory, make_record):
    assert engine.record_published(make_record(6, "Decidim Barcelona", kind="project", version=2))
    assert not engine.record_published(make_record(6, "Decidim", kind="project", version=2))  # redelivered
    assert not engine.record_published(make_record(6, "Decidim old", kind="project", version=1))  # out of order
    assert names(search(engine, q="decidim")) == ["Decidim Barcelona"]


def test_a_burst_of_events_is_searchable_as_each_returns(engine, directory, make_record):
    """Events applied concurrently (the service's workers): each is searchable once its call returns, which
    is when its message is acked; the embedded backend groups them into shared commits meanwhile."""
    def publish_then_find(n):
        assert engine.record_published(make_record(100 + n, f"Burst b{n}x"))
        return names(search(engine, q=f"b{n}x"))

    found = list(eventlet.GreenPool(20).imap(publish_then_find, range(40)))
    assert found == [[f"Burst b{n}x"] for n in range(40)]
    assert search(engine, q="burst", per_page=100)["total"] == 40


def test_rebuild_swaps_in_a_new_index(engine, directory, make_record):
    published = [record for record in directory if record["id"] != 3] + [make_record(8, "Nesta", country="GB")]
    result = engine.rebuild(paged_export(published))
    assert result["documents"] == 7
    assert search(engine, q="waag")["total"] == 0
    assert names(search(engine, q="nesta")) == ["Nesta"]


def test_check_reports_and_fixes_drift(engine, directory, make_record):
    published = [record for record in directory if record["id"] != 3]
    published[0] = {**published[0], "version": 2, "name": "Fundació Barceló Nova"}
    published.append(make_record(8, "Nesta", country="GB"))
    report = engine.check(paged_export(published))
    assert (report["missing"], report["stale"], report["extra"], report["in_sync"]) == ([8], [1], [3], False)
    fixed = engine.check(paged_export(published), fix=True)
    assert fixed["fixed"] == 3
    assert engine.check(paged_export(published))["in_sync"]
    assert search(engine, q="waag")["total"] == 0
    assert names(search(engine, q="nova")) == ["Fundació Barceló Nova"]


@pytest.mark.parametrize("params, field", [
    ({"kind": ["spaceship"]}, "kind"),
    ({"country": "Spain"}, "country"),
    ({"technologies": ["telepathy"]}, "technologies"),
    ({"sort": "random"}, "sort"),
    ({"page": 0}, "page"),
    ({"per_page": 1000}, "per_page"),
    ({"page": 1_000_000_000}, "page"),  # once took the process down allocating for a billion pages of hits
    ({"page": 10**30}, "page"),
    ({"page": "1000000000"}, "page"),
    ({"page": 501}, "page"),  # 501 × the default 20 is past the deepest result a search may reach
    ({"page": 101, "per_page": 100}, "page"),
    ({"per_page": -1}, "per_page"),
    ({"country": ",".join(["ES"] * 10_000)}, "country"),
    ({"technologies": ["open-data"] * 1000}, "technologies"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "0,50,10,40"}, "bbox"),
    ({"q": "x" * 500}, "q"),
    ({"colour": "red"}, "colour"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(InvalidInput) as error:
        parse_params(params)
    assert field in error.value.details


def test_the_deepest_allowed_page_answers_and_no_backend_request_goes_deeper(engine, directory):
    assert search(engine, page=500)["items"] == []
    assert search(engine, page=100, per_page=100)["total"] == len(directory)
    for offset, limit in ((10_000, 1), (-1, 5), (0, 10**12)):
        with pytest.raises(InvalidInput):
            engine.backend.find(Find(terms=Terms(""), offset=offset, limit=limit))


def test_labels_and_legacy_names_are_accepted_as_filters():
    params = parse_params({"social_areas": "Health and wellbeing,science", "kind": "projects", "country": "es"})
    assert params.filters == {"kind": ["project"], "country": ["ES"], "social_areas": ["health-and-care", "science"]}
