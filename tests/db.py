"""Database helpers shared by the test suites (fixtures live in conftest.py)."""
import inspect

from sqlalchemy import select
from sqlalchemy.orm import Session


def session_of(engine):
    """A session on a test database whose objects stay readable after commit."""
    return Session(engine, expire_on_commit=False)


def outbox_events(session, outbox_model):
    """The events a producer wrote to its outbox so far, oldest first."""
    return [row.body for row in session.scalars(select(outbox_model).order_by(outbox_model.seq))]


def service_fixtures(service: str, outbox_model=None, producer: str | None = None) -> dict:
    """The fixtures every service's unit tests use, built the same way for each:

    - `database_url`: a fresh database at the service's latest migration (SQLite and PostgreSQL);
    - `<service>_db`: an engine on it;
    - `session`: a session on it;
    - with an outbox: `outbox` (a writer for `producer`'s events) and `sent_events()` (what it wrote so far).

    In a service's conftest.py: `globals().update(service_fixtures("directory", Outbox, events.DIRECTORY))`.
    """
    import pytest

    from dsi.messaging import OutboxWriter

    @pytest.fixture(name="database_url")
    def database_url(backend, migrated_schemas, tmp_path):
        return migrated_schemas.fresh(backend, service, tmp_path)

    @pytest.fixture(name=f"{service}_db")
    def database(database_url, engine_for):
        return engine_for(database_url)

    def session(**fixtures):
        with session_of(fixtures[f"{service}_db"]) as opened:
            yield opened

    # pytest reads a fixture's dependencies from its signature: this one needs `<service>_db`
    session.__signature__ = inspect.Signature([inspect.Parameter(f"{service}_db", inspect.Parameter.KEYWORD_ONLY)])
    session = pytest.fixture(name="session")(session)

    fixtures = {"database_url": database_url, f"{service}_db": database, "session": session}
    if outbox_model is not None:
        @pytest.fixture(name="outbox")
        def outbox():
            return OutboxWriter(outbox_model, producer)

        @pytest.fixture(name="sent_events")
        def sent_events(session):
            return lambda: outbox_events(session, outbox_model)

        fixtures.update(outbox=outbox, sent_events=sent_events)
    return fixtures
