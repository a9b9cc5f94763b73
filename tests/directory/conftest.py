"""Directory fixtures: a migrated database on SQLite and PostgreSQL, and a session with an outbox writer."""
import pytest

from dsi import events
from dsi.messaging import OutboxWriter
from services.directory.models import Outbox
from tests.db import outbox_events, session_of


@pytest.fixture
def directory_db(migrated):
    return migrated("directory")


@pytest.fixture
def session(directory_db):
    with session_of(directory_db) as session:
        yield session


@pytest.fixture
def outbox():
    return OutboxWriter(Outbox, events.DIRECTORY)


@pytest.fixture
def sent_events(session):
    return lambda: outbox_events(session, Outbox)
