"""Search on the original platform's 2017 export, imported through the directory's own importer, plus a few
records published (and one hidden, one left pending) through the directory's domain code.

What people type (typos, prefixes, accents, Polish and Catalan), and facet counts checked against counts the
directory computes from its own tables. Runs on each backend (Elasticsearch only with ELASTICSEARCH_URL).
"""
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsi import events
from dsi.database import make_engine
from dsi.messaging import OutboxWriter
from dsi.migrations import upgrade
from services.directory import importer, records
from services.directory.models import Outbox, Record, RecordTerm
from services.search.models import sort_key
from services.search.schemas import parse_params
from tests.factories import organisation_body, project_body

REAL_EXPORT = Path(os.environ.get("DSI_DATA", Path(__file__).resolve().parents[3] / "shared/data/dsi4eu-2017"))
pytestmark = [pytest.mark.skipif(not (REAL_EXPORT / "organisations.json").exists(),
                                 reason=f"the DSI4EU 2017 export is not at {REAL_EXPORT} (set DSI_DATA)"),
              pytest.mark.integration]  # the whole real export: slow for the fast tier
PUBLIC_URL = "http://dsi.test"
ADDED = {  # published on top of the export: the export itself has no Polish and little Catalan
    "epanstwo": organisation_body(name="Fundacja ePaństwo", country="PL", city="Łódź", latitude=51.76,
                                  longitude=19.46, short_description="Przejrzystość władzy i społeczeństwo "
                                                                     "obywatelskie w Polsce."),
    "barcelo": organisation_body(name="Fundació Barceló", country="ES", city="Palma",
                                 short_description="Cultura i cooperació a les Illes Balears."),
    "llotja": project_body(name="Col·lectiu Llotja", country="ES", city="Lleida", latitude=41.61, longitude=0.62,
                           short_description="Participació ciutadana i dades obertes a Catalunya."),
}
HIDDEN_NAME, PENDING_NAME = "Zyzzyva Hidden Collective", "Zyzzyva Pending Project"
TERM_FACETS = ("social_areas", "technologies", "dsi_focus")
COLUMN_FACETS = {"kind": Record.kind, "country": Record.country, "organisation_type": Record.organisation_type,
                 "organisation_size": Record.organisation_size}


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    """The directory's database holding the export and the records above; their ids by key."""
    url = f"sqlite:///{tmp_path_factory.mktemp('directory')}/directory.db"
    upgrade("directory", url)
    engine = make_engine(url)
    outbox = OutboxWriter(Outbox, events.DIRECTORY)
    ids = {}
    with Session(engine) as session, session.begin():
        importer.import_dsi4eu(session, outbox, REAL_EXPORT)
        for key, body in [*ADDED.items(), ("hidden", organisation_body(name=HIDDEN_NAME)),
                          ("pending", project_body(name=PENDING_NAME))]:
            submitted = records.submit(session, outbox, body, PUBLIC_URL)
            ids[key] = submitted["record_id"]
            if key != "pending":
                records.apply_decision(session, outbox, {"type": events.SUBMISSION_APPROVED, "payload": {
                    "submission_id": submitted["id"], "reason_code": None, "reason": None}}, PUBLIC_URL)
        records.set_visibility(session, outbox, {"type": events.RECORD_HIDDEN,
                                                 "payload": {"record_id": ids["hidden"], "reason_code": "spam"}})
    yield engine, ids
    engine.dispose()


@pytest.fixture(scope="module", params=["embedded", "elasticsearch"])
def index(request, directory, open_index, tmp_path_factory):
    """A search index built from the directory's export_published, as a new instance builds it."""
    engine, remove = open_index(request.param, tmp_path_factory.mktemp("index"))
    db, _ids = directory

    def export(after, limit):
        with Session(db) as session:
            return records.export_published(session, after, limit)
    assert engine.rebuild(export)["documents"] > 2000
    yield engine
    remove()


def search(index, **params):
    return index.query(parse_params(params))


def names(result):
    return [item["name"] for item in result["items"]]


def facet_counts(result):
    return {facet: {entry["value"]: entry["count"] for entry in entries if entry["count"]}
            for facet, entries in result["facets"].items()}


