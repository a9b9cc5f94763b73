"""Database engines and the nameko dependency that hands each worker a session.

SQLite (the local default) gets WAL journaling and a busy timeout so that concurrent workers and a CLI can
share one file. On PostgreSQL in a process eventlet runs (every `nameko run` service, the tests, the benches),
make_engine makes psycopg2 wait through eventlet's hub (`cooperate_with_eventlet`): otherwise each query blocks
the whole process, every green thread with it. Plain processes (the CLI) keep the blocking driver.
"""
import os
import re
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import Iterator

import nameko_sqlalchemy
from nameko.extensions import DependencyProvider
from sqlalchemy import JSON, Index, Integer, String, create_engine, event, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool

from dsi import settings
from dsi.lifecycle import ReleasedWorkers
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


def _under_eventlet() -> bool:
    """Whether eventlet has patched this process's sockets (`nameko run` does it before anything else)."""
    import eventlet.patcher

    return eventlet.patcher.is_monkey_patched("socket")


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


# Connections a process may hold at once, on every database: each newsletter sender keeps one for its slice
# of sending (services/newsletter/delivery.py), ten in all at the default settings, beside the workers' own.
POOL_BOUNDS = {"pool_size": 10, "max_overflow": 20}


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend != "sqlite":
        if backend == "postgresql" and _under_eventlet():
            cooperate_with_eventlet()
        engine = create_engine(url, **POOL_BOUNDS)
        _ping_connections_back_from_rest(engine)
        if backend == "postgresql" and settings.database().DB_PREPARED_STATEMENTS:
            event.listen(engine, "do_execute", PreparedStatements().execute)
        return engine
    on_file = bool(parsed.database) and parsed.database != ":memory:"
    if on_file:
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **(POOL_BOUNDS if on_file else {}))

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


UNTYPED = {"42P18", "42725"}  # PostgreSQL's indeterminate_datatype, ambiguous_function: a parameter of no known type


class PreparedStatements:
    """PostgreSQL parses and plans every statement it is sent. For a record read that was most of the server's
    CPU (0.58 ms a read, of which planning 0.36 and running 0.05). A statement run with the execution option
    `prepared` (read_connection sets it) outside a transaction is prepared once per connection, `PREPARE dsi_N AS
    …`, then sent as `EXECUTE dsi_N (…)`: parsed once, and, from its sixth run, planned once when a plan for any
    values costs no more than those for the given ones (PostgreSQL's `plan_cache_mode = auto`). A record read
    then cost the server 0.14 ms. `make_engine` installs it as the dialect's `do_execute` hook on PostgreSQL,
    unless DB_PREPARED_STATEMENTS is false."""

    MOST = 500  # distinct statements a process prepares; beyond that they run as they are
    PLACEHOLDER = re.compile(r"%%|%\(([^)]+)\)s")  # psycopg2's: %(name)s, and %% for a literal %

    def __init__(self):
        self.known: dict[str, tuple[str, list[str], str] | None] = {}  # SQL → (name, parameters, body); None: as is

    def execute(self, cursor, statement: str, parameters, context) -> bool:
        """Run `statement` as a prepared one (True), or leave it to the driver (False)."""
        if not context.execution_options.get("prepared") or not cursor.connection.autocommit \
                or not isinstance(parameters, dict):
            return False  # in a transaction a failed PREPARE would abort it
        prepared = self._prepared(statement)
        if prepared is None:
            return False
        import psycopg2

        name, names, body = prepared
        ready = context.root_connection.info.setdefault("prepared", set())  # this server connection's
        if name not in ready:
            try:
                cursor.execute(f"PREPARE {name} AS {body}")
            except psycopg2.ProgrammingError as refused:  # the statement as written raises what is wrong, if anything
                if refused.pgcode in UNTYPED:
                    self.known[statement] = None
                return False
            ready.add(name)
        values = tuple(parameters[each] for each in names)
        try:
            cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(values))})" if values else f"EXECUTE {name}",
                           values)
        except psycopg2.DataError:
            # a value its parameter's type cannot hold (an id past `integer`, compared with the column's type):
            # the statement as written compares across types, as it did before
            return False
        return True

    def _prepared(self, statement: str) -> tuple[str, list[str], str] | None:
        if statement in self.known:
            return self.known[statement]
        if len(self.known) >= self.MOST:
            return None
        names = []

        def numbered(match):
            if match.group(1) is None:
                return "%"
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        prepared = self.known[statement] = (f"dsi_{len(self.known)}", names, self.PLACEHOLDER.sub(numbered, statement))
        return prepared


