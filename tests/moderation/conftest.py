"""Moderation fixtures. Two tiers, as everywhere:

- unit: the domain (queue, reports, accounts) on a migrated database, SQLite and PostgreSQL, no broker;
- integration: the directory, moderation and gateway containers on a throwaway RabbitMQ vhost, driven over HTTP.
"""
import uuid

import pytest
from argon2 import PasswordHasher, profiles

from dsi import events
from services.moderation import accounts
from services.moderation.models import Outbox
from tests.db import service_fixtures

PASSWORD = "correct horse battery staple"


globals().update(service_fixtures("moderation", Outbox, events.MODERATION))


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """argon2id with the library's cheapest parameters (its profile for tests): the same code paths, without
    half a second of hashing per password. The platform keeps the library's defaults."""
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(accounts, "hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("a password nobody has"))


@pytest.fixture
def make_staff(session):
    def make(role="moderator", email=None, password=PASSWORD):
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.org"
        staff = accounts.create_staff(session, {"email": email, "role": role, "password": password})
        session.commit()
        return staff

    return make
