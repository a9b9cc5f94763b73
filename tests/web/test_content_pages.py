"""The editorial hub through the real gateway: pages in every language, filters, redirects, the JSON API, RSS
and iCalendar feeds and media, with the content, directory and search services in nameko containers on a
throwaway RabbitMQ vhost. Items are written in content's database as editors would, before the services start."""
import re
from datetime import date, datetime, timedelta
from xml.etree import ElementTree

import icalendar
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi import events
from dsi.messaging import OutboxWriter
from dsi.migrations import upgrade
from gateway.service import GatewayService
from services.content import items, suggestions
from services.content.models import Outbox, Suggestion
from services.content.service import ContentService
from services.directory.service import DirectoryService
from services.search.service import SearchService
from tests.factories import organisation_body
from tests.helpers import publish, wait_for

EDITOR = "editor@dsi.test"
HOSTILE = ('Safe **text**\n\n<script>alert("x")</script>\n\n[click](javascript:alert(1))\n\n'
           '<img src=x onerror=alert(2)>')
PNG_NAME = "0123456789abcdef0123456789abcdef.png"


def _soon(days: int) -> str:
    return (datetime.now() + timedelta(days=days)).replace(microsecond=0, second=0).isoformat()


def _write(engine, kind, body, publish=True, slug_later=None):
    outbox = OutboxWriter(Outbox, events.CONTENT)
    with Session(engine) as session, session.begin():
        item = items.create(session, outbox, kind, body, EDITOR)
        if publish:
            items.transition(session, outbox, item.id, "publish", EDITOR)
        if slug_later:
            items.update(session, outbox, item.id, {**body, "slug": slug_later}, EDITOR)
        return item.slug


@pytest.fixture
def hub(runner_factory, rabbit_config, web_config, tmp_path, engine_for, monkeypatch):
    urls = {name: f"sqlite:///{tmp_path}/{name}.db" for name in ("directory", "content")}
    for name, url in urls.items():
        upgrade(name, url)
    media = tmp_path / "media"
    media.mkdir()
    (media / PNG_NAME).write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "secret.txt").write_text("secret")
    monkeypatch.setenv("MEDIA_DIR", str(media))
    content = engine_for(urls["content"])
    slugs_record = publish(engine_for(urls["directory"]), organisation_body(name="Nobody Ltd"))
    slugs = {
        "story": _write(content, "story", {
            "title": "Migrants and maps", "summary": "A standfirst <b>bold</b>", "body": HOSTILE,
            "cluster": "migration-and-integration", "category": "blog",
            "translations": {"it": {"title": "Migranti e mappe", "summary": "Un sommario", "body": "Testo *italiano*."}}}),
        "draft": _write(content, "story", {"title": "A secret draft", "body": "Not yet."}, publish=False),
        "moved": _write(content, "story", {"title": "Old title story", "body": "x"}, slug_later="new-story-slug"),
        "event": _write(content, "event", {
            "title": "Civic tech day", "start": _soon(10), "end": _soon(11), "timezone": "Europe/Rome",
            "attendance": "in_person", "city": "Torino", "country": "IT", "free": True,
            "cluster": "migration-and-integration"}),
        "online": _write(content, "event", {"title": "Online meetup", "start": _soon(20),
                                            "attendance": "online"}),
        "past": _write(content, "event", {"title": "Last year's summit", "start": _soon(-300)}),
        "funding": _write(content, "funding", {"title": "Seed grants", "closes_on": (date.today() + timedelta(
            days=5)).isoformat(), "europe_wide": True}),
        "closed": _write(content, "funding", {"title": "An old call",
                                              "closes_on": (date.today() - timedelta(days=5)).isoformat()}),
        "resource": _write(content, "resource", {"title": "A report on DSI", "resource_type": "report",
                                                 "lang": "en", "year": 2020}),
        "case": _write(content, "case_study", {"title": "Decidim", "card_text": "Democracy", "featured_position": 1,
                                               "organisation_id": 1}),
        "cluster": _write(content, "cluster", {"title": "Migration and integration", "slug":
                                               "migration-and-integration", "cluster": "migration-and-integration",
                                               "subtitle": "People on the move", "lead_partner": "Nobody Ltd"}),
    }
    config = {**rabbit_config, **web_config, "DB_URIS": {"directory:Base": urls["directory"],
                                                         "content:Base": urls["content"]},
              "SEARCH_BACKEND": "embedded", "SEARCH_INDEX_DIR": str(tmp_path / "search"),
              "PUBLIC_URL": "http://dsi.test", "MEDIA_DIR": str(media),
              "RATE_LIMITS": {"submit": "1000/hour", "edit": "1000/hour"}}
    runner = runner_factory(config, DirectoryService, SearchService, ContentService, GatewayService)
    runner.start()
    return {**slugs, "record": slugs_record[0], "content_db": content}


