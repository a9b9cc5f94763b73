"""Helpers shared by the test suites: waiting for something to become true, and publishing records in the
directory's database as moderation would (their events wait in its outbox). Fixtures live in conftest.py."""
import time

import pytest
from sqlalchemy.orm import Session

from dsi import events
from dsi.messaging import OutboxWriter

PUBLIC_URL = "http://dsi.test"


def eventually(check, seconds: float = 10.0, step: float = 0.05):
    """The first truthy answer of `check` within `seconds`, else its last answer (falsy)."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(step)


def wait_for(check, seconds: float = 10.0, step: float = 0.1):
    """The first truthy answer of `check`; the test fails if none comes within `seconds`."""
    result = eventually(check, seconds, step)
    if not result:
        pytest.fail(f"gave up waiting after {seconds} s: {check}")
    return result


def approve(session, outbox, submission_id):
    from services.directory import records

    records.apply_decision(session, outbox, {"type": events.SUBMISSION_APPROVED, "payload": {
        "submission_id": submission_id, "reason_code": None, "reason": None}}, PUBLIC_URL)


def publish(engine, *bodies) -> list[int]:
    """Submit and approve records in the directory's database; their events wait in its outbox."""
    from services.directory import records
    from services.directory.models import Outbox

    outbox = OutboxWriter(Outbox, events.DIRECTORY)
    ids = []
    with Session(engine) as session, session.begin():
        for body in bodies:
            submitted = records.submit(session, outbox, body, PUBLIC_URL)
            approve(session, outbox, submitted["id"])
            ids.append(submitted["record_id"])
    return ids
