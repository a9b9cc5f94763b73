"""PostgreSQL under eventlet: with the services' wait callback, a query parks only its own green thread."""
from types import SimpleNamespace

import eventlet
import psycopg2.extensions
from sqlalchemy import text

from dsi.database import Database, _wait_in_hub, cooperate_with_eventlet


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
    cooperate_with_eventlet()
    order = _run_two_slow_queries(engine_for(postgres_server))
    # b starts while a still waits for the server: both start before either ends
    assert order[:2] == ["a starts", "b starts"] and sorted(order[2:]) == ["a ends", "b ends"]


def test_without_the_callback_one_query_blocks_the_process(postgres_server, engine_for):
    """The control: what the callback changes (psycopg2's default waits inside the C library)."""
    previous = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        order = _run_two_slow_queries(engine_for(postgres_server))
    finally:
        psycopg2.extensions.set_wait_callback(previous)
    assert order == ["a starts", "a ends", "b starts", "b ends"]


def _set_up_provider(url: str) -> Database:
    from nameko_sqlalchemy.database import DB_URIS_KEY
    from services.directory.models import Base

    provider = Database(Base)
    provider.container = SimpleNamespace(service_name="directory", config={DB_URIS_KEY: {"directory:Base": url}})
    provider.setup()
    provider.engine.dispose()
    return provider


def test_the_service_provider_installs_it_for_postgresql_only(postgres_server, sqlite_url):
    previous = psycopg2.extensions.get_wait_callback()
    try:
        psycopg2.extensions.set_wait_callback(None)
        _set_up_provider(sqlite_url)
        assert psycopg2.extensions.get_wait_callback() is None
        _set_up_provider(postgres_server)
        assert psycopg2.extensions.get_wait_callback() is _wait_in_hub
    finally:
        psycopg2.extensions.set_wait_callback(previous)
