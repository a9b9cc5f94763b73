"""PostgreSQL under eventlet: with dsi.database's wait callback, a query parks only its own green thread."""
import eventlet
import psycopg2.extensions
from sqlalchemy import text

from dsi.database import cooperate_with_eventlet, known_total


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
    psycopg2.extensions.set_wait_callback(None)
    try:
        order = _run_two_slow_queries(engine_for(postgres_server))
    finally:
        psycopg2.extensions.set_wait_callback(previous)
    assert order == ["a starts", "a ends", "b starts", "b ends"]


def test_a_lists_total_is_told_by_its_last_page_and_counted_otherwise():
    assert known_total([1, 2], page=3, per_page=5) == 12  # the last page: 10 before it
    assert known_total([], page=1, per_page=5) == 0  # nothing at all
    assert known_total([1] * 5, page=1, per_page=5) is None  # a full page: more may follow
    assert known_total([], page=4, per_page=5) is None  # past the end: how far is not known
