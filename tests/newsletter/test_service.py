"""End to end: the newsletter service and the gateway on real RabbitMQ, the SMTP sink, SQLite.

Subscribe over HTTP → confirm with the link from the real message → the directory publishes → the edition
arrives with exactly the month's records → a bare POST to its List-Unsubscribe URL unsubscribes."""
import json
import logging
import re
from urllib.parse import urlparse

import pytest
from jsonschema import Draft202012Validator
from nameko.exceptions import IncorrectSignature
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi import events
from dsi.migrations import upgrade
from gateway.service import GatewayService
from services.newsletter.models import Subscriber
from services.newsletter.service import NewsletterService
from tests.helpers import press_the_button
from tests.newsletter.conftest import newsletter_config, wait_until
from tests.newsletter.factories import published, unpublished


@pytest.fixture
def platform(runner_factory, rabbit_config, web_config, web_config_port, sink, sqlite_url):
    upgrade("newsletter", sqlite_url)
    config = {**rabbit_config, **web_config, "DB_URIS": {"newsletter:Base": sqlite_url},
              **newsletter_config(sink.port, PUBLIC_URL=f"http://127.0.0.1:{web_config_port}")}
    runner = runner_factory(config, NewsletterService, GatewayService)
    runner.start()
    return config


@pytest.fixture
def dispatch(platform):
    send = event_dispatcher(platform)
    return lambda event: send(event["producer"], event["type"], event)


@pytest.fixture
def newsletter(platform):
    with ServiceRpcProxy("newsletter", platform) as proxy:
        yield proxy


@pytest.fixture
def documented(platform, web_session):
    """Checks an /api/newsletter answer against the OpenAPI document the gateway serves; returns the JSON."""
    uri = "https://dsi.test/openapi.json"
    registry = Registry().with_resource(uri, DRAFT202012.create_resource(web_session.get("/api/openapi.json").json()))

    def check(route: str, response):
        method = response.request.method.lower()
        pointer = ("/paths/" + route.replace("/", "~1") + f"/{method}/responses/{response.status_code}"
                   "/content/application~1json/schema")
        validator = Draft202012Validator({"$ref": f"{uri}#{pointer}"}, registry=registry)
        errors = list(validator.iter_errors(response.json()))
        assert not errors, f"{method} {route} {response.status_code}: {errors[0].message}"
        return response.json()

    return check


def path_of(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.path}?{parts.query}"


def link(message, path: str) -> str:
    return re.search(rf"http://\S+{re.escape(path)}\?token=\S+", message.get_body(("plain",)).get_content())[0]


