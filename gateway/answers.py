"""The last good answer to each request, kept in memory: one mechanism for two uses.

- Stale-if-error: when search or the directory does not answer in its time budget, the gateway serves the last
  good answer to the same request, marked stale, with its `Age`.
- HTTP caching: each answer carries a strong ETag of its body, so `If-None-Match` gets a 304 without the body.

Bodies are kept as they were sent: compressing them (zlib level 1) kept 4–8 times more answers in the same memory
but cost a tenth of the gateway's CPU for every uncached page, since every public answer is kept.
Bounded by the memory the entries hold (bodies and their bookkeeping) and by their number, least
recently used first out; events make them out of date as a whole (gateway/common/caching.py). Used from eventlet
green threads, which do not switch inside these methods (no I/O), so no lock is needed.
"""
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterable

ENTRY_OVERHEAD = 500  # bytes an entry holds besides its key's, body's and headers' own (tracemalloc: ~450)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    stored_at: float
    etag: str
    modified_at: float = 0.0  # when an answer with this body was first kept (Last-Modified); stored_at when new
    route: tuple[str, str] | None = None  # (methods, template) of the route that made it, as metrics label it

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers) + ENTRY_OVERHEAD

    def age(self, now: float) -> int:
        """Whole seconds since it was stored, as the `Age` header wants."""
        return max(0, int(now - self.stored_at))

    def matches(self, if_none_match: str | None) -> bool:
        """Whether a request's If-None-Match names this answer (a 304 then suffices)."""
        if not if_none_match:
            return False
        candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in candidates or self.etag in candidates


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class Answers:
    def __init__(self, max_bytes: int = 32 * 1024 * 1024, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.time):
        if max_bytes <= 0 or max_entries <= 0:
            raise ValueError("an answer cache needs room for at least one entry")
        self.max_bytes, self.max_entries, self.clock = max_bytes, max_entries, clock
        self._entries: OrderedDict[str, Answer] = OrderedDict()  # least recently used first
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def put(self, key: str, status: int, headers: Iterable[tuple[str, str]], body: bytes,
            route: tuple[str, str] | None = None) -> Answer | None:
        """Keep a good answer (2xx, not partial) as the last one for `key`; None when it is not kept."""
        if not 200 <= status < 300 or status == 206:
            return None
        now, etag, before = self.clock(), etag_of(body), self._entries.get(key)
        modified_at = before.modified_at if before is not None and before.etag == etag else now
        answer = Answer(status, tuple((str(n), str(v)) for n, v in headers), body, now, etag, modified_at, route)
        self.discard(key)
        if len(key) + answer.size > self.max_bytes:  # larger than the whole cache: never kept, nothing evicted for it
            return None
        self._entries[key] = answer
        self.bytes += len(key) + answer.size
        while self.bytes > self.max_bytes or len(self._entries) > self.max_entries:
            self.discard(next(iter(self._entries)))
        return answer

    def get(self, key: str, max_age: float | None = None) -> Answer | None:
        """The last good answer for `key` (no older than `max_age` seconds when given); marks it recently used."""
        answer = self._entries.get(key)
        if answer is None or (max_age is not None and self.clock() - answer.stored_at > max_age):
            return None
        self._entries.move_to_end(key)
        return answer

    def discard(self, key: str) -> bool:
        answer = self._entries.pop(key, None)
        if answer is None:
            return False
        self.bytes -= len(key) + answer.size
        return True

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0