@pytest.fixture
def directory_record(hub):
    return hub["record"]


def test_list_pages_show_published_items_only(hub, web_session):
    stories = web_session.get("/stories")
    assert stories.status_code == 200
    assert "Migrants and maps" in stories.text and "A secret draft" not in stories.text
    assert web_session.get(f"/stories/{hub['draft']}").status_code == 404
    events_page = web_session.get("/events").text
    assert "Civic tech day" in events_page and "Online meetup" in events_page and "Last year" not in events_page
    assert "Last year&#39;s summit" in web_session.get("/events/past").text
    funding = web_session.get("/funding").text
    assert "Seed grants" in funding and "Closing soon" in funding and "An old call" not in funding
    assert "An old call" in web_session.get("/funding/closed").text
    assert "A report on DSI" in web_session.get("/resources").text
    assert "Decidim" in web_session.get("/case-studies").text


def test_filters_of_the_events_page(hub, web_session):
    page = web_session.get("/events", params={"attendance": "online"}).text
    assert "Online meetup" in page and "Civic tech day" not in page
    page = web_session.get("/events", params={"country": "IT", "free": "true"}).text
    assert "Civic tech day" in page and "Online meetup" not in page
    assert web_session.get("/events", params={"month": "2026-13"}).status_code == 422


def test_an_item_in_the_visitors_language_or_marked_as_the_original(hub, web_session):
    italian = web_session.get(f"/it/stories/{hub['story']}")
    assert italian.status_code == 200 and "Migranti e mappe" in italian.text
    german = web_session.get(f"/de/stories/{hub['story']}").text
    assert "Migrants and maps" in german and 'lang="en"' in german
    assert "Migranti e mappe" in web_session.get("/it/stories").text


def test_hostile_markdown_is_never_rendered_raw(hub, web_session):
    page = web_session.get(f"/stories/{hub['story']}").text
    assert "<strong>text</strong>" in page
    assert "<script>alert" not in page and "javascript:" not in page and "onerror" not in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold" in page


