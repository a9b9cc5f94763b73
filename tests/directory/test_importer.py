"""Importing the DSI4EU 2017 export: messy values cleaned, vocabularies mapped, idempotent."""
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dsi import events
from dsi.errors import InvalidInput
from services.directory import importer, records
from services.directory.models import Outbox, Record

REAL_EXPORT = Path(os.environ.get("DSI_DATA", Path(__file__).resolve().parents[3] / "shared/data/dsi4eu-2017"))

ORGANISATIONS = [
    {"organisation_id": 7, "organisation_name": "Fab Lab Testville", "website": "fablab.example",
     "short_description": "", "long_description": "<p>Makers <script>alert(1)</script>welcome</p>",
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

    [organisation] = records.list_published(session, "organisation", {})["items"]
    assert organisation["country"] == "ES" and organisation["start_date"] is None
    assert organisation["website"] == "https://fablab.example"
    assert "script" not in organisation["long_description"]
    assert organisation["short_description"] == "Makers welcome"
    assert organisation["organisation_size"]["value"] == "over-1000"
    assert organisation["network_tags"] == ["FabLab Network"]
    assert organisation["created_at"].startswith("2016-05-01")

    [project] = records.list_published(session, "project", {})["items"]
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
