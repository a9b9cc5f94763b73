"""Every service's migrations build exactly the tables its models describe, on SQLite and PostgreSQL: a model
changed without a revision would otherwise only fail on an operator's upgraded database."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dsi.migrations import SERVICES_DIR, service_metadata, upgrade

MIGRATED = sorted(path.parent.name for path in SERVICES_DIR.glob("*/migrations"))


def test_every_service_with_a_database_has_migrations():
    assert {"directory", "moderation", "newsletter", "content"} <= set(MIGRATED)


@pytest.mark.parametrize("service", MIGRATED)
def test_migrations_match_the_models(service, database_url, engine_for):
    upgrade(service, database_url)
    with engine_for(database_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), service_metadata(service))
    assert differences == []
