"""Open data, feeds and the sitemap hold published records only, and say under which licence."""
import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from gateway.site import opendata
from tests.factories import organisation_body, project_body
from tests.web.conftest import submit_pending


@pytest.fixture
def pending(directory_db, sample_ids):
    return submit_pending(directory_db, project_body(name="Secret Pending Project"))


def test_json_downloads_hold_published_records_with_the_licence(site, pending, web_session):
    response = web_session.get("/data/projects.json")
    assert response.status_code == 200 and 'rel="license"' in response.headers["Link"]
    body = json.loads(response.content)
    assert body["licence"]["attribution"] == "DSI4EU / digitalsocial.eu contributors"
    assert body["licence"]["name"] == "CC BY-NC-SA 4.0"
    names = {item["name"] for item in body["items"]}
    assert names == {"Care Map", "Decidim Barcelona", "Smart Citizen Kit"}
    assert all(item["kind"] == "project" and "email" not in item for item in body["items"])
    assert body["items"][0]["url"].startswith("http://dsi.test/projects/")


def test_csv_downloads_are_spreadsheet_safe(site, directory_db, web_session):
    from tests.helpers import publish
    publish(directory_db, organisation_body(name="=HYPERLINK(\"http://evil\")", city="+1"))
    response = web_session.get("/data/organisations.csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row["name"] for row in rows} >= {"Fundació Barceló", "Waag Society", "'=HYPERLINK(\"http://evil\")"}
    assert all("<" not in row["long_description"] for row in rows)
    assert next(row for row in rows if row["name"] == "Waag Society")["organisation_type"] == "For-profit business"


def test_downloads_page_through_the_whole_directory(site, directory_db, web_session):
    from tests.helpers import publish
    publish(directory_db, *[organisation_body(name=f"Bulk {n}") for n in range(520)])  # more than one export page
    rows = web_session.get("/data/organisations.csv").content.decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + 3 + 520


def test_feeds_list_new_records(site, pending, web_session):
    response = web_session.get("/feeds/projects.rss")
    assert response.headers["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    titles = [item.findtext("title") for item in channel.findall("item")]
    assert set(titles) == {"Care Map", "Decidim Barcelona", "Smart Citizen Kit"}
    assert all(item.findtext("pubDate") for item in channel.findall("item"))


def test_sitemap_lists_published_pages_only(site, pending, web_session):
    response = web_session.get("/sitemap.xml")
    root = ET.fromstring(response.content)
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [loc.text for loc in root.findall("s:url/s:loc", namespace)]
    assert f"http://dsi.test/projects/{site['Care Map']}" in locations
    assert f"http://dsi.test/projects/{pending['record_id']}" not in locations
    assert "http://dsi.test/clusters/health-and-care" in locations
    assert len(root.findall("s:url", namespace)[0]) >= 8  # loc + an alternate per language
    assert "Sitemap: http://dsi.test/sitemap.xml" in web_session.get("/robots.txt").text


def test_csv_cells_unit():
    row = opendata.csv_row("project", {
        "id": 1, "name": "@cmd", "social_areas": [{"value": "science", "label": "Science"}],
        "organisations": [{"id": 3, "kind": "organisation", "name": "x", "role": "lead"}],
        "long_description": "<p>a <b>b</b></p>", "tags": ["x", "y"]}, "http://h")
    values = dict(zip(opendata.COLUMNS["project"], row))
    assert values["name"] == "'@cmd" and values["social_areas"] == "Science" and values["organisations"] == "3"
    assert values["long_description"] == "a b" and values["tags"] == "x; y" and values["url"] == "http://h/projects/1"
