"""Directory fixtures: a migrated database on SQLite and PostgreSQL, and a session with an outbox writer."""
import pytest
from sqlalchemy.orm import Session

from dsi import events
from dsi.messaging import OutboxWriter
from dsi.migrations import upgrade
from services.directory.models import Outbox


@pytest.fixture
def directory_db(database_url, engine_for):
    """The directory's database at the latest migration: the schema production runs."""
    upgrade("directory", database_url)
    return engine_for(database_url)


@pytest.fixture
def session(directory_db):
    with Session(directory_db, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def outbox():
    return OutboxWriter(Outbox, events.DIRECTORY)


@pytest.fixture
def sent_events(session):
    """Events written to the outbox so far, oldest first."""
    from sqlalchemy import select

    return lambda: [row.body for row in session.scalars(select(Outbox).order_by(Outbox.seq))]
