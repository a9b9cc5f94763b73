"""dsi.fastjson: messages and API answers written and read by orjson read back as kombu's and the standard library's
codecs read them, their marked types, refusals and oddities included."""
import datetime
import decimal
import json
import math

import pytest
from hypothesis import given, settings, strategies as st
from kombu import serialization
from kombu.exceptions import EncodeError
from kombu.utils import json as kombu_json

import dsi.messaging  # noqa: F401 (installs the codec, as every service's import of it does)
from dsi import fastjson

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30)


DEEP = []
for _ in range(400):
    DEEP = [DEEP]


def through_messages(value):
    content_type, encoding, body = serialization.dumps(value, "json")
    return body, serialization.loads(body, content_type, encoding)


def kombu_round_trip(value):
    return kombu_json.loads(kombu_json.dumps(value))


def test_messages_use_it():
    body, _ = through_messages({"name": "Ça"})
    assert body == '{"name":"Ça"}'.encode()  # compact UTF-8: orjson's, where kombu writes '{"name": "\\u00c7a"}'


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_any_json_value_reads_back_as_kombu_reads_it(value):
    body, read = through_messages(value)
    assert read == kombu_round_trip(value)
    assert kombu_json.loads(body) == read  # a process without the codec reads the same


def test_a_body_decoded_to_text_is_read_by_orjson_too(monkeypatch):
    """py-amqp decodes a body with a content encoding before kombu reads it: the common case of every message."""
    body, _ = through_messages({"name": "Ça", "n": [1, 2.5, None]})

    def refuse(*args, **kwargs):
        raise AssertionError("read by kombu")
    monkeypatch.setattr(fastjson.kombu_json, "loads", refuse)
    assert serialization.loads(body.decode(), "application/json", "utf-8") == {"name": "Ça", "n": [1, 2.5, None]}


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_a_body_decoded_to_text_reads_back_as_kombu_reads_it(value):
    body, read = through_messages(value)
    assert serialization.loads(body.decode(), "application/json", "utf-8") == read


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_an_api_answer_is_what_the_standard_library_writes(value):
    assert json.loads(fastjson.dumps(value)) == json.loads(json.dumps(value, ensure_ascii=False))


@pytest.mark.parametrize("value", [
    {"when": datetime.datetime(2026, 11, 30, 20, 0, tzinfo=datetime.timezone.utc), "day": datetime.date(2026, 11, 30),
     "at": datetime.time(20, 0), "amount": decimal.Decimal("1.10"), "text": b"bytes", "binary": b"\xff\x00"},
    [{"__type__": "datetime", "__value__": "2026-11-30T20:00:00"}],
    {"quoted": 'a text that says "__type__"', "__type__": "not a marker without its value"},
    {1: "an integer key", True: "a boolean key", None: "no key"},
    {"big": 2**70, "small": -2**70, "ids": [2**64 + 5, 10**40, -2**63 - 1, 2**64 - 1]},
    {"deep": DEEP},  # deeper than orjson's limit of 255 levels
])
def test_kombu_types_and_what_orjson_refuses_read_back_as_kombu_reads_them(value):
    _, read = through_messages(value)
    assert read == kombu_round_trip(value)


def test_an_integer_beyond_64_bits_from_another_writer_stays_an_integer():
    read = serialization.loads(b'{"args":[18446744073709551621,"x"]}', "application/json", "utf-8")
    assert read == {"args": [2**64 + 5, "x"]}


def test_a_lone_surrogate_and_nan_in_a_message_read_back_as_before():
    _, read = through_messages({"text": "\ud800"})
    assert read == {"text": "\ud800"}
    assert serialization.loads('{"text": "\ud800"}', "application/json", "utf-8") == {"text": "\ud800"}  # as text
    read = serialization.loads(b'{"x": NaN}', "application/json", "utf-8")  # written so by a process without it
    assert math.isnan(read["x"])


def test_what_neither_can_write_fails_as_before():
    with pytest.raises(EncodeError, match="set is not JSON serializable"):
        serialization.dumps({"values": {1, 2}}, "json")
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        fastjson.dumps({"values": {1, 2}})
    with pytest.raises(TypeError, match="datetime is not JSON serializable"):
        fastjson.dumps({"when": datetime.datetime(2026, 11, 30)})  # an API answer writes its dates itself


def test_an_api_answer_deeper_than_orjson_goes_is_written_as_before():
    assert fastjson.dumps(DEEP) == json.dumps(DEEP).encode()


def test_an_api_answer_is_compact_utf8():
    written = fastjson.dumps({"name": "Ça – ✓", "items": [1, 2.5, None]})
    assert written == '{"name":"Ça – ✓","items":[1,2.5,null]}'.encode()


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_stored_json_reads_back_as_the_standard_library_reads_it(value):
    """What the search index stores of a document (its item, links and brief) is written by `dumps` and read by
    `loads`; an index written earlier by the standard library is read alike."""
    assert fastjson.loads(fastjson.dumps(value)) == json.loads(json.dumps(value))
    assert fastjson.loads(json.dumps(value).encode()) == json.loads(json.dumps(value))


def test_stored_json_keeps_long_integers_nan_and_depth():
    long_number = b'{"id": 18446744073709551621, "n": -9223372036854775809}'
    assert fastjson.loads(long_number) == {"id": 18446744073709551621, "n": -9223372036854775809}
    assert math.isnan(fastjson.loads(b"[NaN]")[0])
    assert fastjson.loads(json.dumps(DEEP).encode()) == DEEP
