"""The newsletter's pages in the visitor's language: at /<lang>/newsletter/… every page, form and link stays in
that language, and a sign-up from the Polish page is a Polish subscription (real RabbitMQ, SMTP sink, SQLite)."""
import re

import pytest

from dsi.migrations import upgrade
from gateway.service import GatewayService
from gateway.common.templating import environment
from services.newsletter.service import NewsletterService
from tests.helpers import press_the_button
from tests.newsletter.conftest import newsletter_config


@pytest.fixture
def pages(runner_factory, rabbit_config, web_config, web_config_port, sink, sqlite_url):
    upgrade("newsletter", sqlite_url)
    config = {**rabbit_config, **web_config, "DB_URIS": {"newsletter:Base": sqlite_url},
              **newsletter_config(sink.port, PUBLIC_URL=f"http://127.0.0.1:{web_config_port}")}
    runner_factory(config, NewsletterService, GatewayService).start()


def test_the_polish_pages_speak_polish_and_keep_the_prefix(pages, web_session, sink):
    form = web_session.get("/pl/newsletter")
    assert form.status_code == 200 and '<html lang="pl">' in form.text
    assert "<h1>Newsletter DSI</h1>" in form.text and "The DSI newsletter" not in form.text
    assert 'action="/pl/newsletter/subscribe"' in form.text and 'href="/pl/newsletter/archive"' in form.text
    assert '<option value="pl" selected>' in form.text  # the page's language is the proposed one
    assert "Demokracja cyfrowa" in form.text  # the social areas, translated

    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    posted = web_session.post("/pl/newsletter/subscribe", data={"csrf_token": token, "email": "ola@example.org"})
    assert posted.status_code == 202 and "Sprawdź skrzynkę odbiorczą" in posted.text
    confirmation = sink.wait_for(1, address="ola@example.org")[0]
    assert confirmation["Subject"] == "Potwierdź subskrypcję newslettera DSI"  # no language field: the page's

    wrong = web_session.post("/pl/newsletter/subscribe", data={"csrf_token": token, "email": "ola"})
    assert wrong.status_code == 422 and "Podaj adres e-mail, na przykład imie@example.org." in wrong.text
    assert "valid email" not in wrong.text and "@-sign" not in wrong.text  # the validator's English stays out

    forged = press_the_button(web_session, "/pl/newsletter/confirm?token=forged")[1]
    assert forged.status_code == 403 and "Tego linku nie można użyć" in forged.text
    archive = web_session.get("/pl/newsletter/archive")
    assert archive.status_code == 200 and "Nie wysłano jeszcze żadnego wydania." in archive.text
    assert 'href="/pl/newsletter"' in archive.text

    english = web_session.get("/newsletter")  # without a prefix, still English
    assert "<h1>The DSI newsletter</h1>" in english.text and 'action="/newsletter/subscribe"' in english.text


def test_the_home_page_leads_to_the_form_in_the_page_language():
    home = environment.get_template("home.html")
    for lang, signup in [("pl", "/pl/newsletter"), ("en", "/newsletter")]:
        html = home.render(lang=lang, stats=None, latest=None, clusters={}, editorial={})
        assert f'href="{signup}"' in html
