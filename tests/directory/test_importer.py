"""Importing the DSI4EU 2017 export: messy values cleaned, vocabularies mapped, idempotent."""
import argparse
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from dsi import events
from dsi.errors import InvalidInput
from dsi.migrations import upgrade
from services.directory import commands as directory_commands, demo, importer, records
from services.directory.models import Outbox, Record, RecordLink, Submission
from tests.helpers import statements_run

REAL_EXPORT = Path(os.environ.get("DSI_DATA", Path(__file__).resolve().parents[3] / "shared/data/dsi4eu-2017"))

ORGANISATIONS = [
    {"organisation_id": 7, "organisation_name": "Fab Lab Testville", "website": "fablab.example",
     "short_description": "", "long_description": "<p>Makers <script>alert(1)</script>are welcome here. Come in.</p>",
     "country": "Spain", "region": "Barcelona", "latitude": 41.4, "longitude": 2.19, "address": "",
     "organisation_type": {"id": 4, "name": "Grassroots organisation or community network"},
     "organisation_size": "over-1000 people", "startDate": "1970-01-01", "linked_project_ids": ["9", "404"],
     "tags": ["makers"], "networkTags": [{"id": "13", "name": "FabLab Network"}], "created": "2016-05-01"},
    {"organisation_id": 8, "organisation_name": "", "country": "", "organisation_type": "",
     "organisation_size": "", "linked_project_ids": [], "created": "1970-01-01"},
]
PROJECTS = [
    {"project_id": 9, "project_name": "Neighbour Net", "short_description": "Streets that talk",
     "long_description": "", "social_impact": "", "start_date": None, "end_date": "2015-12-31",
     "country": "", "region": "", "latitude": "", "longitude": "", "linked_organisation_ids": ["7"],
     "who_we_help_tags": ["elderly"],
     "support_tags": [{"id": "18", "name": "Health and wellbeing"}, {"id": "x", "name": "citizen science"}],
     "focus": [{"id": "4", "name": "Open knowledge"}],
     "technology": [{"id": "72", "name": "big data"}, {"id": "1", "name": "Culture and arts"}, {"id": "2", "name": "21"}],
     "creation_date": "1970-01-01"},
]


@pytest.fixture
def export(tmp_path):
    (tmp_path / "organisations.json").write_text(json.dumps(ORGANISATIONS))
    (tmp_path / "projects.json").write_text(json.dumps(PROJECTS))
    return tmp_path


def test_messy_values_are_cleaned(session, outbox, export):
    summary = importer.import_dsi4eu(session, outbox, export)
    session.commit()
    assert summary["imported"] == {"organisation": 1, "project": 1}
    assert summary["skipped"] == {"organisation: no name": 1}
    assert summary["links"] == 1

    [listed] = records.list_published(session, "organisation", {})["items"]
    organisation = records.get_published(session, "organisation", listed["id"])
    assert organisation["country"] == "ES" and organisation["start_date"] is None
    assert organisation["website"] == "https://fablab.example"
    assert "script" not in organisation["long_description"]
    assert organisation["short_description"] == "Makers are welcome here."  # whole sentences only
    assert organisation["organisation_size"]["value"] == "over-1000"
    assert organisation["network_tags"] == ["FabLab Network"]
    assert organisation["created_at"].startswith("2016-05-01")

    [listed] = records.list_published(session, "project", {})["items"]
    project = records.get_published(session, "project", listed["id"])
    assert [a["value"] for a in project["social_areas"]] == ["health-and-care", "culture-and-arts"]
    assert [t["value"] for t in project["technologies"]] == ["big-data"]
    assert set(project["tags"]) == {"elderly", "citizen science"}
    assert project["country"] is None and project["latitude"] is None
    assert project["status"]["value"] == "closed"
    assert project["organisations"][0]["name"] == "Fab Lab Testville"


def test_rerun_changes_nothing(session, outbox, export):
    importer.import_dsi4eu(session, outbox, export)
    session.commit()
    events_before = session.scalar(select(func.count()).select_from(Outbox))
    summary = importer.import_dsi4eu(session, outbox, export)
    session.commit()
    assert summary["imported"] == {} and summary["already_imported"] == {"organisation": 1, "project": 1}
    assert session.scalar(select(func.count()).select_from(Record)) == 2
    assert session.scalar(select(func.count()).select_from(Outbox)) == events_before


