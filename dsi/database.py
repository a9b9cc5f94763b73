"""Database engines and the nameko dependency that hands each worker a session.

SQLite (the local default) gets WAL journaling and a busy timeout so that concurrent workers and a CLI can
share one file. `cooperate_with_eventlet` makes psycopg2 wait through eventlet's hub (otherwise each PostgreSQL
query blocks the whole process, every green thread with it). Not installed by the providers yet: with it, the
newsletter bench on PostgreSQL slowed to a crawl (see bench/RESULTS.md) and the cause is not found.
"""
import os

import nameko_sqlalchemy
from sqlalchemy import Index, Integer, String, create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, sessionmaker

from dsi import settings
from dsi.logs import Tracing
from dsi.messaging import OutboxWriter, rpc
from dsi.metrics import Metrics


def _wait_in_hub(connection, timeout=None) -> None:
    """psycopg2's wait callback: drive the connection's asynchronous protocol, parking this green thread in
    eventlet's hub while the socket is not ready, so other green threads run meanwhile."""
    import psycopg2
    from psycopg2 import extensions
    from eventlet.hubs import trampoline

    while True:
        state = connection.poll()
        if state == extensions.POLL_OK:
            return
        if state == extensions.POLL_READ:
            trampoline(connection.fileno(), read=True)
        elif state == extensions.POLL_WRITE:
            trampoline(connection.fileno(), write=True)
        else:
            raise psycopg2.OperationalError(f"unexpected state from psycopg2's poll(): {state}")


def cooperate_with_eventlet() -> None:
    """Make every psycopg2 connection of this process yield to other green threads while it waits for the
    server (psycopg2's wait callback is process-wide). Idempotent."""
    from psycopg2 import extensions

    if extensions.get_wait_callback() is not _wait_in_hub:
        extensions.set_wait_callback(_wait_in_hub)


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


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


class TermsMixin:
    """Columns of a table of multi-valued field values (social areas, tags, countries…) of the rows it names in
    its own first column: `class RecordTerm(Base, TermsMixin)` with `record_id` declared there."""

    # after the owner's id, which the subclass declares: the primary key reads (owner, facet, value)
    facet: Mapped[str] = mapped_column(String(32), primary_key=True, sort_order=1)
    value: Mapped[str] = mapped_column(String(100), primary_key=True, sort_order=1)
    position: Mapped[int] = mapped_column(Integer, default=0, sort_order=1)

    @declared_attr.directive
    def __table_args__(cls):
        return (Index(f"ix_{cls.__tablename__}_facet_value", "facet", "value"),)


def known_total(rows, page: int, per_page: int) -> int | None:
    """A list's total when its page tells it (a page not full, and not past the end: the last page), so that no
    count is run; None when one is needed."""
    if len(rows) < per_page and (rows or page == 1):
        return (page - 1) * per_page + len(rows)
    return None


def in_outbox_transaction(service: str, outbox_model, producer: str, work):
    """Run work(session, outbox) in one transaction on the service's database, for commands that run beside
    it: their events wait in its outbox until the running service relays them."""
    engine = make_engine(settings.database_url(service))
    try:
        with Session(engine) as session, session.begin():
            return work(session, OutboxWriter(outbox_model, producer))
    finally:
        engine.dispose()


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
