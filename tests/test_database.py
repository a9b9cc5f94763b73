"""dsi.database: PostgreSQL under eventlet (with the wait callback a query parks only its own green thread), its
pool's ping of rested connections, reads outside transactions and prepared once per connection, and the total a
list page can tell without counting."""
import eventlet
import psycopg2.extensions
import pytest
from nameko.testing.services import dummy, entrypoint_hook
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool

from dsi import database, settings
from dsi.database import Database, cooperate_with_eventlet, known_total, read_connection
from tests.helpers import wait_for


def _run_two_slow_queries(engine) -> list[str]:
    """Two green threads each run a slow query; returns the order of their starts and ends."""
    order = []

    def slow_query(name):
        with engine.connect() as connection:
            order.append(f"{name} starts")
            connection.execute(text("SELECT pg_sleep(0.3)"))
            order.append(f"{name} ends")

    with engine.connect():  # open the pool's connections first: only the queries are in question
        with engine.connect():
            pass
    threads = [eventlet.spawn(slow_query, name) for name in ("a", "b")]
    for thread in threads:
        thread.wait()
    return order


def test_slow_queries_in_two_green_threads_overlap(postgres_server, engine_for):
    previous = psycopg2.extensions.get_wait_callback()
    cooperate_with_eventlet()
    try:
        order = _run_two_slow_queries(engine_for(postgres_server))
    finally:
        psycopg2.extensions.set_wait_callback(previous)
    # one starts while the other still waits for the server: both start before either ends
    assert sorted(order[:2]) == ["a starts", "b starts"] and sorted(order[2:]) == ["a ends", "b ends"]


def test_without_the_callback_one_query_blocks_the_process(postgres_server, engine_for):
    """The control: what the callback changes (psycopg2's default waits inside the C library)."""
    previous = psycopg2.extensions.get_wait_callback()
    engine = engine_for(postgres_server)  # make_engine installs the callback in this (eventlet) process
    psycopg2.extensions.set_wait_callback(None)  # and the control takes it out again
    try:
        order = _run_two_slow_queries(engine)
    finally:
        psycopg2.extensions.set_wait_callback(previous)
    assert order == ["a starts", "a ends", "b starts", "b ends"]


class _NoTables(DeclarativeBase):
    pass


class SlowQueries:
    """A service as every service of the platform holds its database: through dsi.database's provider."""

    name = "slow_queries"
    db = Database(_NoTables)
    order: list[str] = []

    @dummy
    def slow(self, call: str):
        with self.db.get_session() as session:
            self.order.append(f"{call} starts")
            session.execute(text("SELECT pg_sleep(0.3)"))
            self.order.append(f"{call} ends")


def test_the_default_provider_lets_slow_queries_of_one_service_overlap(postgres_server, container_factory):
    """No opt-in: the provider's engine (make_engine, in a process eventlet runs, as under `nameko run`) installs
    the wait callback, so a slow query of one worker does not hold up the service's other workers."""
    previous = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)  # as in a fresh process: whatever an earlier test installed
    SlowQueries.order = []
    container = container_factory(SlowQueries, {"DB_URIS": {"slow_queries:_NoTables": postgres_server}})
    try:
        container.start()

        def call(name):
            with entrypoint_hook(container, "slow") as slow:
                slow(name)

        threads = [eventlet.spawn(call, name) for name in ("a", "b")]
        for thread in threads:
            thread.wait()
    finally:
        container.stop()
        psycopg2.extensions.set_wait_callback(previous)
    order = SlowQueries.order
    assert sorted(order[:2]) == ["a starts", "b starts"] and sorted(order[2:]) == ["a ends", "b ends"]


