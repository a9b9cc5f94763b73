"""End to end through the gateway: submissions stay hidden until moderation publishes them."""
import pytest

from dsi import events
from dsi.migrations import upgrade
from gateway.service import GatewayService
from services.directory.service import DirectoryService
from tests.factories import organisation_body, project_body


@pytest.fixture
def start_platform(runner_factory, rabbit_config, web_config, sqlite_url):
    upgrade("directory", sqlite_url)

    def start(**config):
        runner = runner_factory(
            {**rabbit_config, **web_config, "DB_URIS": {"directory:Base": sqlite_url}, **config},
            DirectoryService, GatewayService,
        )
        runner.start()
        return runner

    return start


@pytest.fixture
def platform(start_platform):
    return start_platform(RATE_LIMITS={"submit": "1000/hour"})


def test_submission_is_pending_and_not_public(platform, web_session, event_spy):
    spy = event_spy(events.DIRECTORY)
    response = web_session.post("/api/submissions", json=organisation_body())
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["state"] == "pending"
    received = spy.drain(until=lambda got: any(e["type"] == events.SUBMISSION_RECEIVED for e in got))
    [event] = [e for e in received if e["type"] == events.SUBMISSION_RECEIVED]
    assert event["payload"]["submission_id"] == body["id"]
    listing = web_session.get("/api/organisations").json()
    assert listing["total"] == 0
    assert web_session.get(f"/api/organisations/{event['payload']['record_id']}").status_code == 404


@pytest.mark.parametrize("payload, status", [
    (b"{not json", 400),
    (b"[]", 422),
    (b'{"kind": "organisation"}', 422),
    (b'{"kind": "spaceship"}', 422),
])
def test_bad_input_gets_4xx(platform, web_session, payload, status):
    response = web_session.post("/api/submissions", data=payload, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"] in ("BAD_REQUEST", "VALIDATION_ERROR")


def test_field_errors_name_the_fields(platform, web_session):
    body = project_body(name="x" * 1_000_000, social_areas=["Astrology"], latitude="north")
    response = web_session.post("/api/submissions", json=body)
    assert response.status_code in (413, 422)
    body = project_body(name="x" * 1000, social_areas=["Astrology"], latitude="north")
    details = web_session.post("/api/submissions", json=body).json()["details"]
    assert set(details) >= {"name", "social_areas.0", "latitude"}


def test_oversized_body_is_refused_before_reading(platform, web_session):
    response = web_session.post("/api/submissions", data=b"{" + b" " * 300_000 + b"}",
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("query", ["page=0", "per_page=1000", "page=abc"])
def test_bad_paging_gets_422(platform, web_session, query):
    response = web_session.get(f"/api/organisations?{query}")
    assert response.status_code == 422
    assert response.json()["error"] == "VALIDATION_ERROR"


def test_list_contract_and_unknown_records(platform, web_session):
    listing = web_session.get("/api/projects?per_page=5").json()
    assert listing == {"items": [], "total": 0, "page": 1, "per_page": 5}
    assert web_session.get("/api/projects/12345").json()["error"] == "NOT_FOUND"
    assert web_session.get("/api/no-such-collection").status_code == 404
    assert web_session.get("/healthz").json() == {"status": "ok"}


def test_submissions_are_rate_limited_per_client(start_platform, web_session):
    start_platform(RATE_LIMITS={"submit": "2/hour"})
    codes = [web_session.post("/api/submissions", json=project_body()).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    refused = web_session.post("/api/submissions", json=project_body())
    assert int(refused.headers["Retry-After"]) > 0 and refused.json()["error"] == "RATE_LIMITED"


def test_submission_is_accepted_while_the_directory_is_down(
        container_factory, rabbit_config, web_config, web_session, sqlite_url):
    """The request waits in RabbitMQ and is stored under the id the gateway answered with."""
    upgrade("directory", sqlite_url)
    directory_config = {**rabbit_config, "DB_URIS": {"directory:Base": sqlite_url}}
    directory = container_factory(DirectoryService, directory_config)
    directory.start()  # declares its durable RPC queue
    directory.stop()
    gateway = container_factory(GatewayService, {**rabbit_config, **web_config})
    gateway.start()

    accepted = web_session.post("/api/submissions", json=project_body(name="Patient"))
    assert accepted.status_code == 202
    body = accepted.json()
    assert body["queued"] is True and body["state"] == "pending"

    container_factory(DirectoryService, directory_config).start()
    status = web_session.get(f"/api/submissions/{body['id']}", params={"token": body["status_token"]})
    assert status.status_code == 200
    assert status.json()["state"] == "pending" and status.json()["kind"] == "project"
