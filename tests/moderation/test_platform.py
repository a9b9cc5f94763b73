"""End to end: directory, moderation and gateway on a real RabbitMQ vhost, driven over HTTP like a browser."""
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from jsonschema import Draft202012Validator
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi import events
from dsi.errors import Forbidden
from dsi.migrations import upgrade
from gateway.service import GatewayService
from services.directory.service import DirectoryService
from services.moderation import accounts
from services.moderation.service import ModerationService
from tests.factories import organisation_body, project_body
from tests.helpers import wait_for
from tests.moderation.conftest import PASSWORD


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


@pytest.fixture
def platform(runner_factory, rabbit_config, web_config, tmp_path, engine_for):
    directory_url, moderation_url = f"sqlite:///{tmp_path}/directory.db", f"sqlite:///{tmp_path}/moderation.db"
    upgrade("directory", directory_url)
    upgrade("moderation", moderation_url)
    engine = engine_for(moderation_url)

    def start(**settings):
        config = {**rabbit_config, **web_config,
                  "DB_URIS": {"directory:Base": directory_url, "moderation:Base": moderation_url},
                  "RATE_LIMITS": {"submit": "1000/hour", "report": "1000/hour", "login": "1000/minute"},
                  "PROXY_HOPS": 1, "REPORT_THRESHOLD": 3, "LOGIN_MAX_FAILURES": 3, **settings}
        runner_factory(config, DirectoryService, ModerationService, GatewayService).start()

        def add_staff(role, email):
            with Session(engine) as session, session.begin():
                accounts.create_staff(session, {"email": email, "role": role, "password": PASSWORD})

        return {"config": config, "add_staff": add_staff}

    return start


@pytest.fixture
def site(platform):
    return platform()


@pytest.fixture
def browser(web_config_port):
    """Logged-in browsers: `browser(email)` gives a requests session holding that staff member's cookie."""
    sessions = []

    def open_as(email=None, password=PASSWORD, forwarded_proto=None):
        session = requests.Session()
        session.base = f"http://127.0.0.1:{web_config_port}"
        sessions.append(session)
        if email:
            response = log_in(session, email, password, forwarded_proto)
            assert response.status_code == 303, response.text
        return session

    yield open_as
    for session in sessions:
        session.close()


def get(session, path, **kwargs):
    return session.get(session.base + path, allow_redirects=False, **kwargs)


def post(session, path, data=None, csrf_from=None, **kwargs):
    data = list(data.items()) if isinstance(data, dict) else list(data or [])
    if csrf_from is not None:
        data.append(("csrf_token", csrf_of(get(session, csrf_from).text)))
    return session.post(session.base + path, data=data, allow_redirects=False, **kwargs)


def log_in(session, email, password=PASSWORD, forwarded_proto=None):
    headers = {"X-Forwarded-Proto": forwarded_proto} if forwarded_proto else {}
    return post(session, "/console/login", {"email": email, "password": password}, csrf_from="/console/login",
                headers=headers)


