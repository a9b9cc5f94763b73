"""One request followed by its id through every service's log: the gateway, directory, moderation and search each
run as their own process (`nameko run`, LOG_FORMAT=json) on the test's vhost. A moderator approves a submission
with a chosen X-Request-ID; the approval travels gateway → moderation (RPC) → directory (event) → search (event),
and each of them writes JSON lines naming it. No line holds an e-mail address, a password or a token."""
import json
import re
import time
import uuid

import pytest
import requests
from sqlalchemy.orm import Session

from dsi.database import make_engine
from dsi.migrations import upgrade
from services.moderation import accounts
from tests.factories import organisation_body
from tests.processes import nameko_run, stop, wait_until_it_answers

SERVICES = {"directory": "services.directory.service:DirectoryService",
            "moderation": "services.moderation.service:ModerationService",
            "content": "services.content.service:ContentService",  # search builds its index from both owners
            "search": "services.search.service:SearchService", "gateway": "gateway.service:GatewayService"}
MODERATOR = {"email": "moderator@example.org", "role": "moderator", "password": "a long moderator password"}
FIELDS = {"time", "level", "service", "message", "request_id", "event_id"}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def wait_for(check, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.2)
    return result


@pytest.fixture
def platform(rabbit_config, web_config, web_config_port, tmp_path):
    """The services in processes of their own, logging JSON lines to a file each; their URL and log files."""
    urls = {name: f"sqlite:///{tmp_path}/{name}.db" for name in ("directory", "moderation", "content")}
    for name, url in urls.items():
        upgrade(name, url)
    engine = make_engine(urls["moderation"])
    with Session(engine) as session, session.begin():
        accounts.create_staff(session, MODERATOR)
    engine.dispose()
    config = {**rabbit_config, **web_config, "DB_URIS": {f"{name}:Base": url for name, url in urls.items()},
              "SEARCH_INDEX_DIR": str(tmp_path / "search"), "SEARCH_CATCH_UP_DELAY": 0.2,
              "MEDIA_DIR": str(tmp_path / "media"),
              "LOGGING": {"version": 1, "disable_existing_loggers": False,
                          "handlers": {"console": {"class": "logging.StreamHandler"}},
                          "root": {"level": "INFO", "handlers": ["console"]}}}
    config_file = tmp_path / "config.yml"
    config_file.write_text(json.dumps(config))
    logs, processes = {}, []
    try:
        for name, service in SERVICES.items():
            logs[name] = tmp_path / f"{name}.log"
            with open(logs[name], "wb") as output:
                processes.append(nameko_run(config_file, service, env={"LOG_FORMAT": "json"}, stdout=output,
                                            stderr=output))
        url = f"http://127.0.0.1:{web_config_port}"
        for process in processes:
            wait_until_it_answers(f"{url}/api/search", process)
        yield url, logs
    finally:
        for process in processes:
            stop(process)


def lines(path) -> list[dict]:
    """Every line of a log, each of which must be one JSON object with the traced fields."""
    parsed = []
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)  # fails the test on a line that is not JSON
            assert FIELDS <= set(record), record
            parsed.append(record)
    return parsed


def test_one_request_is_followed_through_every_service(platform):
    url, logs = platform
    submitted_id, approved_id = f"submit-{uuid.uuid4().hex[:8]}", f"approve-{uuid.uuid4().hex[:8]}"
    body = organisation_body(name=f"Traced Lab {uuid.uuid4().hex[:6]}")
    answer = requests.post(f"{url}/api/submissions", json=body, headers={"X-Request-ID": submitted_id}, timeout=15)
    assert answer.status_code == 202 and answer.headers["X-Request-ID"] == submitted_id
    submission, status_token = answer.json()["submission_id"], answer.json()["status_token"]

    moderator = requests.Session()
    login_form = moderator.get(f"{url}/console/login", timeout=5).text
    logged_in = moderator.post(f"{url}/console/login", allow_redirects=False, timeout=15, data={
        "email": MODERATOR["email"], "password": MODERATOR["password"], "csrf_token": csrf_of(login_form)})
    assert logged_in.status_code == 303
    page = wait_for(lambda: (item := moderator.get(f"{url}/console/items/{submission}", timeout=5)).ok and item)
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    decided = moderator.post(f"{url}/console/items/{submission}", allow_redirects=False, timeout=15,
                             headers={"X-Request-ID": approved_id},
                             data={"decision": "approve", "reason_code": "", "reason": "", "version": version,
                                   "csrf_token": csrf_of(page.text)})
    assert decided.status_code == 303 and decided.headers["X-Request-ID"] == approved_id
    wait_for(lambda: any(hit["name"] == body["name"] for hit in
                         requests.get(f"{url}/api/search", params={"q": body["name"]}, timeout=5).json()["items"]))
    wait_for(lambda: any(line["request_id"] == approved_id for line in lines(logs["search"])))

    traced = {name: [line for line in lines(path) if line["request_id"] == approved_id] for name, path in logs.items()}
    assert all(traced.values()), {name: len(found) for name, found in traced.items()}
    assert all(line["service"] == name for name, found in traced.items() for line in found)
    # the consumers' lines name the event they handle, and the event is the one the producer sent
    assert all(line["event_id"] for name in ("directory", "search") for line in traced[name]
               if line["message"].startswith("event "))
    assert any(line["message"].startswith("event moderation.") for line in traced["directory"])
    assert any(line["message"].startswith("event directory.") for line in traced["search"])
    submitted = {name for name, path in logs.items() if any(line["request_id"] == submitted_id
                                                            for line in lines(path))}
    assert {"gateway", "directory", "moderation"} <= submitted

    everything = "\n".join(path.read_text() for path in logs.values())
    for secret in (MODERATOR["email"], MODERATOR["password"], body["email"], status_token,
                   moderator.cookies.get("dsi_csrf"), moderator.cookies.get("dsi_staff")):
        assert secret and secret not in everything
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.-]+", everything)
