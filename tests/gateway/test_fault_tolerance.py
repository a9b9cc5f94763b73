"""The gateway when its owners do not answer: submissions and reports kept in its spool and relayed once, reads
served from the last good answer (marked stale) or a clear 503, liveness and readiness, caching headers."""
import re
import uuid
import sqlite3
import time
from pathlib import Path

import eventlet
import pytest
from prometheus_client import REGISTRY
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response
from sqlalchemy import create_engine, text

from dsi.migrations import upgrade
from gateway.common import caching
from gateway.common.templating import render
from gateway.service import GatewayService
from services.directory.service import DirectoryService
from services.newsletter.service import NewsletterService
from tests.factories import organisation_body, project_body
from tests.helpers import wait_for
from tests.newsletter.conftest import newsletter_config


@pytest.fixture
def directory_config(rabbit_config, sqlite_url):
    upgrade("directory", sqlite_url)
    return {**rabbit_config, "DB_URIS": {"directory:Base": sqlite_url}}


@pytest.fixture
def gateway_config(rabbit_config, web_config):
    caching.ANSWERS.clear()  # the memory is the process's: each test starts with none
    return {**rabbit_config, **web_config, "RATE_LIMITS": {"submit": "1000/hour"}}


def submissions_in(sqlite_url: str) -> list[str]:
    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(text("SELECT id FROM submissions"))]
    finally:
        engine.dispose()


def confirmations_in(sqlite_url: str) -> list[str]:
    """Whom the newsletter queued a confirmation mail for (in the sign-up's transaction), by address."""
    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            return sorted(row[0] for row in connection.execute(
                text("SELECT \"to\" FROM mails WHERE template = 'subscription_confirm'")))
    finally:
        engine.dispose()


def spooled(spool_dir: str) -> list[tuple]:
    with sqlite3.connect(Path(spool_dir) / "spool.db") as connection:
        return connection.execute("SELECT id, kind, state FROM items ORDER BY received_at").fetchall()


def relay_attempts(spool_dir: str) -> list[tuple]:
    """Each item's state, attempts, next try (seconds from now) and last error: why the relay has not delivered."""
    with sqlite3.connect(Path(spool_dir) / "spool.db") as connection:
        return connection.execute("SELECT kind, state, attempts, round(due_at - ?, 1), last_error FROM items "
                                  "ORDER BY received_at", (time.time(),)).fetchall()


def test_a_submission_the_directory_cannot_take_is_spooled_relayed_once_across_a_gateway_restart(
        container_factory, directory_config, gateway_config, web_session, sqlite_url):
    gateway = container_factory(GatewayService, gateway_config)
    gateway.start()  # no directory ever ran on this broker: nothing takes the request

    accepted = web_session.post("/api/submissions", json=project_body(name="Kept safe"))
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["queued"] is True and body["state"] == "pending"
    assert spooled(gateway_config["SPOOL_DIR"]) == [(body["id"], "submission", "waiting")]  # on disk already

    status = web_session.get(f"/api/submissions/{body['id']}", params={"token": body["status_token"]})
    assert status.status_code == 200, status.text
    assert status.json()["message"] == "received, waiting to be processed"
    page = web_session.get(f"/submissions/{body['id']}", params={"token": body["status_token"]})
    assert page.status_code == 200 and "Received, waiting to be processed" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    # a wrong token learns nothing: the directory is asked, and does not answer
    assert web_session.get(f"/api/submissions/{body['id']}", params={"token": "forged"}).status_code == 503

    # The gateway restarts (a new process on the same spool), then the directory comes: relayed, once.
    gateway.stop()
    container_factory(GatewayService, gateway_config).start()
    container_factory(DirectoryService, directory_config).start()
    wait_for(lambda: spooled(gateway_config["SPOOL_DIR"]) == [(body["id"], "submission", "delivered")], 30)
    assert submissions_in(sqlite_url) == [body["id"]]
    status = web_session.get(f"/api/submissions/{body['id']}", params={"token": body["status_token"]}).json()
    assert status["state"] == "pending" and status["kind"] == "project" and "queued" not in status