# A connection back in use within this time of its last use is not pinged (see below).
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_connections_back_from_rest(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections that rested in the pool: a server restart or a dropped
    link is found on checkout and the pool starts afresh, instead of failing the request. The built-in ping ran
    on every checkout: a round trip of each short transaction."""

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_connection, record, _proxy):
        checked_in_at = record.info.get("checked_in_at")  # none yet: connected just now
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                # the pool drops this connection and every older one, then checks out again
                raise InvalidatePoolError(str(error)) from error
            raise


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection of `engine`'s pool for reads only, outside any transaction: on PostgreSQL each statement is
    its own (autocommit), which spares a read the BEGIN and ROLLBACK round trips, each a wake-up of the server's
    process and of the worker's green thread (two of a record page's four). psycopg2 switches to autocommit and
    back without a statement; SQLite opens no transaction for a SELECT anyway. On PostgreSQL its statements are
    prepared once per connection (PreparedStatements)."""
    with engine.connect() as connection:
        driver_connection = connection.connection.dbapi_connection
        outside = engine.dialect.name == "postgresql"
        if outside:
            driver_connection.autocommit = True
            connection.execution_options(prepared=True)  # PreparedStatements
        try:
            yield connection
        finally:
            if outside and not driver_connection.closed:  # back to the pool as it came
                driver_connection.autocommit = False


class DatabaseAccess(nameko_sqlalchemy.database.DatabaseWrapper):
    """What a worker gets: `get_session()` for work in one transaction; `read_connection()` and `read_session()`
    for reads."""

    def __init__(self, provider: "Database"):
        super().__init__(provider.Session)
        self.engine = provider.engine

    def read_connection(self):
        return read_connection(self.engine)

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with read_connection(self.engine) as connection, \
                self.Session(bind=connection, close_on_exit=True) as session:
            yield session


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
        access = self.dbs[worker_ctx] = DatabaseAccess(self)
        return access


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


class json_rows(FunctionElement):
    """An aggregate: the rows of a group as one JSON array of arrays, `json_rows(a, b, c)` → [[a, b, c], …] ([] or
    None for no row), in no given order. A list's rows carry their terms this way, each decoded in C, instead of
    one query more and a Python row per term. SQLite: json_group_array; PostgreSQL: json_agg."""

    type = JSON()
    inherit_cache = True


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element, compiler, **kw):
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


def known_total(rows, page: int, per_page: int) -> int | None:
    """A list's total when its page tells it (a page not full, and not past the end: the last page), so that no
    count is run; None when one is needed."""
    if len(rows) < per_page and (rows or page == 1):
        return (page - 1) * per_page + len(rows)
    return None


class ListTotals(DependencyProvider):
    """`totals = ListTotals()`: how many rows each list of a service's has (by a key naming the list and its
    filters), kept until its data changes, so that a page is one query rather than two. A filtered count was most
    of a list's cost (records in a social area at 100,000 records: 5.6 of 7 ms of CPU). The service calls
    `forget()` when its data changes: after its own writes, and on the events of writers elsewhere (another
    instance, a command), with `dsi.messaging.forgets_on`. A count made while a change lands is not kept, and none
    is kept longer than KEPT_FOR seconds (a change whose event was missed)."""

    KEPT_FOR = 60.0  # seconds
    SIZE = 1024  # lists (kinds × sets of filters) kept, least recently used out

    def setup(self):
        self.known: OrderedDict = OrderedDict()  # key → (total, when counted)
        self.generation = 0

    def get_dependency(self, worker_ctx):
        return self

    def total(self, key, count) -> int:
        """The kept total of the list `key`, or `count()`, kept."""
        known = self.known.get(key)
        if known is not None and time.monotonic() - known[1] < self.KEPT_FOR:
            self.known.move_to_end(key)
            return known[0]
        generation, total = self.generation, count()
        if generation == self.generation:  # no change landed while it counted
            self.known[key] = (total, time.monotonic())
            self.known.move_to_end(key)
            while len(self.known) > self.SIZE:
                self.known.popitem(last=False)
        return total

    def forget(self) -> None:
        self.known.clear()
        self.generation += 1


def in_outbox_transaction(service: str, outbox_model, producer: str, work):
    """Run work(session, outbox) in one transaction on the service's database, for commands that run beside
    it: their events wait in its outbox until the running service relays them."""
    engine = make_engine(settings.database_url(service))
    try:
        with Session(engine) as session, session.begin():
            return work(session, OutboxWriter(outbox_model, producer))
    finally:
        engine.dispose()


def refresh_statistics(url: str) -> None:
    """After a bulk load (an import, generated records, a restore): on PostgreSQL, VACUUM (ANALYZE). Its planner
    chooses by the tables' statistics, which autovacuum gathers only minutes later (or never, where it is off) and
    pg_restore does not bring: right after an import a record's links were found by walking every published record
    (1.6 ms instead of 0.05), and the directory's reads cost PostgreSQL 3 × the CPU. The vacuum marks the new rows
    visible to all, so that an index-only scan (a list's page, models.py) need not check each in the table. SQLite
    plans without statistics, as its statements expect: nothing to do there."""
    if not is_postgresql(url):
        return
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def create_databases(server: str, names) -> dict[str, str]:
    """Create each database of `names` on the PostgreSQL server of `server` (the URL of any database there, the
    admin's): name → its URL. For the tests and the benches; production's databases are made by its operators
    (deploy/)."""
    with _administering(server) as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    return {name: make_url(server).set(database=name).render_as_string(hide_password=False) for name in names}


def drop_databases(server: str, names) -> None:
    """Drop each database of `names` on the server of `server`, whoever is still connected to it."""
    with _administering(server) as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def _administering(server: str) -> Iterator[Connection]:
    """A connection outside transactions (CREATE and DROP DATABASE run in none), closed with its engine."""
    engine = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
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
    released_workers = ReleasedWorkers()

    @rpc
    def health(self):
        with self.db.read_session() as session:
            session.execute(select(1))
        return {"status": "ok"}