def test_each_imported_record_is_announced(session, outbox, export, sent_events):
    importer.import_dsi4eu(session, outbox, export)
    session.commit()
    published = [e["payload"]["record"]["name"] for e in sent_events() if e["type"] == events.RECORD_PUBLISHED]
    assert sorted(published) == ["Fab Lab Testville", "Neighbour Net"]


def test_missing_or_broken_export_is_a_clear_error(session, outbox, tmp_path):
    with pytest.raises(InvalidInput, match="organisations.json not found"):
        importer.import_dsi4eu(session, outbox, tmp_path)
    (tmp_path / "organisations.json").write_text("{oops")
    (tmp_path / "projects.json").write_text("[]")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        importer.import_dsi4eu(session, outbox, tmp_path)


@pytest.mark.integration
@pytest.mark.skipif(not (REAL_EXPORT / "organisations.json").exists(), reason=f"no DSI4EU export at {REAL_EXPORT}")
def test_real_export_has_no_fragments_and_keeps_its_dates(session, outbox):
    importer.import_dsi4eu(session, outbox, REAL_EXPORT)
    session.commit()
    descriptions = session.scalars(select(Record.short_description).where(Record.short_description != "")).all()
    assert len(descriptions) > 400
    assert "publications for details." not in descriptions and "Prototype" not in descriptions
    assert all(text[0].isupper() or text[0].isdigit() for text in descriptions)
    assert all(len(text.split()) >= 3 and len(text) <= 300 for text in descriptions)
    zooniverse = session.scalar(select(Record).where(Record.import_key == importer.import_key("project", 623)))
    assert zooniverse.short_description == ""  # its long description is a stray tail
    # newest first: the records created last on the old platform (late 2017), never the import's own time
    newest = session.scalars(select(Record).order_by(Record.published_at.desc(), Record.id.desc()).limit(5)).all()
    assert all(record.published_at.year == 2017 for record in newest)
    assert session.scalar(select(func.min(Record.created_at))).year == 2016
    summary = importer.import_dsi4eu(session, outbox, REAL_EXPORT)  # a re-run finds nothing left to repair
    assert summary["imported"] == {} and summary["repaired"] == {}


@pytest.mark.integration  # the whole real export: slow for the fast tier
@pytest.mark.skipif(not (REAL_EXPORT / "organisations.json").exists(), reason=f"no DSI4EU export at {REAL_EXPORT}")
def test_real_export_imports_completely(session, outbox):
    summary = importer.import_dsi4eu(session, outbox, REAL_EXPORT)
    session.commit()
    assert summary["imported"] == {"organisation": 1228, "project": 829}
    assert records.list_published(session, "organisation", {}, per_page=1)["total"] == 1228
    assert records.list_published(session, "project", {}, per_page=1)["total"] == 829
    unknown_countries = session.scalars(
        select(Record.country).where(Record.country.is_not(None), func.length(Record.country) != 2)
    ).all()
    assert unknown_countries == []


def test_undated_records_are_older_than_the_first_dated_one(session, outbox, export):
    importer.import_dsi4eu(session, outbox, export)
    session.commit()
    [project] = records.list_published(session, "project", {})["items"]  # created "1970-01-01": unknown
    assert project["created_at"].startswith("2016-04-30") and project["published_at"] == project["created_at"]


@pytest.mark.parametrize("short, long_html, summary", [
    ("Prototype", "", ""),  # one word: a label, not a description
    ("", "publications for details. ", ""),  # the tail of a sentence
    ("", "We map air quality. " + "Sensors everywhere " * 30, "We map air quality."),
    ("", "One sentence far too long to be a summary " * 10 + ".", ""),  # never cut in the middle
    ("Streets that talk to neighbours", "", "Streets that talk to neighbours"),  # the author's own, as written
    ("", "<p>Open data for <b>all</b>. Free.</p>", "Open data for all."),
])
def test_short_descriptions_are_whole_sentences_or_nothing(short, long_html, summary):
    assert importer._summary(short, long_html) == summary