def test_a_sign_up_the_newsletter_cannot_take_is_spooled_and_relayed_once(
        container_factory, rabbit_config, gateway_config, web_session, sink, tmp_path):
    container_factory(GatewayService, gateway_config).start()  # no newsletter ever ran on this broker

    accepted = web_session.post("/api/newsletter/subscribe", json={"email": "ada@example.org", "language": "de"})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json() == {"status": "accepted", "queued": True, "message": "received, waiting to be processed"}
    # the site's form: the same, and the page says so in the visitor's language
    form = web_session.get("/de/newsletter")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    page = web_session.post("/de/newsletter/subscribe", data={"csrf_token": token, "email": "bob@example.org"})
    assert page.status_code == 202 and "Empfangen, wartet auf Bearbeitung" in page.text, page.text
    kept = spooled(gateway_config["SPOOL_DIR"])
    assert [(kind, state) for _, kind, state in kept] == [("sign_up", "waiting")] * 2  # on disk already

    # The newsletter comes: each sign-up relayed under its id and taken once, one confirmation each.
    url = f"sqlite:///{tmp_path}/newsletter.db"
    upgrade("newsletter", url)
    container_factory(NewsletterService, {**rabbit_config, **newsletter_config(sink.port),
                                          "DB_URIS": {"newsletter:Base": url}}).start()
    assert wait_for(lambda: [state for _, _, state in spooled(gateway_config["SPOOL_DIR"])] == ["delivered"] * 2,
                    30), relay_attempts(gateway_config["SPOOL_DIR"])
    assert confirmations_in(url) == ["ada@example.org", "bob@example.org"]
    # a relay that delivered but died before noting it sends the same id again: nothing more happens
    with ClusterRpcProxy(rabbit_config) as cluster:
        again = cluster.newsletter.subscribe({"email": "ada@example.org", "language": "de"}, "", kept[0][0])
    assert again["status"] == "accepted"
    assert confirmations_in(url) == ["ada@example.org", "bob@example.org"]
    sink.wait_for(2)


