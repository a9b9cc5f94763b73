"""JSON written and read by orjson, with the same answers as the standard library's (and kombu's) codecs.

Every RPC reply, request and event is JSON, and so is every API answer: decoding and encoding them in Python was a
quarter of the gateway's CPU on a list page of 30 records (kombu's decoder calls an `object_hook` for every object).
orjson does the common case; whatever it treats differently goes to the original codec, so the bytes on the wire
and the values read back stay what they were:
- kombu marks the types JSON lacks (datetime, Decimal, bytes, …) as {"__type__": …, "__value__": …} objects: a
  body with such a key is decoded by kombu, and such values are encoded by kombu's encoder;
- what orjson refuses or reads otherwise (integers beyond 64 bits, NaN written by another process, lone
  surrogates, types neither knows) is left to the original, which answers or raises as it did.
Two values are written otherwise, and no message or answer of the platform holds them: a UUID (a string, where
kombu marks it) and a NaN or infinity (null, where the standard library writes NaN, which is not JSON).
"""
import json

import orjson
from kombu import serialization
from kombu.utils import json as kombu_json

# datetimes and dataclasses go to `default`, as in the standard library; keys need not be strings, as there
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_TYPE_MARKER = b'"__type__"'  # only as a key: inside a JSON string its quotes are escaped
# orjson reads an integer beyond 64 bits as a float (an id of 20 digits sent by a visitor would arrive as 1.8e19):
# a body with a run of 19 digits anywhere is read by the original (finding one costs a microsecond per kilobyte)
_DIGITS_AS_ZERO = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_NUMBER = b"0" * 19
_kombu_default = kombu_json.JSONEncoder().default


def dumps(value) -> bytes:
    """`value` as compact UTF-8 JSON, as json.dumps(value, ensure_ascii=False, separators=(",", ":")) writes it."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


_UNREAD = object()


def _by_orjson(data: bytes):
    """`data` read by orjson, or _UNREAD where it would read it otherwise than the original codec or refuses it."""
    if _LONG_NUMBER in data.translate(_DIGITS_AS_ZERO):
        return _UNREAD
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # NaN, deeper than 255 levels, not JSON: the original reads it or says why not
        return _UNREAD


def loads(data: bytes):
    """JSON bytes (what the search index stores, a kept answer) read as json.loads reads them."""
    value = _by_orjson(data)
    return json.loads(data) if value is _UNREAD else value


def _message_dumps(value) -> bytes:
    try:
        return orjson.dumps(value, default=_kombu_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return kombu_json.dumps(value).encode()


def _message_loads(body):
    if isinstance(body, memoryview):
        body = body.tobytes()
    elif isinstance(body, str):  # as py-amqp hands a body with a content encoding (its channels' auto_decode)
        try:
            body = body.encode()
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8, so not from the wire
            return kombu_json.loads(body)
    if isinstance(body, (bytes, bytearray)) and _TYPE_MARKER not in body:
        value = _by_orjson(body)
        if value is not _UNREAD:
            return value
    return kombu_json.loads(body)


def install() -> None:
    """Make this process's messages use it: kombu's "json" serializer, the one nameko's RPC and events use (same
    content type, same wire format: a process without it reads them alike)."""
    serialization.registry.register("json", _message_dumps, _message_loads,
                                    content_type="application/json", content_encoding="utf-8")