def test_redirects(hub, web_session):
    moved = web_session.get("/stories/old-title-story", allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/stories/new-story-slug")
    moved = web_session.get("/it/stories/old-title-story", allow_redirects=False)
    assert moved.headers["Location"].endswith("/it/stories/new-story-slug")
    for old, new in (("/blog", "/stories"), ("/blog/12/Migrants and maps", "/stories/migrants-and-maps"),
                     ("/event/7", "/events"), ("/open-data-research-and-resources", "/resources"),
                     ("/case-study/5/decidim", "/case-studies/decidim")):
        answer = web_session.get(old, allow_redirects=False)
        assert answer.status_code == 301 and answer.headers["Location"].endswith(new), old


def test_the_api_in_the_list_contract(hub, web_session):
    answer = web_session.get("/api/stories").json()
    assert answer["total"] == 2 and answer["page"] == 1 and answer["per_page"] == 20
    assert {"id", "kind", "name", "url"} <= set(answer["items"][0])
    assert web_session.get("/api/events", params={"attendance": "online"}).json()["total"] == 1
    assert web_session.get("/api/events", params={"when": "past"}).json()["total"] == 1
    assert web_session.get("/api/funding", params={"status": "closed"}).json()["total"] == 1
    assert web_session.get("/api/clusters").json()["total"] == 1
    one = web_session.get(f"/api/stories/{hub['story']}", params={"lang": "it"}).json()
    assert one["title"] == "Migranti e mappe" and one["lang"] == "it"
    assert web_session.get(f"/api/stories/{hub['draft']}").status_code == 404
    too_many = web_session.get("/api/stories", params={"per_page": 1000})
    assert too_many.status_code == 422 and "per_page" in too_many.json()["details"]
    assert web_session.get("/api/events", params={"country": "Narnia"}).status_code == 422
    assert web_session.get("/api/stories/old-title-story", allow_redirects=False).status_code == 301


def test_rss_feeds(hub, web_session):
    feed = web_session.get("/feeds/stories.rss")
    assert feed.headers["Content-Type"].startswith("application/rss+xml")
    channel = ElementTree.fromstring(feed.content).find("channel")
    titles = [item.findtext("title") for item in channel.iter("item")]
    assert titles == ["Old title story", "Migrants and maps"] or set(titles) == {"Old title story",
                                                                                  "Migrants and maps"}
    descriptions = [item.findtext("description") for item in channel.iter("item")]
    assert "A standfirst bold" in descriptions  # tags removed, not escaped markup
    assert ElementTree.fromstring(web_session.get("/feeds/events.rss").content).find("channel") is not None
    assert ElementTree.fromstring(web_session.get("/feeds/funding.rss").content).find("channel") is not None
    cluster = ElementTree.fromstring(web_session.get("/feeds/clusters/migration-and-integration.rss").content)
    assert [item.findtext("title") for item in cluster.iter("item")] == ["Migrants and maps"]


def test_calendars(hub, web_session):
    calendar = icalendar.Calendar.from_ical(web_session.get("/events.ics").content)
    summaries = {str(event["SUMMARY"]) for event in calendar.walk("VEVENT")}
    assert summaries == {"Civic tech day", "Online meetup"}
    only = icalendar.Calendar.from_ical(web_session.get("/events.ics", params={"attendance": "online"}).content)
    assert [str(event["SUMMARY"]) for event in only.walk("VEVENT")] == ["Online meetup"]
    one = web_session.get(f"/events/{hub['event']}.ics")
    assert one.headers["Content-Type"].startswith("text/calendar")
    [event] = icalendar.Calendar.from_ical(one.content).walk("VEVENT")
    assert str(event["DTSTART"].dt.tzinfo) == "Europe/Rome"
    assert str(event["URL"]).endswith(f"/events/{hub['event']}")
    assert f"/events/{hub['event']}.ics" in web_session.get(f"/events/{hub['event']}").text  # add to calendar
    assert web_session.get("/events/no-such-event.ics").status_code == 404


def test_home_cluster_and_navigation(hub, web_session):
    home = web_session.get("/").text
    for expected in ("Migrants and maps", "Decidim", "Civic tech day", "Seed grants", 'href="/stories"'):
        assert expected in home, expected
    cluster = web_session.get("/clusters/migration-and-integration").text
    assert "People on the move" in cluster and "Nobody Ltd" in cluster
    assert "Migrants and maps" in cluster and "Civic tech day" in cluster
    # the lead partner links to its organisation in the directory once search knows it
    wait_for(lambda: f'href="/organisations/{hub["record"]}">Nobody Ltd' in web_session.get(
        "/clusters/migration-and-integration").text)


def test_a_record_page_shows_the_case_studies_about_it(hub, web_session, directory_record):
    page = web_session.get(f"/organisations/{directory_record}").text
    assert "Case studies and stories" in page and "Decidim" in page


def test_media_is_served_safely(hub, web_session):
    image = web_session.get(f"/media/{PNG_NAME}")
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    for hostile in ("/media/..%2Fsecret.txt", "/media/secret.txt", "/media/%2e%2e/secret.txt"):
        assert web_session.get(hostile).status_code == 404, hostile


def form_token(session, path) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(path).text).group(1)


def test_a_suggestion_through_the_api_waits_for_moderation(hub, web_session):
    body = {"kind": "event", "title": "A suggested hackathon", "start": _soon(30), "email": "someone@example.org"}
    accepted = web_session.post("/api/submissions", json=body)
    assert accepted.status_code == 202, accepted.text
    answer = accepted.json()
    status = web_session.get(f"/api/submissions/{answer['id']}", params={"token": answer["status_token"]})
    assert status.status_code == 200 and status.json()["state"] == "pending"
    assert web_session.get(f"/api/submissions/{answer['id']}", params={"token": "bad"}).status_code == 403
    assert "A suggested hackathon" not in web_session.get("/events").text
    assert web_session.get("/api/events").json()["total"] == 2
    refused = web_session.post("/api/submissions", json={"kind": "funding", "title": "No date",
                                                         "email": "someone@example.org"})
    assert refused.status_code == 422 and "closes_on" in refused.json()["details"]
    refused = web_session.post("/api/submissions", json={**body, "end": _soon(1)})
    assert refused.status_code == 422 and "end" in refused.json()["details"]


