"""Directory fixtures: a migrated database on SQLite and PostgreSQL, a session with an outbox writer, and the
service running on it in a real nameko container, with an RPC proxy to it."""
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from dsi import events
from services.directory.models import Outbox
from services.directory.service import DirectoryService
from tests.db import service_fixtures

globals().update(service_fixtures("directory", Outbox, events.DIRECTORY))


@pytest.fixture
def directory(container_factory, rabbit_config, database_url, directory_db):
    container = container_factory(DirectoryService, {**rabbit_config, "DB_URIS": {"directory:Base": database_url}})
    container.start()
    with ServiceRpcProxy("directory", rabbit_config, timeout=30) as proxy:
        yield proxy
