"""Integration: the content and moderation services in real nameko containers on a throwaway RabbitMQ vhost.

Editors work through RPC with a staff session the moderation service checks; a suggestion goes through the
moderation queue and is published on approval; events leave through the outbox.
"""
import base64
import io
from datetime import datetime, timedelta

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from PIL import Image

from dsi import events
from dsi.errors import Forbidden, InvalidInput, NotFound
from services.content.service import ContentService
from services.moderation.service import ModerationService
from tests.helpers import STAFF_PASSWORD, add_staff, migrated_sqlite, wait_for


@pytest.fixture
def platform(runner_factory, rabbit_config, tmp_path, engine_for):
    urls = migrated_sqlite(tmp_path, "content", "moderation")
    add_staff(engine_for(urls["moderation"]), "editor", "moderator")
    config = {**rabbit_config, "DB_URIS": {"content:Base": urls["content"], "moderation:Base": urls["moderation"]},
              "MEDIA_DIR": str(tmp_path / "media"), "PUBLIC_URL": "https://dsi.test"}
    runner_factory(config, ContentService, ModerationService).start()
    with ClusterRpcProxy(config, timeout=10) as cluster:
        cookies = {role: cluster.moderation.login(f"{role}@example.org", STAFF_PASSWORD)["session"]
                   for role in ("editor", "moderator")}
        yield cluster, cookies, tmp_path


def test_an_editor_creates_and_publishes_and_search_hears_of_it(platform, event_spy):
    cluster, cookies, _ = platform
    spy = event_spy(events.CONTENT, events.CONTENT_PUBLISHED)
    editor = cookies["editor"]
    created = cluster.content.create(editor, "story", {"title": "Hello hub", "body": "**Bold** news"})
    assert created["state"] == "draft" and created["updated_by"] == "editor@example.org"
    with pytest.raises(NotFound):
        cluster.content.get_item("story", "hello-hub")
    cluster.content.publish(editor, created["id"])
    shown = cluster.content.get_item("story", "hello-hub", "de")
    assert shown["body_html"] == "<p><strong>Bold</strong> news</p>" and shown["lang"] == "en"
    spy.drain(until=lambda got: got)
    assert spy.received[0]["payload"]["item"]["url"] == "/stories/hello-hub"
    assert [entry["action"] for entry in cluster.content.history(editor, created["id"])] == ["created", "publish"]
    assert cluster.content.render_preview(editor, "<script>x</script>*hi*")["html"] == "<p><em>hi</em></p>"


def test_only_editors_and_admins_change_content(platform):
    cluster, cookies, _ = platform
    for cookie in (cookies["moderator"], "forged", None):
        with pytest.raises(Forbidden):
            cluster.content.create(cookie, "story", {"title": "Sneaky"})
    assert cluster.content.list_items("story")["total"] == 0
    with pytest.raises(InvalidInput):
        cluster.content.create(cookies["editor"], "story", {"title": ""})


def test_an_image_upload_through_rpc(platform):
    cluster, cookies, tmp_path = platform
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="PNG")
    stored = cluster.content.upload_image(cookies["editor"], base64.b64encode(out.getvalue()).decode(), "Black")
    assert (tmp_path / "media" / stored["url"].removeprefix("/media/")).exists()
    with pytest.raises(InvalidInput):
        cluster.content.upload_image(cookies["editor"], base64.b64encode(b"GIF89a not really").decode(), "x")


def test_a_suggested_event_is_published_when_a_moderator_approves(platform, event_spy):
    cluster, cookies, _ = platform
    decided = event_spy(events.CONTENT, events.SUBMISSION_DECIDED)
    start = (datetime.now() + timedelta(days=9)).replace(microsecond=0, second=0)
    status = cluster.content.submit({"kind": "event", "email": "fan@example.org", "title": "Repair cafe",
                                     "start": start.isoformat(), "timezone": "Europe/Amsterdam",
                                     "city": "Amsterdam", "country": "NL", "free": True})
    moderator = cookies["moderator"]
    queued = wait_for(lambda: cluster.moderation.list_queue(moderator, {"kind": "event"})["items"])
    assert [(item["submission_id"], item["name"]) for item in queued] == [(status["id"], "Repair cafe")]
    assert cluster.content.list_items("event")["total"] == 0  # invisible until approved

    cluster.moderation.decide(moderator, status["id"], {"decision": "approve", "version": queued[0]["version"]})
    page = wait_for(lambda: cluster.content.list_items("event", {"country": "NL"})["items"])
    assert page[0]["name"] == "Repair cafe"
    assert cluster.content.submission_status(status["id"], status["status_token"])["state"] == "approved"
    decided.drain(until=lambda got: got)
    assert decided.received[0]["payload"]["state"] == "approved"
    wait_for(lambda: cluster.moderation.show(moderator, status["id"])["state"] == "approved")
    ics = cluster.content.event_ics(page[0]["slug"])
    assert "DTSTART;TZID=Europe/Amsterdam:" in ics and "URL:https://dsi.test/events/repair-cafe" in ics


def test_the_timer_publishes_a_scheduled_item(platform, event_spy):
    cluster, cookies, _ = platform
    spy = event_spy(events.CONTENT, events.CONTENT_PUBLISHED)
    editor = cookies["editor"]
    created = cluster.content.create(editor, "story", {"title": "Later news"})
    soon = (datetime.now().astimezone() + timedelta(seconds=2)).isoformat()
    assert cluster.content.schedule(editor, created["id"], soon)["state"] == "scheduled"
    assert cluster.content.list_items("story")["total"] == 0
    wait_for(lambda: cluster.content.list_items("story")["total"] == 1, seconds=20)
    spy.drain(until=lambda got: got)
    # One event (delivery is at least once: the sweep may send it again, with the same id, for consumers to skip)
    assert {(event["id"], event["payload"]["item"]["id"]) for event in spy.received} == {
        (spy.received[0]["id"], created["id"])}
    assert cluster.content.editor_get(editor, created["id"])["state"] == "published"
