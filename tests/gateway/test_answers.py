"""The gateway's memory of last good answers: bounded, least recently used out, dropped by tag or prefix."""
import os
import tracemalloc

import pytest

from gateway.answers import Answers, etag_of


class Clock:
    def __init__(self):
        self.now = 5_000.0

    def __call__(self):
        return self.now


def test_the_last_good_answer_is_kept_with_its_age_and_etag():
    clock = Clock()
    answers = Answers(clock=clock)
    answers.put("GET /api/search?q=a", 200, [("Content-Type", "application/json")], b'{"total":1}')
    answers.put("GET /api/search?q=a", 200, [("Content-Type", "application/json")], b'{"total":2}')
    clock.now += 42.7
    answer = answers.get("GET /api/search?q=a")
    assert answer.body == b'{"total":2}' and answer.status == 200
    assert answer.headers == (("Content-Type", "application/json"),)
    assert answer.age(clock()) == 42
    assert answer.etag == etag_of(b'{"total":2}') != etag_of(b'{"total":1}')
    assert answers.get("GET /api/search?q=a", max_age=40) is None
    assert answers.get("GET /api/search?q=a", max_age=60) is answer
    assert answers.get("GET /api/search?q=b") is None


def test_an_unchanged_answer_keeps_the_date_it_was_first_kept_with():
    clock = Clock()
    answers = Answers(clock=clock)
    first = answers.put("GET /api/stats?", 200, [], b'{"organisations":3}')
    clock.now += 100
    same = answers.put("GET /api/stats?", 200, [], b'{"organisations":3}')
    assert same.stored_at == first.stored_at + 100 and same.modified_at == first.modified_at == first.stored_at
    clock.now += 100
    changed = answers.put("GET /api/stats?", 200, [], b'{"organisations":4}')
    assert changed.modified_at == changed.stored_at == first.stored_at + 200


def test_only_good_answers_are_kept():
    answers = Answers()
    for status in (500, 503, 404, 304, 206):
        assert answers.put("k", status, [], b"x") is None
    assert "k" not in answers
    answers.put("k", 200, [], b"good")
    answers.put("k", 503, [], b"bad")  # an error never replaces the last good answer
    assert answers.get("k").body == b"good"


def test_if_none_match_names_the_answer():
    answer = Answers().put("k", 200, [], b"body")
    assert answer.matches(answer.etag)
    assert answer.matches(f'"other", W/{answer.etag}')
    assert answer.matches("*")
    assert not answer.matches('"other"') and not answer.matches(None)


def test_bounded_by_entries_least_recently_used_first_out():
    answers = Answers(max_entries=3)
    for key in "abc":
        answers.put(key, 200, [], key.encode())
    answers.get("a")  # used: b is now the least recently used
    answers.put("d", 200, [], b"d")
    assert [key for key in "abcd" if key in answers] == ["a", "c", "d"]


def test_bounded_by_bytes():
    probe = Answers()
    probe.put("k", 200, [], os.urandom(1000))
    size = probe.bytes
    answers = Answers(max_bytes=3 * size)
    for key in "abcd":
        answers.put(key, 200, [], os.urandom(1000))
    assert len(answers) == 3 and "a" not in answers and answers.bytes <= answers.max_bytes
    assert answers.put("huge", 200, [], os.urandom(10_000)) is None  # bigger than everything: not kept…
    assert len(answers) == 3  # …and nothing evicted for it
    answers.discard("b")
    assert answers.bytes == 2 * size


def test_bodies_are_read_back_whole():
    page = b"<li><a href='/organisations/1'>Waag Society</a> Amsterdam</li>" * 300
    answers = Answers()
    kept = answers.put("GET /search?q=waag", 200, [("Content-Type", "text/html")], page)
    assert kept.body == page and answers.get("GET /search?q=waag").body == page
    assert len(page) < answers.bytes < len(page) + 1000


def test_the_bound_counts_at_least_what_the_answers_hold_in_memory():
    answers = Answers(max_bytes=1 << 30, max_entries=100_000)
    bodies = [os.urandom(100) for _ in range(2_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number, body in enumerate(bodies):
            answers.put(f"GET /fr/search?country=ES&page={number}&q=open+data", 200,
                        [("Content-Type", "text/html; charset=utf-8")], body)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held <= answers.bytes, (held, answers.bytes)


def test_a_cache_without_room_is_refused():
    with pytest.raises(ValueError):
        Answers(max_entries=0)