def test_reimport_repairs_dates_and_descriptions_but_not_owner_edits(session, outbox, export, sent_events):
    importer.import_dsi4eu(session, outbox, export)
    session.commit()
    organisation, project = (session.scalar(select(Record).where(Record.kind == kind))
                             for kind in ("organisation", "project"))
    organisation.short_description, organisation.created_at = "Prototype", datetime(2026, 11, 1, tzinfo=timezone.utc)
    project.short_description = "tails of a sentence."
    session.add(Submission(record_id=project.id, kind="project", action="update", state=records.APPROVED,
                           data={}, email="owner@example.org"))  # its owner edited it since
    session.commit()
    published_before = len([e for e in sent_events() if e["type"] == events.RECORD_PUBLISHED])

    summary = importer.import_dsi4eu(session, outbox, export)
    session.commit()
    assert summary["repaired"] == {"organisation": 1}
    repaired = records.get_published(session, "organisation", organisation.id)
    assert repaired["short_description"] == "Makers are welcome here."
    assert repaired["created_at"].startswith("2016-05-01")
    assert records.get_published(session, "project", project.id)["short_description"] == "tails of a sentence."
    announced = [e for e in sent_events() if e["type"] == events.RECORD_PUBLISHED][published_before:]
    assert [e["payload"]["record"]["id"] for e in announced] == [organisation.id]  # search learns the repair


