"""The editors' content console, end to end: content, moderation (staff accounts), directory, search and the
gateway on a real RabbitMQ vhost, driven over HTTP like a browser (CSRF tokens, session cookies, roles)."""
import io
import re

import pytest
from PIL import Image

from gateway.service import GatewayService
from services.content.service import ContentService
from services.moderation.service import ModerationService
from tests.helpers import add_staff, console_browser, csrf_of, migrated_sqlite

HOSTILE = 'Hello **editor**\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))'


@pytest.fixture
def console(runner_factory, rabbit_config, web_config, web_config_port, tmp_path, engine_for):
    urls = migrated_sqlite(tmp_path, "content", "moderation")
    add_staff(engine_for(urls["moderation"]), "editor", "moderator")
    config = {**rabbit_config, **web_config, "PUBLIC_URL": "http://dsi.test", "MEDIA_DIR": str(tmp_path / "media"),
              "DB_URIS": {"content:Base": urls["content"], "moderation:Base": urls["moderation"]}}
    runner_factory(config, ContentService, ModerationService, GatewayService).start()
    return lambda email=None: console_browser(web_config_port, email)


def test_an_editor_writes_previews_publishes_and_restores_a_story(console):
    editor, visitor = console("editor@example.org"), console()
    form = editor.get("/console/content/new/story")
    assert form.status_code == 200 and "data-markdown" in form.text
    fields = {"title": "Console story", "summary": "A standfirst", "body": HOSTILE, "category": "news",
              "authors": "Ada, Grace", "csrf_token": csrf_of(form.text)}
    preview = editor.post("/console/content/new/story", data={**fields, "action": "preview"})
    assert preview.status_code == 200 and "<strong>editor</strong>" in preview.text
    assert "<script>alert(1)" not in preview.text and 'href="javascript:' not in preview.text
    assert "&lt;script&gt;alert(1)" in preview.text  # the Markdown source, escaped in its text area
    live = editor.post("/console/content/preview", data={"markdown": "*live*", "csrf_token": fields["csrf_token"]})
    assert live.json()["html"].strip() == "<p><em>live</em></p>"
    created = editor.post("/console/content/new/story", data={**fields, "action": "save"})
    assert created.status_code == 303, re.findall(r"<li>[^<]*</li>", created.text)
    item_path = created.headers["Location"].split("?")[0]
    page = editor.get(item_path)
    assert "draft" in page.text
    assert visitor.get("/stories/console-story").status_code == 404  # a draft stays invisible
    token = re.search(r'href="/preview/([^"]+)"', page.text)[1]
    shared = visitor.get(f"/preview/{token}")
    assert shared.status_code == 200 and "Console story" in shared.text and shared.headers["X-Robots-Tag"] == "noindex"
    assert visitor.get("/preview/forged-token").status_code == 403

    edited = editor.post(item_path, data={**fields, "title": "Console story, edited", "action": "save",
                                          "slug": "console-story", "csrf_token": csrf_of(page.text)})
    assert edited.status_code == 303
    published = editor.post(f"{item_path}/publish", data={"csrf_token": csrf_of(page.text)})
    assert published.status_code == 303
    public = visitor.get("/stories/console-story")
    assert public.status_code == 200 and "Console story, edited" in public.text and "<script>alert" not in public.text

    history = editor.get(f"{item_path}/history")
    assert "editor@example.org" in history.text and "title" in history.text
    first = re.findall(r'action="(/console/content/\d+/restore/\d+)"', history.text)[-1]
    assert editor.post(first, data={"csrf_token": csrf_of(history.text)}).status_code == 303
    assert "Console story, edited" not in visitor.get("/stories/console-story").text

    assert editor.post(f"{item_path}/unpublish", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    assert visitor.get("/stories/console-story").status_code == 404


def test_field_errors_and_csrf_and_roles(console):
    editor = console("editor@example.org")
    form = editor.get("/console/content/new/event")
    bad = editor.post("/console/content/new/event", data={"title": "", "timezone": "Mars/Olympus",
                                                          "csrf_token": csrf_of(form.text), "action": "save"})
    assert bad.status_code == 422 and "timezone" in bad.text
    assert editor.post("/console/content/new/story", data={"title": "Forged", "csrf_token": "x"}).status_code == 403
    assert console().get("/console/content").status_code == 303  # to the login page
    moderator = console("moderator@example.org")
    assert moderator.get("/console/content").status_code == 403
    assert console("editor@example.org").get("/console/content").status_code == 200


def test_image_upload_needs_alt_text_and_a_real_image(console):
    editor = console("editor@example.org")
    form = editor.get("/console/content/images")
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(image, "PNG")
    refused = editor.post("/console/content/images", data={"alt": "", "csrf_token": csrf_of(form.text)},
                          files={"image": ("red.png", image.getvalue(), "image/png")})
    assert refused.status_code == 422
    fake = editor.post("/console/content/images", data={"alt": "A fake", "csrf_token": csrf_of(form.text)},
                       files={"image": ("fake.png", b"<svg onload=alert(1)>", "image/png")})
    assert fake.status_code == 422
    uploaded = editor.post("/console/content/images", data={"alt": "A red square", "csrf_token": csrf_of(form.text)},
                           files={"image": ("red.png", image.getvalue(), "image/png")})
    assert uploaded.status_code == 200, uploaded.text
    url = re.search(r'src="(/media/[^"]+)"', uploaded.text)[1]
    served = console().get(url)
    assert served.status_code == 200 and served.headers["Content-Type"].startswith("image/")
