"""Moderation fixtures. Two tiers, as everywhere:

- unit: the domain (queue, reports, accounts) on a migrated database, SQLite and PostgreSQL, no broker;
- integration: the directory, moderation and gateway containers on a throwaway RabbitMQ vhost, driven over HTTP.
"""
import uuid

import pytest
from sqlalchemy.orm import Session

from dsi import events
from dsi.messaging import OutboxWriter
from dsi.migrations import upgrade
from services.moderation import accounts
from services.moderation.models import Outbox

PASSWORD = "correct horse battery staple"


@pytest.fixture
def moderation_db(database_url, engine_for):
    """The moderation database at the latest migration: the schema production runs."""
    upgrade("moderation", database_url)
    return engine_for(database_url)


@pytest.fixture
def session(moderation_db):
    with Session(moderation_db, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def outbox():
    return OutboxWriter(Outbox, events.MODERATION)


@pytest.fixture
def sent_events(session):
    from sqlalchemy import select

    return lambda: [row.body for row in session.scalars(select(Outbox).order_by(Outbox.seq))]


@pytest.fixture
def make_staff(session):
    def make(role="moderator", email=None, password=PASSWORD):
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.org"
        staff = accounts.create_staff(session, {"email": email, "role": role, "password": password})
        session.commit()
        return staff

    return make
