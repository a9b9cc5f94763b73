"""Helpers shared by the test suites: waiting for something to become true, and publishing records in the
directory's database as moderation would (their events wait in its outbox). Fixtures live in conftest.py."""
import re
import time
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import event
from sqlalchemy.orm import Session

from dsi import events
from dsi.messaging import OutboxWriter

PUBLIC_URL = "http://dsi.test"
STAFF_PASSWORD = "correct horse battery staple"


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


@contextmanager
def statements_run(engine):
    """`with statements_run(engine) as run:` the (SQL, parameters) of every statement sent on `engine` meanwhile."""
    run = []

    def record(_connection, _cursor, statement, parameters, _context, _many):
        run.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield run
    finally:
        event.remove(engine, "before_cursor_execute", record)


def paged_export(rows):
    """An owner's export of `rows` (dicts with ids, in id order) as search's rebuild pages through it."""
    def export(after, limit):
        page = [row for row in rows if row["id"] > after][:limit]
        return {"items": page, "next_after": page[-1]["id"] if len(page) == limit else None}
    return export


def press_the_button(session, path: str):
    """What a person does on a page opened from a mailed link: press its button (a POST with the page's CSRF
    token). Returns the page first opened and the answer to the button."""
    page = session.get(path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return page, session.post(path, data={"csrf_token": token[1] if token else ""})


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


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def migrated_sqlite(folder, *services: str) -> dict[str, str]:
    """A SQLite database per service in `folder`, at its latest migration: their URLs by service."""
    from dsi.migrations import upgrade

    urls = {service: f"sqlite:///{folder}/{service}.db" for service in services}
    for service, url in urls.items():
        upgrade(service, url)
    return urls


def add_staff(engine, *roles: str, password: str = STAFF_PASSWORD) -> None:
    """A staff account per role in the moderation database, named `<role>@example.org`."""
    from services.moderation import accounts

    with Session(engine) as session, session.begin():
        for role in roles:
            accounts.create_staff(session, {"email": f"{role}@example.org", "role": role, "password": password})


def console_browser(port: int, email: str | None = None) -> requests.Session:
    """A browser on the gateway at `port` (relative paths, no redirects followed), logged in to the console
    as `email` when given."""
    session = requests.Session()
    base = f"http://127.0.0.1:{port}"
    session.request = lambda method, path, **kw: requests.Session.request(
        session, method, base + path, **{**kw, "allow_redirects": False})
    if email:
        form = session.get("/console/login")
        answer = session.post("/console/login", data={"email": email, "password": STAFF_PASSWORD,
                                                      "csrf_token": csrf_of(form.text)})
        assert answer.status_code == 303, answer.text
    return session