def test_reads_answer_from_the_last_good_answer_when_the_directory_is_down(
        container_factory, directory_config, gateway_config, web_session, monkeypatch):
    directory = container_factory(DirectoryService, directory_config)
    directory.start()
    container_factory(GatewayService, gateway_config).start()

    fresh = web_session.get("/api/organisations?per_page=5")
    assert fresh.status_code == 200 and "stale" not in fresh.json()
    assert "stale-if-error=" in fresh.headers["Cache-Control"] and fresh.headers["Cache-Control"].startswith("public")
    assert "stale-while-revalidate=" in fresh.headers["Cache-Control"]
    again = web_session.get("/api/organisations?per_page=5", headers={"If-None-Match": fresh.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    by_date = web_session.get("/api/organisations?per_page=5", headers={"If-Modified-Since": fresh.headers["Last-Modified"]})
    assert by_date.status_code == 304 and by_date.headers["ETag"] == fresh.headers["ETag"]
    other_etag = web_session.get("/api/organisations?per_page=5", headers={  # the ETag decides when both are sent
        "If-None-Match": '"elsewhere"', "If-Modified-Since": fresh.headers["Last-Modified"]})
    assert other_etag.status_code == 200 and other_etag.json() == fresh.json()

    directory.stop()
    monkeypatch.setattr(caching, "FRESH_FOR", 0)  # what was kept is no longer fresh: the directory is asked
    served_stale = REGISTRY.get_sample_value("dsi_stale_answers_total", {"service": "directory"}) or 0
    kept = web_session.get("/api/organisations?per_page=5")
    assert kept.status_code == 200
    assert kept.json() == {**fresh.json(), "stale": True}
    assert int(kept.headers["Age"]) >= 0 and kept.headers["X-DSI-Stale"] == "true"
    assert REGISTRY.get_sample_value("dsi_stale_answers_total", {"service": "directory"}) == served_stale + 1

    never_asked = web_session.get("/api/organisations?per_page=6")
    assert never_asked.status_code == 503
    assert never_asked.json()["error"] == "SERVICE_UNAVAILABLE"
    assert int(never_asked.headers["Retry-After"]) > 0 and never_asked.headers["Cache-Control"] == "no-store"


def test_a_fresh_answer_is_served_from_memory_to_the_same_address_only(
        container_factory, directory_config, gateway_config, web_session):
    caching.ANSWERS.clear()
    directory = container_factory(DirectoryService, directory_config)
    directory.start()
    container_factory(GatewayService, gateway_config).start()
    first = web_session.get("/api/organisations?per_page=5")
    page = web_session.get("/data")
    assert first.status_code == page.status_code == 200

    directory.stop()  # from here on, only memory can answer
    again = web_session.get("/api/organisations?per_page=5")
    assert again.status_code == 200 and again.content == first.content and "X-DSI-Stale" not in again.headers
    assert again.headers["ETag"] == first.headers["ETag"] and int(again.headers["Age"]) >= 0
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers["Cache-Control"].startswith("public") and again.headers["X-Request-Id"]
    same_page = web_session.get("/data")
    assert same_page.content == page.content and same_page.headers["Content-Security-Policy"]
    head = web_session.head("/api/organisations?per_page=5")
    assert head.status_code == 200 and head.content == b"" and head.headers["ETag"] == first.headers["ETag"]
    assert head.headers["Cache-Control"].startswith("public")
    # another host, another answer: a page names its own site in its links
    elsewhere = web_session.get("/api/organisations?per_page=5", headers={"Host": "elsewhere.example"})
    assert elsewhere.status_code == 503


def test_a_fresh_answer_is_given_at_the_door_with_its_id_access_line_and_figures(
        container_factory, directory_config, gateway_config, web_session, caplog):
    """Before any route or worker: the access line says so, and the figures count it under its route."""
    container_factory(DirectoryService, directory_config).start()
    container_factory(GatewayService, gateway_config).start()
    route = {"route": "/api/<any(organisations,projects):collection>", "method": "GET"}
    counted = lambda code: REGISTRY.get_sample_value("dsi_http_requests_total", {**route, "code": code}) or 0  # noqa
    before = {code: counted(code) for code in ("200", "304")}
    caplog.set_level("INFO", logger="dsi.logs")
    first = web_session.get("/api/organisations?per_page=3", headers={"X-Request-ID": "asked-1"})
    again = web_session.get("/api/organisations?per_page=3", headers={"X-Request-ID": "asked-2"})
    unchanged = web_session.get("/api/organisations?per_page=3", headers={"If-None-Match": first.headers["ETag"]})
    assert (first.status_code, again.status_code, unchanged.status_code) == (200, 200, 304)
    assert again.content == first.content and again.headers["X-Request-Id"] == "asked-2"
    assert again.headers["X-Content-Type-Options"] == "nosniff" and again.headers["Access-Control-Allow-Origin"]
    assert re.fullmatch(r"[0-9a-f]{32}", unchanged.headers["X-Request-Id"])
    lines = [(record.getMessage(), record.request_id) for record in caplog.records
             if record.getMessage().startswith("GET /api/organisations")]
    assert [(message.split()[2], message.rsplit(": ", 1)[1], request_id) for message, request_id in lines] == [
        ("200", "done", "asked-1"), ("200", "from memory", "asked-2"),
        ("304", "from memory", unchanged.headers["X-Request-Id"])]
    assert (counted("200") - before["200"], counted("304") - before["304"]) == (2, 1)
    assert REGISTRY.get_sample_value("dsi_http_request_duration_seconds_count", route) >= 3


@pytest.mark.parametrize("lang, notice", [
    ("en", "This page may be out of date"), ("de", "Diese Seite ist möglicherweise nicht aktuell"),
    ("fr", "Cette page n’est peut-être pas à jour"), ("it", "Questa pagina potrebbe non essere aggiornata"),
    ("es", "Es posible que esta página no esté actualizada"),
    ("ca", "És possible que aquesta pàgina no estigui actualitzada"), ("pl", "Ta strona może być nieaktualna")])
def test_a_page_served_stale_says_so_in_its_language(lang, notice):
    caching.ANSWERS.clear()
    path = "/newsletter" if lang == "en" else f"/{lang}/newsletter"
    request = Request(EnvironBuilder(path=path).get_environ())
    fresh = caching.remember(request, render("newsletter/message.html", request=request, outcome="confirmed"))
    assert 'class="notice stale"' not in fresh.get_data(as_text=True)

    kept = caching.stale(request, "newsletter").get_data(as_text=True)
    assert f'<div class="notice stale" role="status"><p>{notice}' in kept
    assert "<!--stale-notice" not in kept


def test_a_published_change_makes_kept_answers_out_of_date(
        container_factory, directory_config, gateway_config, web_session, web_config_port, rabbit_config):
    container_factory(DirectoryService, directory_config).start()
    container_factory(GatewayService, gateway_config).start()
    fresh = web_session.get("/api/organisations?per_page=5")
    request = Request(EnvironBuilder(path="/api/organisations", query_string="per_page=5",
                                     base_url=f"http://127.0.0.1:{web_config_port}",
                                     headers={"If-None-Match": fresh.headers["ETag"]}).get_environ())
    assert caching.fresh_answer(request).etag == fresh.headers["ETag"]  # answered from memory

    event_dispatcher(rabbit_config)("directory", "record_published", {"kind": "organisation", "id": 1})
    wait_for(lambda: caching.fresh_answer(request) is None, 10)  # the next request asks the directory
    assert web_session.get("/api/organisations?per_page=5").json() == fresh.json()


def test_parts_pages_share_are_kept_fresh_until_an_event_and_a_gateway_sees_only_its_own(monkeypatch):
    caching.ANSWERS.clear()
    now = [1000.0]
    monkeypatch.setattr(caching.time, "time", lambda: now[0])
    monkeypatch.setattr(caching.ANSWERS, "clock", lambda: now[0])
    monkeypatch.setattr(caching, "_out_of_date_before", 0.0)  # no event yet on this clock
    made = []
    make = lambda: made.append(1) or {"organisations": len(made)}  # noqa: E731
    mine, other = caching.Parts("part a "), caching.Parts("part b ")
    assert mine.get("stats", make) == mine.get("stats", make) == {"organisations": 1}
    assert other.get("stats", make) == {"organisations": 2}  # another gateway's parts are its own
    assert mine.get("nothing", lambda: None) is None and "part a nothing" not in caching.ANSWERS  # owner down
    caching.out_of_date()
    now[0] += 1  # made while the change may still be on its way to search: not kept as fresh
    assert mine.get("stats", make) == {"organisations": 3} and mine.get("stats", make) == {"organisations": 4}
    now[0] += caching.SETTLE
    assert mine.get("stats", make) == mine.get("stats", make) == {"organisations": 5}
    now[0] += caching.FRESH_FOR
    assert mine.get("stats", make) == {"organisations": 6}


def test_a_part_many_pages_need_at_once_is_made_once_and_a_failure_reaches_them_all():
    caching.ANSWERS.clear()
    parts, made = caching.Parts(f"part {uuid.uuid4().hex} "), []

    def slow_count():
        made.append(1)
        eventlet.sleep(0.2)  # the owner answers while other pages ask for the same part
        return {"organisations": len(made)}

    pages = [eventlet.spawn(parts.get, "stats", slow_count) for _ in range(5)]
    assert [page.wait() for page in pages] == [{"organisations": 1}] * 5 and len(made) == 1

    def failing():
        eventlet.sleep(0.2)
        raise RuntimeError("the owner broke")

    pages = [eventlet.spawn(parts.get, "broken", failing) for _ in range(3)]
    for page in pages:
        with pytest.raises(RuntimeError, match="the owner broke"):
            page.wait()
    assert parts.get("broken", lambda: {"back": True}) == {"back": True}  # nothing left waiting or kept

    def unkeepable():
        eventlet.sleep(0.2)
        return {"not JSON"}  # made, but it cannot be kept: only its maker fails

    maker, *waiters = [eventlet.spawn(parts.get, "unkeepable", unkeepable) for _ in range(3)]
    with eventlet.Timeout(5):  # its waiters are answered, not left waiting
        assert [waiter.wait() for waiter in waiters] == [{"not JSON"}] * 2
    with pytest.raises(TypeError):
        maker.wait()


def test_a_head_is_answered_with_the_caching_headers_of_its_get():
    caching.ANSWERS.clear()
    for method in ("GET", "HEAD"):
        request = Request(EnvironBuilder(path="/data", method=method).get_environ())
        with_cookie = Response("a page", headers={"Set-Cookie": "visitor=1"})
        assert caching.remember(request, with_cookie).headers["Cache-Control"] == caching.NO_STORE
        kept = caching.remember(request, Response("a page"))
        assert kept.headers["Cache-Control"] == caching.PUBLIC and kept.headers["ETag"]


def test_liveness_and_readiness_name_what_is_missing(container_factory, directory_config, gateway_config,
                                                     web_session):
    container_factory(DirectoryService, directory_config).start()
    container_factory(GatewayService, gateway_config).start()
    live = web_session.get("/healthz")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = web_session.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["checks"]["broker"] == "ok" and body["checks"]["directory"] == "ok"
    assert set(body["missing"]) == {"search", "moderation", "newsletter", "content"}


def test_pages_with_forms_and_tokens_are_never_kept(container_factory, directory_config, gateway_config,
                                                    web_session):
    container_factory(DirectoryService, directory_config).start()
    container_factory(GatewayService, gateway_config).start()
    assert web_session.get("/join/organisation").headers["Cache-Control"] == "no-store"  # a CSRF form
    assert web_session.get("/console/login").headers["Cache-Control"] == "no-store"
    assert web_session.post("/api/submissions", json=organisation_body()).headers["Cache-Control"] == "no-store"