def directory_counts(db, filters: dict, facet: str) -> dict:
    """Published records per value of `facet`, under every filter but the facet's own: from the directory's
    tables, with SQL that shares nothing with the search service."""
    published = select(Record.id).where(Record.status == records.PUBLISHED)
    for name, values in filters.items():
        if name == facet:
            continue
        if name in COLUMN_FACETS:
            published = published.where(COLUMN_FACETS[name].in_(values))
        else:
            published = published.where(Record.id.in_(
                select(RecordTerm.record_id).where(RecordTerm.facet == name, RecordTerm.value.in_(values))))
    if facet in COLUMN_FACETS:
        column = COLUMN_FACETS[facet]
        query = select(column, func.count()).where(Record.id.in_(published), column.is_not(None)).group_by(column)
    else:
        query = (select(RecordTerm.value, func.count()).where(RecordTerm.facet == facet,
                                                              RecordTerm.record_id.in_(published))
                 .group_by(RecordTerm.value))
    with Session(db) as session:
        return dict(session.execute(query).all())


@pytest.mark.parametrize("filters", [
    {},
    {"kind": ["project"], "country": ["ES", "IT"]},
    {"kind": ["project"], "social_areas": ["health-and-care", "digital-democracy"], "technologies": ["open-data"]},
    {"country": ["GB", "DE", "NL"], "organisation_type": ["social-enterprise-charity-foundation-or-other-non-profit",
                                                         "academia-research-organisation"]},
    {"organisation_size": ["0-5"], "country": ["ES"]},
    {"dsi_focus": ["open-hardware"], "technologies": ["digital-fabrication-and-3d-printing"]},
], ids=["everything", "projects-in-es-or-it", "areas-and-technology", "countries-and-types", "size-in-es",
        "focus-and-technology"])
def test_facet_counts_equal_the_directorys_own_counts(index, directory, filters):
    db, _ids = directory
    result = search(index, **filters)
    counts = facet_counts(result)
    for facet in ("kind", "country", *TERM_FACETS, "organisation_type", "organisation_size"):
        assert counts[facet] == directory_counts(db, filters, facet), facet
    # the total is the records that pass every filter: the kinds counted under all of them add up to it
    kinds = directory_counts(db, {name: values for name, values in filters.items() if name != "kind"}, "kind")
    assert result["total"] == sum(count for kind, count in kinds.items()
                                  if kind in filters.get("kind", kinds)) > 0


def test_facet_counts_within_a_text_search_add_up(index):
    result = search(index, q="open data", per_page=1)
    counts = facet_counts(result)
    assert sum(counts["kind"].values()) == result["total"] > 50
    projects = search(index, q="open data", kind="project", per_page=1)
    assert projects["total"] == counts["kind"]["project"]
    assert facet_counts(projects)["kind"] == counts["kind"]  # its own selection does not change its counts


@pytest.mark.parametrize("typed, expected", [
    ("Waag Socity", "Waag Society"),  # 6 letters: one typo
    ("makrspace", "MADE Makerspace"),  # 9 letters: "makerspace" with one letter missing
    ("Cittadini Reatitvi", "Cittadini Reattivi"),  # a swap of neighbours counts one
    ("sustainabilyt", "Andaluciasostenible.com"),  # 13 letters: two typos
])
def test_misspelt_words_find_the_record(index, typed, expected):
    assert expected in names(search(index, q=typed, per_page=10))


def test_short_words_must_be_exact(index):
    assert "Waag Society" in names(search(index, q="waag"))
    assert "Waag Society" not in names(search(index, q="waeg", per_page=100))  # 4 letters: no typo


def test_the_last_word_matches_as_a_prefix(index):
    result = search(index, q="citizen scie", per_page=5)
    assert "Citizen Science" in names(result)
    assert all(name.lower().replace(" ", "").startswith("fablab")
               for name in names(search(index, q="fab la", per_page=10)))


@pytest.mark.parametrize("typed, expected", [
    ("Barcelo", "Fundació Barceló"),
    ("fundacio ciutat", "Fundació Ciutat de Viladecans"),
    ("FUNDACIÓ CIUTAT", "Fundació Ciutat de Viladecans"),
    ("lampagyar", "Lámpagyár/ LightFactory. Volunteer Match-Making"),
    ("leman numerique", "LIN - Léman Innovation Numérique"),
    ("epanstwo", "Fundacja ePaństwo"),
    ("ePaństwo lodz", "Fundacja ePaństwo"),
    ("Łódź", "Fundacja ePaństwo"),
    ("społeczeństwo obywatelskie", "Fundacja ePaństwo"),
    ("col·lectiu", "Col·lectiu Llotja"),
    ("participacio ciutadana", "Col·lectiu Llotja"),
])
def test_accents_polish_and_catalan_fold(index, typed, expected):
    assert expected in names(search(index, q=typed, per_page=5))