def submit(session, body):
    response = session.post(session.base + "/api/submissions", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def in_queue(moderator, submission_id):
    return wait_for(lambda: (page := get(moderator, f"/console/items/{submission_id}")).status_code == 200 and page)


def decide(moderator, submission_id, decision, reason_code="", reason=""):
    page = in_queue(moderator, submission_id).text
    return post(moderator, f"/console/items/{submission_id}",
                {"decision": decision, "reason_code": reason_code, "reason": reason, "version": version_of(page),
                 "csrf_token": csrf_of(page)})


def record_id_of(moderator, submission_id) -> int:
    page = in_queue(moderator, submission_id).text
    return int(re.search(r'data-record="(\d+)"', page).group(1))


def mails(spy, template):
    """The mails of `template` requested so far; an event may arrive twice (at-least-once), so once per id."""
    unique = {e["id"]: e["payload"] for e in spy.received if e["type"] == events.MAIL_REQUESTED}
    return [payload for payload in unique.values() if payload["template"] == template]


def test_submit_approve_publish_with_full_history(site, browser):
    site["add_staff"]("moderator", "mod@example.org")
    moderator = browser("mod@example.org")
    submitted = submit(moderator, organisation_body(name="Open Health Lab"))
    queue = wait_for(lambda: "Open Health Lab" in (page := get(moderator, "/console/queue").text) and page, 5)
    assert "Pending (1)" in queue
    record_id = record_id_of(moderator, submitted["id"])
    assert get(moderator, f"/api/organisations/{record_id}").status_code == 404

    assert decide(moderator, submitted["id"], "approve").status_code == 303
    public = wait_for(lambda: (r := get(moderator, f"/api/organisations/{record_id}")).status_code == 200 and r)
    assert public.json()["name"] == "Open Health Lab"
    history = wait_for(lambda: "Applied by the directory" in (
        page := get(moderator, f"/console/items/{submitted['id']}").text) and page)
    steps = re.findall(r"<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>[^<]*→", history)
    assert steps == [("The submitter", "Submitted (9 fields)"), ("mod@example.org", "Approved"),
                     ("The directory", "Applied by the directory")]
    assert "Decision saved: Approved." in get(moderator, f"/console/items/{submitted['id']}?done=approve").text
    assert "address not confirmed yet" in history  # so its decision is not mailed


def _submitted_for_review(site, browser, event_spy, body):
    """A moderator's browser, a submission of `body` waiting for review, its record id, and a spy on the mails."""
    spy = event_spy(events.DIRECTORY, events.MAIL_REQUESTED)
    site["add_staff"]("moderator", "mod@example.org")
    moderator = browser("mod@example.org")
    submitted = submit(moderator, body)
    spy.drain(until=lambda got: mails(spy, "submission_received"))  # decisions go to confirmed addresses only
    confirm_url = mails(spy, "submission_received")[0]["context"]["confirm_url"]
    confirmed = moderator.post(moderator.base + f"/api/submissions/{submitted['id']}/confirm",
                               params={"token": parse_qs(urlparse(confirm_url).query)["token"][0]})
    assert confirmed.status_code == 200, confirmed.text
    wait_for(lambda: "address confirmed" in in_queue(moderator, submitted["id"]).text)  # moderators see it
    return spy, moderator, submitted, record_id_of(moderator, submitted["id"])


def test_reject_is_never_public_and_the_reason_reaches_the_submitter(site, browser, event_spy):
    spy, moderator, submitted, record_id = _submitted_for_review(site, browser, event_spy,
                                                                 project_body(name="Pill Shop"))
    page = in_queue(moderator, submitted["id"]).text
    assert page.count('<option value="other"') == 1  # each reason once, though both decisions allow it
    missing = decide(moderator, submitted["id"], "reject")  # no reason: refused, nothing decided
    assert missing.status_code == 422 and "reason_code" in missing.text
    reason = "We list social innovation, not shops."
    assert decide(moderator, submitted["id"], "reject", "spam", reason).status_code == 303

    spy.drain(until=lambda got: mails(spy, "submission_rejected"))
    [mail] = mails(spy, "submission_rejected")
    assert mail["to"] == "lead@example.org"
    assert (mail["context"]["reason_code"], mail["context"]["reason"]) == ("spam", reason)
    status = get(moderator, f"/api/submissions/{submitted['id']}", params={"token": submitted["status_token"]}).json()
    assert status["state"] == "rejected" and status["reason"] == "We list social innovation, not shops."
    assert get(moderator, f"/api/projects/{record_id}").status_code == 404
    assert get(moderator, "/api/projects").json()["total"] == 0
    history = get(moderator, f"/console/items/{submitted['id']}").text
    assert "<strong>Spam or advertising</strong>" in history and "<strong>spam</strong>" not in history


def test_an_edit_waits_while_the_old_version_stays_public(site, browser, event_spy):
    spy, moderator, submitted, record_id = _submitted_for_review(site, browser, event_spy,
                                                                 organisation_body(name="Open Health Lab"))
    decide(moderator, submitted["id"], "approve")
    spy.drain(until=lambda got: mails(spy, "submission_approved"))
    edit_token = parse_qs(urlparse(mails(spy, "submission_approved")[0]["context"]["edit_url"]).query)["token"][0]

    edit = organisation_body(name="Open Health Lab", short_description="Now also in Madrid.")
    edit.pop("kind"), edit.pop("email")
    proposed = moderator.put(moderator.base + f"/api/records/{record_id}", params={"token": edit_token}, json=edit)
    assert proposed.status_code == 202, proposed.text
    page = in_queue(moderator, proposed.json()["id"]).text
    assert "Changes against the published version" in page and "Now also in Madrid." in page
    assert "Citizen-led tools for community health." in page  # the published value, shown next to it
    assert get(moderator, f"/api/organisations/{record_id}").json()["short_description"] == \
        "Citizen-led tools for community health."

    decide(moderator, proposed.json()["id"], "approve")
    wait_for(lambda: get(moderator, f"/api/organisations/{record_id}").json()["short_description"]
             == "Now also in Madrid.")

    linking = submit(moderator, project_body(name="Care Map", organisations=[{"id": record_id, "role": "lead"}]))
    page = in_queue(moderator, linking["id"]).text
    assert "<li>Open Health Lab (Lead)</li>" in page and "&#34;role&#34;" not in page  # by name, not as JSON


def test_request_changes_then_edit_through_the_link_returns_to_the_queue(site, browser, event_spy):
    spy, moderator, submitted, record_id = _submitted_for_review(site, browser, event_spy,
                                                                 project_body(name="Care Map"))
    decide(moderator, submitted["id"], "request_changes", "incomplete", "Please add your website's privacy page.")
    spy.drain(until=lambda got: mails(spy, "submission_changes_requested"))
    [mail] = mails(spy, "submission_changes_requested")
    assert mail["context"]["reason"] == "Please add your website's privacy page."
    edit_url = urlparse(mail["context"]["edit_url"])
    assert edit_url.path == f"/records/{record_id}/edit"

    edit = project_body(name="Care Map", website="https://caremap.example.org/privacy")
    edit.pop("kind"), edit.pop("email")
    again = moderator.put(moderator.base + f"/api/records/{record_id}",
                          params={"token": parse_qs(edit_url.query)["token"][0]}, json=edit)
    assert again.status_code == 202, again.text
    status_page = get(moderator, f"/submissions/{submitted['id']}", params={"token": submitted["status_token"]})
    assert "Please add your website&#39;s privacy page." in status_page.text
    page = in_queue(moderator, again.json()["id"]).text
    assert "resubmitted" in get(moderator, "/console/queue").text
    assert f'/console/items/{submitted["id"]}' in page  # the earlier round is linked from the new one
    assert get(moderator, f"/api/projects/{record_id}").status_code == 404
    decide(moderator, again.json()["id"], "approve")
    wait_for(lambda: get(moderator, f"/api/projects/{record_id}").status_code == 200)


def test_two_moderators_race_on_one_item(site, browser):
    site["add_staff"]("moderator", "ana@example.org")
    site["add_staff"]("admin", "ben@example.org")
    ana, ben = browser("ana@example.org"), browser("ben@example.org")
    submitted = submit(ana, organisation_body())
    page_ana, page_ben = in_queue(ana, submitted["id"]).text, in_queue(ben, submitted["id"]).text
    assert version_of(page_ana) == version_of(page_ben)
    first = post(ana, f"/console/items/{submitted['id']}", {
        "decision": "approve", "version": version_of(page_ana), "csrf_token": csrf_of(page_ana)})
    second = post(ben, f"/console/items/{submitted['id']}", {
        "decision": "reject", "reason_code": "spam", "reason": "spam", "version": version_of(page_ben),
        "csrf_token": csrf_of(page_ben)})
    assert first.status_code == 303
    assert second.status_code == 409 and "already approved by ana@example.org" in second.text
    history = get(ben, f"/console/items/{submitted['id']}").text
    assert history.count("<td>ana@example.org</td>") == 1 and "<td>ben@example.org</td>" not in history


def test_bulk_decisions_answer_per_item(site, browser):
    site["add_staff"]("moderator", "mod@example.org")
    moderator = browser("mod@example.org")
    ids = [submit(moderator, project_body(name=f"Bulk {n}"))["id"] for n in range(3)]
    for submission_id in ids:
        in_queue(moderator, submission_id)
    decide(moderator, ids[0], "approve")  # decided before the bulk action: its version is stale
    queue = get(moderator, "/console/queue").text
    picks = re.findall(r'name="item" value="([^"]+)"', queue)
    assert len(picks) == 2
    stale = f"{ids[0]}:1"
    response = post(moderator, "/console/queue/bulk", [("item", pick) for pick in picks + [stale]] + [
        ("decision", "reject"), ("reason_code", "not_dsi"), ("reason", "Not DSI."),
        ("csrf_token", csrf_of(queue))])
    assert response.status_code == 200
    assert "2 of 3 decided." in response.text and "not changed" in response.text
    named = dict(re.findall(r'href="/console/items/([^"]+)">([^<]+)</a>', response.text))
    assert named == {submission_id: f"Bulk {n}" for n, submission_id in enumerate(ids)}  # by name, not by id
    assert "already approved" in response.text  # why the stale one did not change


def test_visitors_editors_and_forged_posts_are_refused(site, browser, rabbit_config):
    site["add_staff"]("editor", "ed@example.org")
    site["add_staff"]("moderator", "mod@example.org")
    visitor, editor, moderator = browser(), browser("ed@example.org"), browser("mod@example.org")
    submitted = submit(visitor, organisation_body())
    in_queue(moderator, submitted["id"])

    for path in ("/console/queue", f"/console/items/{submitted['id']}", "/console/reports", "/console/staff"):
        refused = get(visitor, path)
        assert refused.status_code == 303 and refused.headers["Location"].startswith("/console/login?next=")
        assert get(editor, path).status_code == 403
    assert get(moderator, "/console/staff").status_code == 403  # admins only
    assert get(editor, "/console").headers["Location"] == "/console/newsletter"
    assert get(moderator, "/console").headers["Location"] == "/console/queue"
    assert get(visitor, "/console").headers["Location"].startswith("/console/login")

    page = get(moderator, f"/console/items/{submitted['id']}").text
    forged = post(moderator, f"/console/items/{submitted['id']}", {"decision": "approve", "version": version_of(page)})
    assert forged.status_code == 403
    by_visitor = post(visitor, f"/console/items/{submitted['id']}", {"decision": "approve", "version": "1",
                                                                      "csrf_token": csrf_of(page)})
    assert by_visitor.status_code in (303, 403)
    assert "<strong>Pending</strong>" in get(moderator, f"/console/items/{submitted['id']}").text

    # the service refuses on its own too, whatever the caller
    with ServiceRpcProxy("moderation", rabbit_config) as moderation:
        for cookie in ("", "forged", editor.cookies.get("dsi_staff")):
            with pytest.raises(Forbidden):
                moderation.list_queue(cookie, {})
        assert moderation.list_queue(moderator.cookies.get("dsi_staff"), {})["total"] == 1


def test_login_cookie_logout_and_lockout(site, browser):
    site["add_staff"]("moderator", "mod@example.org")
    behind_tls = browser()
    response = log_in(behind_tls, "mod@example.org", forwarded_proto="https")
    cookie = response.headers["Set-Cookie"]
    assert "dsi_staff=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    plain = browser("mod@example.org")
    assert "Secure" not in log_in(browser(), "mod@example.org").headers["Set-Cookie"]
    assert get(plain, "/console/queue").status_code == 200
    old_cookie = plain.cookies.get("dsi_staff")
    assert post(plain, "/console/logout", csrf_from="/console/queue").status_code == 303
    stolen = browser()
    stolen.cookies.set("dsi_staff", old_cookie)
    assert get(stolen, "/console/queue").status_code == 303  # the session ended on the server

    stranger = browser()
    assert log_in(stranger, "mod@example.org", "wrong password").status_code == 403
    assert log_in(stranger, "nobody@example.org", "wrong password").status_code == 403
    for _ in range(2):
        log_in(stranger, "mod@example.org", "wrong password")
    locked = log_in(stranger, "mod@example.org")  # the right password, but locked after three failures
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_login_is_rate_limited_per_client(platform, browser):
    site = platform(RATE_LIMITS={"login": "2/minute"})
    site["add_staff"]("moderator", "mod@example.org")
    client = browser()
    codes = [log_in(client, "mod@example.org", "wrong password").status_code for _ in range(3)]
    assert codes == [403, 403, 429]


def test_admin_creates_a_moderator_in_the_console(site, browser):
    site["add_staff"]("admin", "admin@example.org")
    admin = browser("admin@example.org")
    weak = post(admin, "/console/staff", {"action": "create", "email": "new@example.org", "role": "moderator",
                                          "password": "short"}, csrf_from="/console/staff")
    assert weak.status_code == 422 and "password" in weak.text
    created = post(admin, "/console/staff", {"action": "create", "email": "new@example.org", "role": "moderator",
                                             "password": PASSWORD}, csrf_from="/console/staff")
    assert created.status_code == 200 and "Created the account of new@example.org (Moderator)." in created.text
    newcomer = browser("new@example.org")
    assert get(newcomer, "/console/queue").status_code == 200


def test_reports_hide_a_record_until_a_moderator_restores_it(site, browser):
    site["add_staff"]("moderator", "mod@example.org")
    moderator = browser("mod@example.org")
    submitted = submit(moderator, project_body(name="Care Map"))
    record_id = record_id_of(moderator, submitted["id"])
    decide(moderator, submitted["id"], "approve")
    wait_for(lambda: get(moderator, f"/api/projects/{record_id}").status_code == 200)

    def report(address, **body):
        return moderator.post(moderator.base + f"/api/records/project/{record_id}/reports",
                              json={"reason_code": "spam", "text": "Ads", **body},
                              headers={"X-Forwarded-For": address})

    first = report("198.51.100.1")
    assert first.status_code == 202
    document = get(moderator, "/api/openapi.json").json()
    responses = document["paths"]["/api/records/{kind}/{id}/reports"]["post"]["responses"]
    Draft202012Validator(responses["202"]["content"]["application/json"]["schema"]).validate(first.json())
    assert report("198.51.100.1").status_code == 409  # once per reporter
    assert report("198.51.100.2", reason_code="dislike").status_code == 422
    assert moderator.post(moderator.base + "/api/records/project/99999/reports",
                          json={"reason_code": "spam"}).status_code == 404
    # the record page leads to the report form, as a visitor's browser sends it
    visitor = browser()
    record_page = get(visitor, f"/projects/{record_id}")
    assert f'href="/projects/{record_id}/report"' in record_page.text
    assert record_page.headers["Cache-Control"].startswith("public")  # no form of the visitor's own: cacheable
    form_page = get(visitor, f"/projects/{record_id}/report").text
    assert f'action="/projects/{record_id}/report"' in form_page and "Care Map" in form_page
    assert get(visitor, "/projects/99999/report").status_code == 404  # only a published record is reported
    polish_page = get(visitor, f"/pl/projects/{record_id}/report").text
    unexplained = post(visitor, f"/pl/projects/{record_id}/report", {"csrf_token": csrf_of(polish_page)},
                       headers={"X-Forwarded-For": "198.51.100.9"})
    assert unexplained.status_code == 422 and "Wybierz z listy." in unexplained.text
    assert "choose one of" not in unexplained.text and "reason_code" not in unexplained.text  # no English, no codes
    sent = post(visitor, f"/projects/{record_id}/report", {"reason_code": "incorrect", "text": "Closed in 2020",
                                                           "csrf_token": csrf_of(form_page)},
                headers={"X-Forwarded-For": "198.51.100.2"})
    assert sent.status_code == 202 and "Thank you" in sent.text
    assert get(moderator, f"/api/projects/{record_id}").status_code == 200  # two reports: still public
    assert report("198.51.100.3").status_code == 202
    wait_for(lambda: get(moderator, f"/api/projects/{record_id}").status_code == 404)

    reports_page = get(moderator, "/console/reports").text
    assert "Care Map" in reports_page and "Hidden until a moderator decides" in reports_page
    case = get(moderator, f"/console/reports/project/{record_id}").text
    assert "Closed in 2020" in case
    restored = post(moderator, f"/console/reports/project/{record_id}",
                    {"action": "restore", "version": version_of(case), "csrf_token": csrf_of(case)})
    assert restored.status_code == 303
    wait_for(lambda: get(moderator, f"/api/projects/{record_id}").status_code == 200)


def test_a_redelivered_event_enters_the_queue_once(container_factory, rabbit_config, sqlite_url, engine_for):
    from kombu import Connection, Exchange

    from dsi.events import envelope
    from services.moderation.models import HistoryEntry, QueueItem
    from tests.moderation.factories import received

    upgrade("moderation", sqlite_url)
    container_factory(ModerationService, {**rabbit_config, "DB_URIS": {"moderation:Base": sqlite_url}}).start()
    event = envelope(events.DIRECTORY, events.SUBMISSION_RECEIVED, received())
    with Connection(rabbit_config["AMQP_URI"]) as connection:
        exchange = Exchange(f"{events.DIRECTORY}.events", type="topic", durable=True)
        producer = connection.Producer(serializer="json")
        for _ in range(3):  # at-least-once delivery: the same event, again and again
            producer.publish(event, exchange=exchange, routing_key=events.SUBMISSION_RECEIVED, delivery_mode=2)
    engine = engine_for(sqlite_url)

    def entries():
        with Session(engine) as session:
            return session.scalars(select(HistoryEntry)).all()

    wait_for(entries)
    time.sleep(0.5)  # let any duplicate finish
    with Session(engine) as session:
        assert len(session.scalars(select(QueueItem)).all()) == 1
    assert len(entries()) == 1


def test_each_staff_member_picks_the_consoles_language(site, browser):
    site["add_staff"]("moderator", "ola@example.org")
    ola = browser("ola@example.org")
    queue = get(ola, "/console/queue").text
    assert 'action="/console/language"' in queue and 'href="/pl/console' not in queue  # no page to 404
    picked = post(ola, "/console/language", {"language": "pl", "next": "/console/queue?state=pending"},
                  csrf_from="/console/queue")
    assert picked.status_code == 303 and picked.headers["Location"] == "/console/queue?state=pending"
    again = browser("ola@example.org")  # a new session: the pick is kept with the account
    page = get(again, "/console/queue").text
    assert '<html lang="pl">' in page and ">Kolejka</a>" in page and '<option value="pl" lang="pl" selected>' in page
    assert "<h1>Kolejka moderacji</h1>" in page and "Oczekujące (0)" in page and "Pending" not in page
    refused = post(again, "/console/language", {"language": "xx"}, csrf_from="/console/queue")
    assert refused.status_code == 422
    elsewhere = post(again, "/console/language", {"language": "de", "next": "https://evil.example/"},
                     csrf_from="/console/queue")
    assert elsewhere.headers["Location"] == "/console"
