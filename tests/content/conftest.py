"""Content fixtures. Two tiers, as everywhere:

- unit: the domain modules on a migrated database (SQLite and PostgreSQL) with an outbox writer, no broker;
- integration (test_service.py): the content service in a real nameko container on a throwaway RabbitMQ vhost,
  with the moderation service beside it for staff sessions and decisions.
"""
from datetime import datetime, timedelta, timezone

import pytest

from dsi import events
from services.content import items
from services.content.models import Outbox
from tests.db import service_fixtures

EDITOR = "editor@dsi.test"
EDITORIAL_DATA = __import__("pathlib").Path("/work/shared/data/editorial")


globals().update(service_fixtures("content", Outbox, events.CONTENT))


@pytest.fixture
def now():
    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def make_item(session, outbox):
    """`make_item("story", title=…, publish=True)`: an item of any kind with sensible fields, committed."""
    def make(kind="story", publish=False, **fields):
        body = {"title": f"A {kind} {datetime.now().timestamp()}", "body": "Some *text*.", **fields}
        if kind == "event":
            start = datetime.now() + timedelta(days=7)
            body.setdefault("start", start.replace(microsecond=0).isoformat())
        if kind == "funding" and "closes_on" not in body:
            body.setdefault("rolling", True)
        item = items.create(session, outbox, kind, body, EDITOR)
        if publish:
            items.transition(session, outbox, item.id, "publish", EDITOR)
        session.commit()
        return item

    return make