def dsi_on(url: str, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`dsi <argv>` as an operator runs it on the directory's database at `url`, migrated first; the test fails
    unless it succeeds."""
    upgrade("directory", url)
    env = {**os.environ, "DIRECTORY_DB_URL": url, "PYTHONWARNINGS": "ignore"}
    run = subprocess.run([sys.executable, "-m", "dsi.cli", *argv], env=env, capture_output=True, text=True,
                         timeout=timeout, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr
    return run


def test_demo_data_publishes_many_records_in_bounded_transactions(tmp_path):
    """`dsi demo-data --count N` publishes N organisations and N projects, linked in pairs, each announced once,
    over transactions of demo.BATCH pairs (one transaction of 100,000 records crawled)."""
    url = f"sqlite:///{tmp_path}/directory.db"
    count = demo.BATCH + 1
    run = dsi_on(url, "demo-data", "--count", str(count), timeout=300)
    assert f"published {2 * count} generated demo records" in run.stdout
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            published = dict(connection.execute(select(Record.kind, func.count()).where(
                Record.status == records.PUBLISHED).group_by(Record.kind)).all())
            links = connection.scalar(select(func.count()).select_from(RecordLink))
            announced = connection.scalar(select(func.count()).select_from(Outbox).where(
                Outbox.event_type == events.RECORD_PUBLISHED))
    finally:
        engine.dispose()
    assert published == {"organisation": count, "project": count}
    assert links == count and announced == 2 * count


def _published(url: str) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(
                select(Record.name, Record.short_description, Record.country, Record.city)
                .where(Record.status == records.PUBLISHED))]
    finally:
        engine.dispose()


def test_generated_records_are_made_of_the_exports_words_and_places(tmp_path, export):
    """`dsi demo-data --export PATH` recombines the export's names, summaries and places: large generated
    directories as varied as the real one. `--built-in` keeps the 19 demo words and nine cities."""
    url = f"sqlite:///{tmp_path}/directory.db"
    run = dsi_on(url, "demo-data", "--count", "20", "--export", str(export))
    assert f"made of the words, places and tags of the DSI4EU export at {export}" in run.stdout
    generated = _published(url)
    assert len(generated) == 40
    # the fixture's only named records with two words or more: "Fab Lab Testville" and "Neighbour Net"
    assert {name for item in generated for name in item["name"].split()} <= {"Fab", "Lab", "Testville",
                                                                             "Neighbour", "Net"}
    assert {(item["country"], item["city"]) for item in generated} == {("ES", "Barcelona")}  # the one placed record
    summary_words = {"Makers", "are", "welcome", "here", "Come", "in", "Streets", "that", "talk"}
    assert all(set(item["short_description"].rstrip(".").split()) <= summary_words for item in generated)

    other = f"sqlite:///{tmp_path}/built-in.db"
    run = dsi_on(other, "demo-data", "--count", "20", "--built-in")
    assert "made of the built-in word list" in run.stdout
    assert {item["name"].split()[-1] for item in _published(other)} <= set(demo.NOUNS)


@pytest.mark.skipif(not (REAL_EXPORT / "organisations.json").exists(), reason=f"no DSI4EU export at {REAL_EXPORT}")
def test_a_generated_directory_from_the_real_export_is_as_varied_as_a_real_one(tmp_path):
    """Names of the real export's words: 2,000 generated records hold hundreds of distinct words in their names and
    come from dozens of countries, where the built-in words give 19 and nine."""
    url = f"sqlite:///{tmp_path}/directory.db"
    dsi_on(url, "demo-data", "--count", "1000", "--export", str(REAL_EXPORT), timeout=120)
    generated = _published(url)
    assert len({word.lower() for item in generated for word in item["name"].split()}) > 500
    assert len({item["country"] for item in generated}) > 30


def test_demo_data_from_a_folder_without_the_export_says_so(tmp_path):
    run = subprocess.run([sys.executable, "-m", "dsi.cli", "demo-data", "--export", str(tmp_path)],
                         env={**os.environ, "DIRECTORY_DB_URL": f"sqlite:///{tmp_path}/directory.db"},
                         capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode != 0
    assert f"{tmp_path / 'organisations.json'} not found: expected the DSI4EU export" in run.stderr


@pytest.mark.parametrize("command", [["import-dsi4eu", "{export}"], ["demo-data", "--count", "3"]])
def test_a_bulk_load_leaves_postgresql_the_statistics_it_plans_by(command, database_url, backend, export):
    """PostgreSQL's autovacuum gathers statistics minutes after a load (never where it is off): without them it
    planned a record's links as a walk over every published record. SQLite's statements expect no statistics."""
    dsi_on(database_url, *[part.format(export=export) for part in command])
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            if backend == "postgresql":
                analyzed = set(connection.scalars(text(
                    "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")))
                assert {"records", "record_terms", "record_links"} <= analyzed
            else:
                assert connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")) == 0
    finally:
        engine.dispose()


@pytest.mark.skipif(not (REAL_EXPORT / "organisations.json").exists(), reason=f"no DSI4EU export at {REAL_EXPORT}")
def test_a_deep_page_of_a_list_walks_the_listing_index_alone(database_url, backend):
    """A page skips its offset in the listing index's order without reading the skipped rows from the table: on
    PostgreSQL an index-only scan with no row checked in the table (the index holds the name, the load vacuumed),
    where it sorted the whole kind (3.2 ms at offset 900 of the real data's 1,228 organisations)."""
    dsi_on(database_url, "import-dsi4eu", str(REAL_EXPORT))
    page_query, _count = records._list_statements(backend, ())
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            with statements_run(engine) as run:
                names = [row.name for row in connection.execute(
                    page_query, {"kind": "organisation", "limit": 20, "offset": 900})]
            [(statement, parameters)] = run
            explain = "EXPLAIN (ANALYZE) " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
            plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters))
            plainly = connection.scalars(select(Record.name).where(  # the same page, asked the plain way
                Record.kind == "organisation", Record.status == records.PUBLISHED).order_by(*records.BY_NAME)
                .offset(900).limit(20)).all()
    finally:
        engine.dispose()
    assert names == plainly and len(names) == 20
    if backend == "postgresql":
        assert "Index Only Scan using ix_records_listing on records" in plan, plan
        assert "Heap Fetches: 0" in plan and "Sort" not in plan, plan
    else:
        assert "USING INDEX ix_records_listing" in plan and "TEMP B-TREE" not in plan, plan


def test_generated_records_are_planned_for_as_the_tables_grow(database_url, backend, monkeypatch):
    """`dsi demo-data` refreshes the statistics each time the tables doubled (and at the end): PostgreSQL without
    autovacuum otherwise planned every publish for the empty tables it started from."""
    upgrade("directory", database_url)
    monkeypatch.setenv("DIRECTORY_DB_URL", database_url)
    monkeypatch.setattr(demo, "BATCH", 2)  # pairs per transaction: 6 pairs in three loads
    sizes = []

    def refresh_statistics(url):
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                sizes.append(connection.scalar(select(func.count()).select_from(Record)))
        finally:
            engine.dispose()
        real_refresh(url)

    real_refresh = directory_commands.refresh_statistics
    monkeypatch.setattr(directory_commands, "refresh_statistics", refresh_statistics)
    directory_commands.load_demo(argparse.Namespace(count=6, export=None, built_in=True))
    assert sizes == [4, 8, 12]  # after the first load, when twice as many, and at the end