def test_the_suggestion_forms(hub, web_session):
    form = {"title": "Grants for <b>cities</b>", "closes_on": (date.today() + timedelta(days=40)).isoformat(),
            "email": "someone@example.org", "rolling": ""}
    assert web_session.post("/funding/suggest", data={**form, "csrf_token": "forged"}).status_code == 403
    sent = web_session.post("/it/funding/suggest", data={**form, "csrf_token": form_token(web_session,
                                                                                          "/funding/suggest")},
                            allow_redirects=False)
    assert sent.status_code == 303, sent.text[:2000]
    assert sent.headers["Location"].startswith("/it/submissions/")
    with Session(hub["content_db"]) as session:  # its mails will be in Italian, linking to Italian pages
        assert session.scalars(select(Suggestion.language)).all() == ["it"]
    status_page = web_session.get(sent.headers["Location"])
    assert status_page.status_code == 200 and "<b>cities</b>" not in status_page.text
    assert "Grants for" not in web_session.get("/funding").text
    missing = web_session.post("/events/suggest", data={"title": "No start", "email": "a@example.org",
                                                        "csrf_token": form_token(web_session, "/events/suggest")})
    assert missing.status_code == 422 and "No start" in missing.text
    polish = web_session.post("/pl/events/suggest", data={"csrf_token": form_token(web_session, "/events/suggest")})
    assert polish.status_code == 422 and "Wypełnij to pole." in polish.text and "Field required" not in polish.text


def test_the_sitemap_lists_published_content_and_its_list_pages(hub, web_session):
    root = ElementTree.fromstring(web_session.get("/sitemap.xml").content)
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    entries = {url.findtext("s:loc", namespaces=namespace): url for url in root.findall("s:url", namespace)}
    for path in (f"/stories/{hub['story']}", f"/events/{hub['event']}", f"/funding/{hub['funding']}",
                 f"/resources/{hub['resource']}", f"/case-studies/{hub['case']}", "/stories", "/case-studies",
                 "/events", "/events/past", "/funding", "/funding/closed", "/resources"):
        assert "http://dsi.test" + path in entries, path
    locations = list(entries)
    assert f"http://dsi.test/stories/{hub['draft']}" not in locations
    assert locations.count(f"http://dsi.test/clusters/{hub['cluster']}") == 1
    assert "http://dsi.test/stories/new-story-slug" in locations and "old-title-story" not in str(locations)
    story = entries[f"http://dsi.test/stories/{hub['story']}"]
    alternates = {link.get("hreflang"): link.get("href") for link in story.findall("x:link", namespace)}
    assert alternates["it"] == f"http://dsi.test/it/stories/{hub['story']}" and len(alternates) == 7
    assert story.findtext("s:lastmod", namespaces=namespace)


def test_a_suggestion_sent_back_for_changes_is_fixed_through_its_edit_link(hub, web_session):
    outbox = OutboxWriter(Outbox, events.CONTENT)
    with Session(hub["content_db"]) as session, session.begin():
        status = suggestions.submit(session, outbox, {
            "kind": "event", "title": "Fix me <i>day</i>", "start": _soon(15), "email": "someone@example.org",
            "city": "Kraków", "attendance": "in_person"}, "http://dsi.test")
        suggestions.apply_decision(session, outbox, {
            "id": "evt-changes", "type": events.CHANGES_REQUESTED, "payload": {
                "submission_id": status["id"], "reason_code": "incomplete", "reason": "Add the <venue>"}},
            "http://dsi.test")
        link = suggestions.edit_url(session.get(suggestions.Suggestion, status["id"]), "")
    form = web_session.get("/it" + link)
    assert form.status_code == 200 and "Modifica il tuo suggerimento" in form.text
    assert "Add the &lt;venue&gt;" in form.text and 'value="Fix me &lt;i&gt;day&lt;/i&gt;"' in form.text
    assert 'value="Kraków"' in form.text and 'name="email"' not in form.text
    assert web_session.get(link.replace("token=", "token=x")).status_code == 403
    fields = {"title": "Fix me day", "start": _soon(15), "city": "Kraków", "venue": "Rynek Główny 1",
              "attendance": "in_person", "timezone": "Europe/Warsaw"}
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    sent = web_session.post("/it" + link, data={**fields, "csrf_token": token}, allow_redirects=False)
    assert sent.status_code == 303, sent.text[:2000]
    assert sent.headers["Location"].startswith("/it/submissions/") and status["id"] not in sent.headers["Location"]
    assert "data-state=\"pending\"" in web_session.get(sent.headers["Location"]).text
    assert "Fix me day" not in web_session.get("/events").text  # back in moderation, not published
    assert web_session.get(link).status_code == 403  # the link is spent