def test_folding_works_both_ways(index):
    plain = {item["id"] for item in search(index, q="fundacio", per_page=100)["items"]}
    accented = {item["id"] for item in search(index, q="fundació", per_page=100)["items"]}
    assert plain == accented
    found = names(search(index, q="fundació", per_page=100))
    assert any(name.startswith("Fundacio ") for name in found) and "Fundació Barceló" in found


def test_snippets_mark_hits_and_keep_real_html_out(index):
    for q in ("open data", "health", "makers", "barcelona"):
        for item in search(index, q=q, per_page=20)["items"]:
            text = re.sub(r"</?mark>", "", item["snippet"])
            assert "<" not in text and ">" not in text, item["snippet"]
    snippets = [item["snippet"] for item in search(index, q="fabbers")["items"]]
    assert len(snippets) == 2 and all("<mark>fabbers</mark>" in snippet for snippet in snippets)


def test_geo_box_holds_exactly_the_records_inside(index, directory):
    db, _ids = directory
    box = (-10.0, 35.0, 4.5, 44.0)  # Iberia
    result = search(index, bbox=",".join(map(str, box)), per_page=100)
    with Session(db) as session:
        inside = session.scalar(select(func.count()).where(
            Record.status == records.PUBLISHED, Record.longitude.between(box[0], box[2]),
            Record.latitude.between(box[1], box[3])))
    assert result["total"] == inside > 20
    for item in result["items"]:
        assert box[0] <= item["longitude"] <= box[2] and box[1] <= item["latitude"] <= box[3]
    assert set(facet_counts(result)["country"]) <= {"ES", "PT", "AD", "FR", "GI"}


@pytest.mark.parametrize("sort", ["relevance", "name", "newest"])
def test_paging_is_stable_and_complete(index, sort):
    whole = search(index, q="open", sort=sort, per_page=100)
    assert 100 < whole["total"]
    pages = [search(index, q="open", sort=sort, page=page, per_page=7)["items"] for page in range(1, 15)]
    paged = [item["id"] for page in pages for item in page]
    assert paged == [item["id"] for item in whole["items"]][:len(paged)]
    assert len(set(paged)) == len(paged) == 98


def test_name_order_is_exact_over_every_page(index):
    items = []
    for page in range(1, 50):
        result = search(index, sort="name", page=page, per_page=100)
        items += result["items"]
        if len(items) >= result["total"]:
            break
    assert len(items) == result["total"] == len({item["id"] for item in items})
    keys = [sort_key(item["name"], item["id"]) for item in items]
    assert keys == sorted(keys)  # names alike in their first letters too ("Association Dedale" < "… Pobot")


def test_newest_first(index, directory):
    _db, ids = directory
    newest = search(index, sort="newest", per_page=3)["items"]
    assert [item["id"] for item in newest] == sorted((ids["epanstwo"], ids["barcelo"], ids["llotja"]),
                                                     reverse=True)


def test_did_you_mean_on_zero_hits(index):
    for typed, meant in (("hlth", "health"), ("opne dtaa", "open data")):
        result = search(index, q=typed)
        assert result["total"] == 0
        assert result["did_you_mean"] == meant
        assert search(index, q=meant)["total"] > 0
    assert search(index, q="qxqxqxqx")["did_you_mean"] is None


def test_suggest_completes_names(index):
    suggested = [entry["name"] for entry in index.suggest("fab l", 8)]
    assert len(suggested) == 8 and all(name.lower().startswith("fab lab") for name in suggested)
    assert index.suggest("barc", 3)[0]["name"].startswith("Barcelona")
    assert index.suggest("epańs", 8)[0]["name"] == "Fundacja ePaństwo"


def test_unpublished_records_never_appear(index, directory):
    db, ids = directory
    for q in ("zyzzyva", HIDDEN_NAME, PENDING_NAME):
        assert search(index, q=q)["total"] == 0
        assert index.suggest(q, 8) == []
    def export(after, limit):
        with Session(db) as session:
            return records.export_published(session, after, limit)
    report = index.check(export)
    assert report["in_sync"] and ids["hidden"] not in report["extra"]
    with Session(db) as session:
        published = session.scalar(select(func.count()).where(Record.status == records.PUBLISHED))
    assert search(index)["total"] == published == report["published"]
