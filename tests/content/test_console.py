"""The editors' content console, end to end: content, moderation (staff accounts), directory, search and the
gateway on a real RabbitMQ vhost, driven over HTTP like a browser (CSRF tokens, session cookies, roles)."""
import io
import re

import pytest
from PIL import Image

from gateway.common.http import PayloadTooLarge
from gateway.console import content as content_console
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
    assert "(Story, Draft)" in page.text
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
    token = csrf_of(form.text)
    assert editor.post("/console/language", data={"language": "pl", "next": "/console/content",
                                                  "csrf_token": token}).status_code == 303
    polish = editor.post("/console/content/new/event", data={"title": "", "csrf_token": token, "action": "save"})
    assert polish.status_code == 422 and "<li>title: Wypełnij to pole.</li>" in polish.text
    assert "Field required" not in polish.text  # the summary and the field, in the staff member's language
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


def test_an_image_over_5_mb_is_refused_with_a_clear_413(console):
    editor = console("editor@example.org")
    token = csrf_of(editor.get("/console/content/images").text)
    declared = editor.post("/console/content/images", data={"alt": "Huge", "csrf_token": token},
                           files={"image": ("huge.png", b"\0" * (6 * 1024 * 1024), "image/png")})
    assert declared.status_code == 413 and "The image is larger than 5 MB." in declared.text
    # a body just within the form's allowance, whose image is one byte over: read in chunks, then refused
    just_over = editor.post("/console/content/images", data={"alt": "Huge", "csrf_token": token},
                            files={"image": ("big.png", b"\0" * (5 * 1024 * 1024 + 1), "image/png")})
    assert just_over.status_code == 413
    assert "The image is larger than 5 MB. Choose a smaller file" in just_over.text
    assert 'name="alt"' in just_over.text  # the upload form again, to choose another file


def test_an_upload_is_read_in_bounded_chunks():
    class Endless(io.RawIOBase):
        read_bytes = 0

        def read(self, size=-1):
            assert 0 < size <= content_console.CHUNK_BYTES  # never "everything"
            self.read_bytes += size
            return b"x" * size

    stream = Endless()
    with pytest.raises(PayloadTooLarge):
        content_console.read_bounded(stream, 1000)
    assert stream.read_bytes == content_console.CHUNK_BYTES
    assert content_console.read_bounded(io.BytesIO(b"abc"), 3) == b"abc"


def test_two_editors_on_one_item_the_second_save_is_refused_and_keeps_its_text(console):
    ada, grace = console("editor@example.org"), console("editor@example.org")
    form = ada.get("/console/content/new/story")
    created = ada.post("/console/content/new/story", data={
        "title": "Shared story", "body": "First text", "csrf_token": csrf_of(form.text), "action": "save"})
    item_path = created.headers["Location"].split("?")[0]
    pages = {name: browser.get(item_path).text for name, browser in (("ada", ada), ("grace", grace))}
    opened = re.search(r'name="edit_version" value="(\d+)"', pages["grace"])[1]

    def save(browser, page, body):
        return browser.post(item_path, data={"title": "Shared story", "body": body, "action": "save",
                                             "edit_version": opened, "csrf_token": csrf_of(page)})

    assert save(ada, pages["ada"], "Ada's words").status_code == 303
    refused = save(grace, pages["grace"], "Grace's <b>words</b>")
    assert refused.status_code == 409
    assert "saved this item" in refused.text and "Your changes were not saved" in refused.text
    assert "Grace&#39;s &lt;b&gt;words&lt;/b&gt;" in refused.text  # what she typed, kept (and escaped)
    assert "Open the latest version in a new tab" in refused.text
    latest = re.search(r'name="edit_version" value="(\d+)"', refused.text)[1]
    assert int(latest) > int(opened)
    assert "Ada&#39;s words" in ada.get(item_path).text  # nothing overwritten
    again = grace.post(item_path, data={"title": "Shared story", "body": "Grace's words", "action": "save",
                                        "edit_version": latest, "csrf_token": csrf_of(refused.text)})
    assert again.status_code == 303  # a save after seeing the conflict replaces it knowingly

    # the JSON API: the ETag is the version; a save needs it, and a stale one is a 409 with the message
    item_id = item_path.rsplit("/", 1)[1]
    got = grace.get(f"/api/content/{item_id}")
    assert got.status_code == 200 and got.headers["ETag"] == f'"{got.json()["edit_version"]}"'
    fields = {**got.json()["fields"], "body": "From the API"}
    assert grace.put(f"/api/content/{item_id}", json=fields).status_code == 428
    assert grace.put(f"/api/content/{item_id}", json=fields, headers={"If-Match": '"1"'}).status_code == 409
    stale = grace.put(f"/api/content/{item_id}", json={**fields, "edit_version": 1})
    assert stale.status_code == 409 and stale.json()["error"] == "CONFLICT"
    assert "Your changes were not saved" in stale.json()["message"]
    saved = grace.put(f"/api/content/{item_id}", json=fields, headers={"If-Match": got.headers["ETag"]})
    assert saved.status_code == 200 and saved.json()["fields"]["body"] == "From the API"
    assert saved.headers["ETag"] == f'"{saved.json()["edit_version"]}"' != got.headers["ETag"]
    assert grace.get(f"/api/content/{item_id}").headers["ETag"] == saved.headers["ETag"]
    assert console().get(f"/api/content/{item_id}").status_code == 403  # editors only
