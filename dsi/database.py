"""Database engines and the nameko dependency that hands each worker a session.

SQLite (the local default) gets WAL journaling and a busy timeout so that concurrent workers and a CLI can
share one file; PostgreSQL is used as it comes.
"""
import os

import nameko_sqlalchemy
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from dsi.logs import Tracing
from dsi.messaging import rpc
from dsi.metrics import Metrics


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


class Database(nameko_sqlalchemy.Database):
    """nameko-sqlalchemy's provider, building its engine with make_engine.

    The URL comes from config `DB_URIS["<service>:<Base class name>"]`.
    """

    def setup(self):
        key = f"{self.container.service_name}:{self.declarative_base.__name__}"
        self.db_uri = self.container.config[nameko_sqlalchemy.database.DB_URIS_KEY][key]
        self.engine = make_engine(self.db_uri)
        self.Session = sessionmaker(bind=self.engine, class_=nameko_sqlalchemy.database.Session, expire_on_commit=False)

    def get_dependency(self, worker_ctx):
        wrapper = super().get_dependency(worker_ctx)
        wrapper.engine = self.engine
        return wrapper


def create_schema(engine: Engine, base: type[DeclarativeBase]) -> None:
    """Create missing tables (tests and first start on SQLite; production runs the Alembic migrations)."""
    base.metadata.create_all(engine)


class DatabaseHealth:
    """Base of a service with a `db` dependency: the `health` RPC that `dsi ping` and the container healthchecks
    call answers only when the service reaches its database; its figures on METRICS_PORT (dsi.metrics)."""

    metrics = Metrics()
    tracing = Tracing()

    @rpc
    def health(self):
        with self.db.get_session() as session:
            session.execute(select(1))
        return {"status": "ok"}