def test_subscribe_confirm_receive_the_edition_and_unsubscribe_in_one_click(
        platform, web_session, sink, dispatch, newsletter, sqlite_url, engine_for, documented, caplog):
    caplog.set_level(logging.INFO)
    body = {"email": "reader@example.org", "language": "en", "social_areas": ["Health and care"]}
    answer = web_session.post("/api/newsletter/subscribe", json=body)
    assert answer.status_code == 202, answer.text
    documented("/api/newsletter/subscribe", answer)
    [confirmation] = sink.wait_for(1, address="reader@example.org")
    assert web_session.post("/api/newsletter/subscribe", json=body).json() == answer.json()  # nothing learnt

    confirm_link = link(confirmation, "/newsletter/confirm")
    page, confirmed = press_the_button(web_session, path_of(confirm_link))
    # opening the link confirms nothing (a mail scanner follows links); its button does
    assert page.status_code == 200 and "Confirm my subscription" in page.text and "You are subscribed" not in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    secret = confirm_link.split("token=")[1]
    assert wait_until(lambda: "GET /newsletter/confirm?token=[token] 200" in caplog.text)  # the access log masks it
    assert secret not in caplog.text

    for event in (published(1), published(2, kind="organisation", published_at="2026-10-20T08:00:00+00:00"),
                  published(3, published_at="2026-09-30T08:00:00+00:00"), published(4), unpublished(4, 2)):
        dispatch(event)
    edition = newsletter.create_edition("2026-10")
    assert wait_until(lambda: newsletter.preview_edition(edition["id"])["items"] == 2)
    preview = newsletter.preview_edition(edition["id"], "en", ["health-and-care"])
    assert "Picked for your interests" in preview["text"]
    newsletter.update_edition(edition["id"], {"intro": "Hello, network."})
    newsletter.send_test(edition["id"], "editor@example.org")
    assert sink.wait_for(1, address="editor@example.org")[0]["Subject"].startswith("[TEST] DSI news")
    newsletter.schedule_edition(edition["id"])

    [copy] = [m for m in sink.wait_for(3, address="reader@example.org") if m["Subject"] == "DSI news: October 2026"]
    text = copy.get_body(("plain",)).get_content()
    assert re.findall(r"^\* (.+?) \(", text, re.M) == ["Project 1", "Organisation 2"]  # exactly the month's records
    assert "Hello, network." in text
    assert wait_until(lambda: newsletter.edition_report(edition["id"])["state"] == "finished")

    unsubscribe = copy["List-Unsubscribe"].strip("<>")
    assert copy["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = web_session.post(path_of(unsubscribe), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert unsubscribe.split("token=")[1] not in caplog.text
    again = web_session.post(path_of(unsubscribe).replace("/newsletter/", "/api/newsletter/"))
    assert documented("/api/newsletter/unsubscribe", again)["state"] == "unsubscribed"
    with Session(engine_for(sqlite_url)) as session:
        assert session.scalar(select(Subscriber.state)) == "unsubscribed"

    archive = documented("/api/newsletter/editions", web_session.get("/api/newsletter/editions"))
    assert [item["month"] for item in archive["items"]] == ["2026-10"] and archive["total"] == 1
    assert archive["items"][0]["sent_at"].endswith("+00:00")  # UTC, said so, on SQLite too
    shown = documented("/api/newsletter/editions/{month}", web_session.get("/api/newsletter/editions/2026-10"))
    assert [i["name"] for s in shown["sections"] for i in s["items"]] == ["Project 1", "Organisation 2"]
    documented("/api/newsletter/editions/{month}", web_session.get("/api/newsletter/editions/2026-09"))
    page = web_session.get("/newsletter/archive/2026-10")
    assert page.status_code == 200 and "Project 1" in page.text and "Project 3" not in page.text
    assert web_session.get("/newsletter/archive/2026-09").status_code == 404


def test_the_home_page_form_and_bad_input(platform, web_session, sink, documented):
    form = web_session.get("/newsletter")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    posted = web_session.post("/newsletter/subscribe", data={
        "csrf_token": token, "email": "form@example.org", "language": "fr", "social_areas": ["science"]})
    assert posted.status_code == 202 and "Check your inbox" in posted.text
    assert sink.wait_for(1, address="form@example.org")[0]["Subject"].startswith("Confirmez")

    invalid = web_session.post("/newsletter/subscribe", data={"csrf_token": token, "email": "<script>@x"})
    assert invalid.status_code == 422 and "<script>@x" not in invalid.text and "&lt;script&gt;@x" in invalid.text
    web_session.cookies.clear()  # another site's form: no token, no cookie
    forged = web_session.post("/newsletter/subscribe", data={"email": "x@example.org"})
    assert forged.status_code == 403 and "not sent from our site" in forged.text

    bad = web_session.post("/api/newsletter/subscribe", json={"email": "nope", "social_areas": ["Astrology"]})
    assert bad.status_code == 422 and set(documented("/api/newsletter/subscribe", bad)["details"]) == {
        "email", "social_areas.0"}
    assert web_session.post("/api/newsletter/subscribe", data=b"{oops",
                            headers={"Content-Type": "application/json"}).status_code == 400
    assert web_session.post("/api/newsletter/subscribe", data=b"{oops").status_code == 415  # not declared JSON
    forged = web_session.post("/api/newsletter/confirm?token=forged")
    assert forged.status_code == 403 and documented("/api/newsletter/confirm", forged)
    assert press_the_button(web_session, "/newsletter/confirm?token=forged")[1].status_code == 403
    assert web_session.get("/api/newsletter/preferences").status_code == 403
    bad_month = web_session.get("/api/newsletter/editions/2026-13")
    assert bad_month.status_code == 422 and documented("/api/newsletter/editions/{month}", bad_month)
    assert web_session.get("/api/newsletter/editions?page=0").status_code == 422


def test_preferences_page_export_and_erase(platform, web_session, sink, newsletter, documented):
    web_session.post("/api/newsletter/subscribe", json={"email": "pref@example.org"})
    confirmation = sink.wait_for(1, address="pref@example.org")[0]
    press_the_button(web_session, path_of(link(confirmation, "/newsletter/confirm")))
    web_session.post("/api/newsletter/subscribe", json={"email": "pref@example.org"})
    exists = [m for m in sink.wait_for(2, address="pref@example.org") if "already" in m["Subject"]][0]
    preferences = path_of(link(exists, "/newsletter/preferences"))

    page = web_session.get(preferences)
    assert page.status_code == 200 and "pref@example.org" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    saved = web_session.post(preferences, data={"csrf_token": token, "language": "de",
                                                "social_areas": ["science", "health-and-care"]})
    assert saved.status_code == 200 and "saved" in saved.text
    api = preferences.replace("/newsletter/", "/api/newsletter/")
    current = documented("/api/newsletter/preferences", web_session.get(api))
    assert current["social_areas"] == ["science", "health-and-care"]
    changed = web_session.put(api, json={"language": "fr", "social_areas": ["science"]})
    assert documented("/api/newsletter/preferences", changed)["language"] == "fr"
    exported = documented("/api/newsletter/export", web_session.get(api.replace("/preferences", "/export")))
    assert exported["subscriber"]["language"] == "fr"
    assert len(exported["mails"]) == 2
    erased = web_session.post(preferences.replace("/preferences", "/erase"), data={"csrf_token": token})
    assert erased.status_code == 200
    gone = web_session.get(api)
    assert gone.status_code == 404 and documented("/api/newsletter/preferences", gone)
    with pytest.raises(IncorrectSignature):  # an RPC declared with session_rpc checks its arguments like a method
        newsletter.erase_subscriber("a-token", "one argument too many")


def test_mail_requested_by_other_services_is_sent(platform, sink, dispatch):
    dispatch(events.envelope(events.DIRECTORY, events.MAIL_REQUESTED, {
        "template": "submission_changes_requested", "to": "founder@example.org", "language": "en",
        "context": {"name": "Care Map", "reason": "Please add a website.", "reason_code": "incomplete",
                    "reason_label": "Information is missing", "edit_url": "http://dsi.test/records/3/edit?token=abc"}}))
    dispatch(events.envelope(events.MODERATION, events.MAIL_REQUESTED, {
        "template": "submission_approved", "to": "founder@example.org", "language": "en",
        "context": {"name": "Care Map", "action": "create"}}))
    messages = sink.wait_for(2, address="founder@example.org")
    assert sorted(m["Subject"] for m in messages) == ["Care Map is now published",
                                                      "Please update Care Map before it can be published"]
    changes = next(m for m in messages if m["Subject"].startswith("Please update"))
    assert "What to change: Information is missing" in changes.get_body(("plain",)).get_content()


def test_editors_use_the_dsi_command_over_rpc(platform, sink, dispatch, monkeypatch, capsys):
    from dsi.cli import main

    monkeypatch.setenv("AMQP_URI", platform["AMQP_URI"])

    def dsi(*argv):
        code = main(["newsletter", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    assert main(["ping", "newsletter"]) == 0 and '"status": "ok"' in capsys.readouterr().out.replace("'", '"')
    dispatch(published(7, name="Open Care"))
    code, out, _ = dsi("create", "2026-10")
    edition = json.loads(out)
    assert code == 0 and edition["state"] == "draft"
    code, _, err = dsi("create", "2026-10")
    assert code == 2 and "exists already" in err  # refused, with the reason
    assert json.loads(dsi("edit", str(edition["id"]), "--intro", "Dear <network>")[1])["intro"] == "Dear <network>"
    assert wait_until(lambda: "Open Care" in dsi("preview", str(edition["id"]))[1])
    assert "Dear &lt;network&gt;" in dsi("preview", str(edition["id"]), "--html")[1]
    assert json.loads(dsi("test", str(edition["id"]), "editor@example.org")[1])["queued"] is True
    assert sink.wait_for(1, address="editor@example.org")[0]["Subject"] == "[TEST] DSI news: October 2026"
    code, _, err = dsi("schedule", str(edition["id"]), "--at", "tomorrow")
    assert code == 2 and "ISO 8601" in err
    assert json.loads(dsi("schedule", str(edition["id"]), "--at", "2030-01-01T09:00:00Z")[1])["state"] == "scheduled"
    assert json.loads(dsi("unschedule", str(edition["id"]))[1])["state"] == "draft"
    assert [e["month"] for e in json.loads(dsi("list")[1])] == ["2026-10"]
    assert json.loads(dsi("report", str(edition["id"]))[1])["recipients"] == {}
    assert dsi("purge")[1].strip() == "purged 0 sign-ups"


def test_the_edition_learns_content_through_its_events_and_the_editor_arranges_it(dispatch, newsletter):
    from datetime import timedelta

    from dsi.clock import utcnow
    from services.newsletter.editions import previous_month
    from tests.newsletter.factories import content_published, content_unpublished

    now = utcnow()
    month = previous_month(now)
    in_month = f"{month}-15T10:00:00+00:00"
    for event in (content_published(1, title="Makers against loneliness", published_at=in_month),
                  content_published(2, title="Open schools", published_at=in_month),
                  content_published(3, title="A withdrawn story", published_at=in_month), content_unpublished(3, 2),
                  content_published(10, kind="event", title="DSI Fair",
                                    starts_at=(now + timedelta(days=5)).isoformat(), city="Brussels"),
                  content_published(20, kind="funding", title="Civic tech call",
                                    closes_on=(now + timedelta(days=20)).date().isoformat())):
        dispatch(event)
    edition = newsletter.create_edition(month)
    assert wait_until(lambda: newsletter.preview_edition(edition["id"])["items"] == 4)
    text = newsletter.preview_edition(edition["id"])["text"]
    assert text.index("Makers against loneliness") < text.index("Open schools") < text.index("DSI Fair") \
        < text.index("Civic tech call")
    assert "A withdrawn story" not in text

    arranged = newsletter.arrange_edition(edition["id"], {"sections": {"stories": [2]}})
    assert arranged["arrangement"] == {"stories": [2]}
    listed = newsletter.edition_items(edition["id"])["sections"]["stories"]
    assert ([i["name"] for i in listed["items"]], [i["name"] for i in listed["dropped"]]) == (
        ["Open schools"], ["Makers against loneliness"])
    newsletter.update_edition(edition["id"], {"subjects": {"it": "Notizie DSI"}, "subject": "DSI news"})
    assert newsletter.preview_edition(edition["id"], "it")["subject"] == "Notizie DSI"
    shown = newsletter.preview_edition(edition["id"], "de")
    assert shown["subject"] == "DSI news" and "Makers against loneliness" not in shown["text"]
