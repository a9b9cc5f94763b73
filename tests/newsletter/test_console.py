"""The editors' newsletter console, end to end: the newsletter, moderation (staff accounts) and gateway services
on a real RabbitMQ vhost and the SMTP sink, driven over HTTP like a browser."""
import re

import pytest
import requests
from nameko.standalone.events import event_dispatcher

from gateway.service import GatewayService
from services.moderation.service import ModerationService
from services.newsletter.service import NewsletterService
from tests.helpers import add_staff, console_browser, csrf_of, migrated_sqlite
from tests.newsletter.conftest import newsletter_config, wait_until
from tests.newsletter.factories import published


@pytest.fixture
def console(runner_factory, rabbit_config, web_config, web_config_port, sink, tmp_path, engine_for):
    urls = migrated_sqlite(tmp_path, "newsletter", "moderation")
    add_staff(engine_for(urls["moderation"]), "editor", "moderator")
    config = {**rabbit_config, **web_config, **newsletter_config(sink.port),
              "DB_URIS": {"newsletter:Base": urls["newsletter"], "moderation:Base": urls["moderation"]}}
    runner_factory(config, NewsletterService, ModerationService, GatewayService).start()
    send = event_dispatcher(config)
    send("directory", "record_published", published(1, name="Care <Map>"))

    def browser(email=None) -> requests.Session:
        return console_browser(web_config_port, email)

    browser.config = config
    return browser


def test_editors_prepare_test_and_schedule_an_edition(console, sink):
    assert console().get("/console/newsletter").status_code == 303  # to the login page
    assert console("moderator@example.org").get("/console/newsletter").status_code == 403
    editor = console("editor@example.org")
    listing = editor.get("/console/newsletter")
    assert listing.status_code == 200 and "No editions yet" in listing.text
    token = csrf_of(listing.text)

    refused = editor.post("/console/newsletter", data={"csrf_token": token, "month": "2026-13"})
    assert refused.status_code == 422 and "YYYY-MM" in refused.text
    assert editor.post("/console/newsletter", data={"month": "2026-10"}).status_code == 403  # no CSRF token
    created = editor.post("/console/newsletter", data={"csrf_token": token, "month": "2026-10"})
    assert created.status_code == 303
    page_path = re.sub(r"^https?://[^/]+", "", created.headers["Location"])

    assert wait_until(lambda: "Care &lt;Map&gt;" in editor.get(page_path).text)  # the read model caught up
    saved = editor.post(page_path + "/edit", data={"csrf_token": token, "subject": "",
                                                   "intro": "Hello <script>alert(1)</script>"})
    assert saved.status_code == 303
    page = editor.get(page_path + "?language=de")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    assert "DSI-Neuigkeiten: Oktober 2026" in page.text

    html = editor.get(page_path + "/preview")
    assert html.status_code == 200 and "Care &lt;Map&gt;" in html.text
    assert "script-src" not in html.headers["Content-Security-Policy"]  # default-src 'none': no scripts at all

    bad = editor.post(page_path + "/test", data={"csrf_token": token, "to": "not an address", "language": "en"})
    assert bad.status_code == 422 and "not an address" in bad.text
    assert editor.post(page_path + "/test", data={"csrf_token": token, "to": "me@example.org",
                                                  "language": "en"}).status_code == 303
    [test_copy] = sink.wait_for(1, address="me@example.org")
    assert test_copy["Subject"] == "[TEST] DSI news: October 2026"
    assert "Hello <script>alert(1)</script>" in test_copy.get_body(("plain",)).get_content()

    scheduled = editor.post(page_path + "/schedule", data={"csrf_token": token, "at": "2030-01-02T09:30"})
    assert scheduled.status_code == 303
    page = editor.get(page_path)
    assert "Edition of 2026-10: Scheduled" in page.text and "2030-01-02 09:30" in page.text
    late = editor.post(page_path + "/act", data={"csrf_token": token, "action": "resume"})
    assert late.status_code == 409 and "cannot resume" in late.text
    assert editor.post(page_path + "/act", data={"csrf_token": token, "action": "cancel"}).status_code == 303
    assert "Edition of 2026-10: Cancelled" in editor.get(page_path).text
    assert "2026-10" in editor.get("/console/newsletter").text


def test_editors_write_texts_per_language_and_drop_or_reorder_items(console):
    from tests.newsletter.factories import content_published

    editor = console("editor@example.org")
    token = csrf_of(editor.get("/console/newsletter").text)
    created = editor.post("/console/newsletter", data={"csrf_token": token, "month": "2026-10"})
    page_path = re.sub(r"^https?://[^/]+", "", created.headers["Location"])
    send = event_dispatcher(console.config)
    for item_id, title in ((1, "First <story>"), (2, "Second story"), (3, "Third story")):
        send("content", "content_published", content_published(item_id, title=title))
    assert wait_until(lambda: "Third story" in editor.get(page_path).text)
    assert "First &lt;story&gt;" in editor.get(page_path).text

    arranged = editor.post(page_path + "/arrange", data={
        "csrf_token": token, "section": "stories", "keep": ["1", "3"], "position-1": "2", "position-3": "1"})
    assert arranged.status_code == 303
    text = editor.get(page_path).text
    preview = text[text.index('class="mail-preview"'):]
    assert preview.index("Third story") < preview.index("First &lt;story&gt;") and "Second story" not in preview
    assert "(arranged)" in text
    bad = editor.post(page_path + "/arrange", data={"csrf_token": token, "section": "stories", "keep": ["99"]})
    assert bad.status_code == 422
    assert editor.post(page_path + "/arrange", data={"section": "stories", "keep": ["1"]}).status_code == 403

    assert editor.post(page_path + "/edit", data={"csrf_token": token, "text_language": "it",
                                                  "subject": "Notizie di ottobre", "intro": "Ciao"}).status_code == 303
    assert editor.post(page_path + "/edit", data={"csrf_token": token, "text_language": "",
                                                  "subject": "October news", "intro": "Hello"}).status_code == 303
    assert "Subject: <strong>Notizie di ottobre</strong>" in editor.get(page_path + "?language=it").text
    assert "Subject: <strong>October news</strong>" in editor.get(page_path + "?language=fr").text