def test_a_connection_the_server_dropped_while_it_rested_is_replaced_on_checkout(postgres_server, engine_for,
                                                                                 monkeypatch):
    """The ping of a connection back from rest: a server restart costs no request an error."""
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # every pooled connection has rested enough
    engine = engine_for(postgres_server)
    with engine.connect() as connection:
        dropped = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(postgres_server, poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
            gone = text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid")

            def gone_yet():
                connection.commit()  # a transaction reads pg_stat_activity once (a snapshot): look in a new one
                return connection.execute(gone, {"pid": dropped}).scalar()

            wait_for(gone_yet)
    finally:
        admin.dispose()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != dropped


def _server_transaction(connection) -> int:
    """psycopg2's view of the server: whether a transaction is open on this connection."""
    return connection.connection.dbapi_connection.info.transaction_status


def test_a_read_opens_no_transaction_on_the_server_and_leaves_the_connection_transactional(postgres_server,
                                                                                          engine_for):
    engine = engine_for(postgres_server)
    with engine.connect() as connection:  # the control: a plain connection opens one with its first statement
        connection.execute(text("SELECT 1"))
        assert _server_transaction(connection) == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        transactional = connection.connection.dbapi_connection
    with read_connection(engine) as connection:
        assert connection.connection.dbapi_connection is transactional  # the pool's one connection
        assert connection.execute(text("SELECT 2")).scalar() == 2
        assert _server_transaction(connection) == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    with engine.connect() as connection:  # back in the pool as it was: a write there still rolls back
        connection.execute(text("CREATE TEMPORARY TABLE written (n int)"))
        connection.rollback()
        assert connection.execute(text("SELECT to_regclass('pg_temp.written')")).scalar() is None


def test_a_failed_read_leaves_its_connection_fit_for_the_next(postgres_server, engine_for):
    engine = engine_for(postgres_server)
    with pytest.raises(DBAPIError):
        with read_connection(engine) as connection:
            connection.execute(text("SELECT 1 / 0"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 3")).scalar() == 3
        assert _server_transaction(connection) == psycopg2.extensions.TRANSACTION_STATUS_INTRANS


class Reads:
    """A service reading through its provider, as the directory's and content's public reads do."""

    name = "reads"
    db = Database(_NoTables)

    @dummy
    def read(self):
        with self.db.read_session() as session:
            return session.execute(text("SELECT 4")).scalar()


def test_a_services_read_session_answers_on_either_database(database_url, container_factory):
    container = container_factory(Reads, {"DB_URIS": {"reads:_NoTables": database_url}})
    container.start()
    with entrypoint_hook(container, "read") as read:
        assert read() == 4


def test_a_lists_total_is_told_by_its_last_page_and_counted_otherwise():
    assert known_total([1, 2], page=3, per_page=5) == 12  # the last page: 10 before it
    assert known_total([], page=1, per_page=5) == 0  # nothing at all
    assert known_total([1] * 5, page=1, per_page=5) is None  # a full page: more may follow
    assert known_total([], page=4, per_page=5) is None  # past the end: how far is not known


def test_a_sqlite_file_engine_holds_as_many_connections_as_a_postgresql_one(tmp_path):
    """Each newsletter sender keeps a connection for its slice of sending: SQLite's default bounds (5 + 10)
    would leave the service's workers waiting for the pool while an edition goes out."""
    engine = database.make_engine(f"sqlite:///{tmp_path}/bounds.db")
    try:
        held = [engine.connect() for _ in range(sum(database.POOL_BOUNDS.values()))]
        assert engine.pool.size() == database.POOL_BOUNDS["pool_size"] and engine.pool.checkedout() == len(held)
        for connection in held:
            connection.close()
    finally:
        engine.dispose()


RELATION = text("SELECT relname FROM pg_class WHERE oid = :oid")  # pg_class: a table every database has


def _runs_prepared(connection, fragment: str) -> list[int]:
    """How many times each statement prepared on this server connection whose text holds `fragment` ran."""
    return connection.execute(text("SELECT generic_plans + custom_plans FROM pg_prepared_statements "
                                    "WHERE strpos(statement, :fragment) > 0"), {"fragment": fragment}).scalars().all()


def test_a_reads_statement_is_prepared_once_per_connection_and_run_as_prepared(postgres_server, engine_for):
    engine = engine_for(postgres_server)
    with engine.connect() as connection:  # the control: in a transaction a statement runs as written
        assert connection.execute(RELATION, {"oid": 1259}).scalar() == "pg_class"
        assert _runs_prepared(connection, "FROM pg_class WHERE") == []
    for _ in range(3):  # three reads on the pool's one connection, seven runs of the statement
        with read_connection(engine) as connection:
            assert connection.execute(RELATION, {"oid": 1259}).scalar() == "pg_class"
            assert connection.execute(RELATION, {"oid": 1247}).scalar() == "pg_type"
    with read_connection(engine) as connection:
        assert connection.execute(RELATION, {"oid": 1255}).scalar() == "pg_proc"
        assert _runs_prepared(connection, "FROM pg_class WHERE") == [7]  # prepared once, run seven times


def test_a_statement_prepared_on_a_dropped_connection_is_prepared_again_on_its_replacement(postgres_server,
                                                                                          engine_for, monkeypatch):
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = engine_for(postgres_server)
    with read_connection(engine) as connection:
        connection.execute(RELATION, {"oid": 1259})
        dropped = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(postgres_server, poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dropped})
    finally:
        admin.dispose()
    with read_connection(engine) as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != dropped
        assert connection.execute(RELATION, {"oid": 1247}).scalar() == "pg_type"
        assert _runs_prepared(connection, "FROM pg_class WHERE") == [1]


def test_what_preparing_cannot_take_runs_as_written(postgres_server, engine_for):
    engine = engine_for(postgres_server)
    with read_connection(engine) as connection:
        # a parameter of no type PostgreSQL can tell: PREPARE refuses it
        assert connection.execute(text("SELECT :anything IS NULL"), {"anything": None}).scalar() is True
        # a value past the type its parameter took from the column (integer): compared across types, as written
        pages = text("SELECT count(*) FROM pg_class WHERE relpages > :pages")
        assert connection.execute(pages, {"pages": 2**40}).scalar() == 0
        assert connection.execute(pages, {"pages": -1}).scalar() > 0
        # a literal % (psycopg2's %%) stays one
        assert connection.execute(text("SELECT CAST(:word AS text) || '%'"), {"word": "100"}).scalar() == "100%"
        assert _runs_prepared(connection, "|| '%'") == [1]
        assert _runs_prepared(connection, "$1 IS NULL") == []
        assert connection.execute(text("SELECT 5")).scalar() == 5  # the connection is fit after the refusals


def test_a_wrong_statement_fails_with_its_own_error_and_the_next_is_prepared(postgres_server, engine_for):
    engine = engine_for(postgres_server)
    with pytest.raises(DBAPIError, match='relation "no_such_table" does not exist'):
        with read_connection(engine) as connection:
            connection.execute(text("SELECT * FROM no_such_table WHERE id = :id"), {"id": 1})
    with read_connection(engine) as connection:
        assert connection.execute(RELATION, {"oid": 1259}).scalar() == "pg_class"
        assert _runs_prepared(connection, "no_such_table") == [] and _runs_prepared(connection, "pg_class") == [1]


def test_prepared_statements_are_off_when_the_setting_says_so(postgres_server, engine_for, monkeypatch):
    monkeypatch.setenv("DB_PREPARED_STATEMENTS", "false")
    settings.database.cache_clear()
    try:
        engine = engine_for(postgres_server)
        with read_connection(engine) as connection:
            assert connection.execute(RELATION, {"oid": 1259}).scalar() == "pg_class"
            assert _runs_prepared(connection, "") == []
        monkeypatch.setenv("DB_PREPARED_STATEMENTS", "sometimes")
        settings.database.cache_clear()
        with pytest.raises(settings.SettingsError, match="DB_PREPARED_STATEMENTS"):
            engine_for(postgres_server)
    finally:
        settings.database.cache_clear()
