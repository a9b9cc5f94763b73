"""Directory fixtures: a migrated database on SQLite and PostgreSQL, and a session with an outbox writer."""
from dsi import events
from services.directory.models import Outbox
from tests.db import service_fixtures

globals().update(service_fixtures("directory", Outbox, events.DIRECTORY))
