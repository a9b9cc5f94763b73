"""Events are never lost: the outbox survives a crash, and the relay delivers what was committed.

These run the directory for real: a nameko container, or a `nameko run` process killed with SIGKILL.
"""
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi import events
from dsi.messaging import first_delivery
from dsi.migrations import upgrade
from gateway.service import GatewayService
from services.directory import records
from services.directory.models import Outbox, ProcessedEvent
from services.directory.service import DirectoryService
from tests.factories import organisation_body
from tests.helpers import eventually
from tests.processes import nameko_run


@pytest.fixture
def directory_url(sqlite_url):
    upgrade("directory", sqlite_url)
    return sqlite_url


def submissions_in(spy, submission_id):
    return [e for e in spy.received
            if e["type"] == events.SUBMISSION_RECEIVED and e["payload"]["submission_id"] == submission_id]


def test_events_committed_while_the_service_was_down_are_relayed(
        container_factory, rabbit_config, directory_url, engine_for, outbox, event_spy):
    spy = event_spy(events.DIRECTORY, events.SUBMISSION_RECEIVED)
    engine = engine_for(directory_url)
    with Session(engine) as session:  # committed, never published: as after a crash before the relay ran
        submitted = records.submit(session, outbox, organisation_body(), "http://dsi.test")
        session.commit()

    container = container_factory(DirectoryService, {**rabbit_config, "DB_URIS": {"directory:Base": directory_url}})
    container.start()
    spy.drain(until=lambda got: submissions_in(spy, submitted["id"]))
    assert len(submissions_in(spy, submitted["id"])) == 1

    def marked_sent():  # the relay marks the row after the broker confirmed it, a moment after the spy has it
        with Session(engine) as session:
            rows = session.scalars(select(Outbox).where(Outbox.event_type == events.SUBMISSION_RECEIVED)).all()
            return [row.sent_at is not None for row in rows] == [True]

    assert eventually(marked_sent)


def test_event_waits_in_outbox_until_a_queue_is_bound(
        container_factory, rabbit_config, directory_url, engine_for, web_config, event_spy):
    """Mandatory routing: an event nobody listens to yet is kept, not dropped."""
    config = {**rabbit_config, "DB_URIS": {"directory:Base": directory_url}}
    container = container_factory(DirectoryService, config)
    container.start()
    from nameko.standalone.rpc import ServiceRpcProxy

    with ServiceRpcProxy("directory", config) as directory:
        submitted = directory.submit(organisation_body())
    engine = engine_for(directory_url)
    with Session(engine) as session:
        row = session.scalars(select(Outbox).where(Outbox.event_type == events.SUBMISSION_RECEIVED)).one()
        assert row.sent_at is None  # no consumer queue exists on this fresh vhost

    spy = event_spy(events.DIRECTORY, events.SUBMISSION_RECEIVED)
    spy.drain(until=lambda got: submissions_in(spy, submitted["id"]), timeout=5)
    assert len(submissions_in(spy, submitted["id"])) == 1


def test_consumer_applies_a_redelivered_event_once(session, directory_db):
    event = {"id": "5f0c1a9e-0000-4000-8000-000000000001", "type": events.SUBMISSION_APPROVED}
    assert first_delivery(session, ProcessedEvent, event) is True
    session.commit()
    assert first_delivery(session, ProcessedEvent, event) is False


def _nameko_config(tmp_path, rabbit_config, directory_url) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(yaml.safe_dump({
        "AMQP_URI": rabbit_config["AMQP_URI"],
        "DB_URIS": {"directory:Base": directory_url},
        "PUBLIC_URL": "http://dsi.test",
    }))
    return path


def _start_directory(config_path: Path) -> subprocess.Popen:
    return nameko_run(config_path, "services.directory.service:DirectoryService",
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigkill_after_accepting_loses_nothing(runner_factory, rabbit_config, web_config, web_session, tmp_path,
                                               directory_url, event_spy):
    spy = event_spy(events.DIRECTORY, events.SUBMISSION_RECEIVED)
    config_path = _nameko_config(tmp_path, rabbit_config, directory_url)
    runner = runner_factory({**rabbit_config, **web_config}, GatewayService)
    runner.start()
    directory = _start_directory(config_path)
    try:
        for _ in range(100):  # until the directory answers through the gateway
            if web_session.get("/api/organisations").status_code == 200:
                break
            time.sleep(0.2)
        response = web_session.post("/api/submissions", json=organisation_body(name="Survivor"))
        directory.send_signal(signal.SIGKILL)
        directory.wait()
        assert response.status_code == 202
        submission = response.json()

        directory = _start_directory(config_path)
        spy.drain(until=lambda got: submissions_in(spy, submission["id"]), timeout=10)
        spy.drain(timeout=2)  # anything sent twice would arrive now
        delivered = submissions_in(spy, submission["id"])
        # On the wire delivery is at least once (a kill between publish and "mark sent" repeats the message);
        # it is one event, with one id, which consumers apply once (first_delivery).
        assert delivered and len({event["id"] for event in delivered}) == 1

        token = submission["status_token"]
        status = web_session.get(f"/api/submissions/{submission['id']}", params={"token": token})
        assert status.status_code == 200 and status.json()["state"] == "pending"
    finally:
        directory.kill()
        directory.wait()
