"""Poison messages: a request or event that keeps failing goes to a dead-letter queue instead of coming back
forever.

Deliveries are counted without changing any queue (a queue's arguments cannot change on a running broker,
so this works on the queues nameko already declared, of any type):
- a handler that raises: the message is published again, after a pause, with `x-dsi-attempts` one higher,
  then acked;
- a worker or process that died: the broker hands the message out again flagged `redelivered`; the consumer
  counts that in a small local file (DELIVERY_COUNTS, by default var/delivery-counts/<service>.sqlite) before
  running it. (Publishing a counted copy instead would race the ack of the old one against the next crash.)
Once the count reaches MAX_DELIVERIES (typed setting, dsi.settings.DeliverySettings; default 5), the message goes to the durable queue
`dsi-dead-letters` with its error, its queue and its route, for `dsi dead-letters list|retry|drop`.
A retried copy is published before the original is acked, so a message can arrive twice; consumers are
idempotent anyway.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import sqlite3
import time
import traceback
import uuid

import eventlet
from kombu import Connection, Queue
from kombu.pools import producers

from dsi.clock import utcnow
from dsi.redaction import redact
from dsi.settings import DeliverySettings, validate

log = logging.getLogger(__name__)

DEAD_LETTER_QUEUE = "dsi-dead-letters"
ATTEMPTS = "x-dsi-attempts"
ERROR = "x-dsi-error"
DEAD_ID = "x-dsi-dead-id"
DEAD_AT = "x-dsi-dead-at"
QUEUE = "x-dsi-queue"
EXCHANGE = "x-dsi-exchange"
ROUTING_KEY = "x-dsi-routing-key"
SERVICE = "x-dsi-service"
GENERATION = "x-dsi-generation"  # set by a retry from the dead letters, kept by every copy after it
OUR_HEADERS = (ATTEMPTS, ERROR, DEAD_ID, DEAD_AT, QUEUE, EXCHANGE, ROUTING_KEY, SERVICE)

DIED = "the worker stopped before it finished (the process died or was stopped)"
MAX_ERROR_LENGTH = 4000


def dead_letter_queue() -> Queue:
    return Queue(DEAD_LETTER_QUEUE, exchange="", routing_key=DEAD_LETTER_QUEUE, durable=True)


def describe(exc_info) -> str:
    """The error of a failed handler for operators, without personal data and of bounded length."""
    text = "".join(traceback.format_exception(*exc_info)) if exc_info else DIED
    return redact(text)[-MAX_ERROR_LENGTH:]


def publish_raw(amqp_uri: str, message, exchange: str, routing_key: str, headers: dict, declare=()) -> None:
    """Publish `message` again as it came (body, content type, reply address), with `headers`; confirmed."""
    properties = message.properties or {}
    extra = {key: properties[key] for key in ("reply_to", "correlation_id") if properties.get(key)}
    connection = Connection(amqp_uri, transport_options={"confirm_publish": True})
    with producers[connection].acquire(block=True) as producer:
        producer.publish(message.body, exchange=exchange, routing_key=routing_key, headers=headers,
                         content_type=message.content_type, content_encoding=message.content_encoding,
                         delivery_mode=2, declare=list(declare), retry=True, **extra)


class DeliveryCounts:
    """How often each message was redelivered to this service, in a local SQLite file written before the
    message runs: a process that dies while running it still leaves the count behind."""

    FORGET_AFTER = 7 * 24 * 3600  # seconds; a message still redelivered after a week is counted from zero

    def __init__(self, path: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS redeliveries (queue TEXT, message TEXT, count INTEGER, "
                        "seen REAL, PRIMARY KEY (queue, message))")
        self.db.execute("DELETE FROM redeliveries WHERE seen < ?", (time.time() - self.FORGET_AFTER,))

    @staticmethod
    def key(message) -> str:
        correlation = (message.properties or {}).get("correlation_id") or ""
        correlation += str((message.headers or {}).get(GENERATION, ""))  # a retried dead letter counts afresh
        body = message.body or b""
        body = body.encode() if isinstance(body, str) else bytes(body)
        return hashlib.sha256(correlation.encode() + b"\0" + body).hexdigest()

    def count(self, queue: str, message) -> int:
        """One more redelivery of `message`; returns how many there were, or -1 when it was dead-lettered
        already (a copy that came back: the broker requeues a message whose ack did not reach it)."""
        key = self.key(message)
        self.db.execute("INSERT INTO redeliveries VALUES (?, ?, 1, ?) ON CONFLICT (queue, message) DO UPDATE "
                        "SET count = count + 1, seen = excluded.seen WHERE count >= 0", (queue, key, time.time()))
        return self.db.execute("SELECT count FROM redeliveries WHERE queue = ? AND message = ?",
                               (queue, key)).fetchone()[0]

    def peek(self, queue: str, message) -> int:
        row = self.db.execute("SELECT count FROM redeliveries WHERE queue = ? AND message = ?",
                              (queue, self.key(message))).fetchone()
        return row[0] if row else 0

    def claim_burial(self, queue: str, message) -> bool:
        """Mark `message` dead-lettered; False if another delivery of it did so first (the broker hands a
        message out again when the channel it came on closes, even while this copy is being handled)."""
        key = self.key(message)
        self.db.execute("INSERT INTO redeliveries VALUES (?, ?, 0, ?) ON CONFLICT (queue, message) DO NOTHING",
                        (queue, key, time.time()))
        claimed = self.db.execute("UPDATE redeliveries SET count = -1, seen = ? WHERE queue = ? AND message = ? "
                                  "AND count >= 0", (time.time(), queue, key)).rowcount
        return claimed == 1

    def release_burial(self, queue: str, message) -> None:
        self.db.execute("UPDATE redeliveries SET count = 0 WHERE queue = ? AND message = ? AND count = -1",
                        (queue, self.key(message)))

    def forget(self, queue: str, message) -> None:
        self.db.execute("DELETE FROM redeliveries WHERE queue = ? AND message = ?", (queue, self.key(message)))


_counts: dict[str, DeliveryCounts] = {}


def delivery_counts(path: str) -> DeliveryCounts:
    if path not in _counts:
        _counts[path] = DeliveryCounts(path)
    return _counts[path]


class DeliveryGuard:
    """Counts the deliveries of the messages of one consumer and retires the poison ones.

    `owner` is a nameko extension (for its container's config); `route(message)` says where a retried copy is
    published: events go straight back to the handler's own queue, RPC requests to their exchange and routing
    key (the RPC consumer finds the method by it).
    """

    def __init__(self, owner, queue_name: str, route):
        self.owner = owner
        self.queue_name = queue_name
        self.route = route

    @property
    def config(self) -> dict:
        return self.owner.container.config

    @functools.cached_property
    def settings(self) -> DeliverySettings:
        return validate(DeliverySettings, self.config, f"the {self.owner.container.service_name} service")

    @property
    def max_deliveries(self) -> int:
        return self.settings.MAX_DELIVERIES

    @staticmethod
    def attempts(message) -> int:
        try:
            return max(0, int((message.headers or {}).get(ATTEMPTS, 0)))
        except (TypeError, ValueError):
            return 0

    @property
    def counts(self) -> DeliveryCounts:
        service = self.owner.container.service_name
        return delivery_counts(self.settings.DELIVERY_COUNTS or f"var/delivery-counts/{service}.sqlite")

    def screen(self, message, ack) -> str:
        """"run" when `message` should run now. A redelivered message ended a worker without an answer: that
        is counted, and once MAX_DELIVERIES ended so it is dead-lettered and acked with `ack` ("dead")."""
        if not message.delivery_info.get("redelivered"):
            return "run"
        redelivered = self.counts.count(self.queue_name, message)
        if redelivered < 0:
            ack(message)
            return "duplicate"
        ended = self.attempts(message) + redelivered
        if ended < self.max_deliveries:
            return "run"
        return self._bury(message, None, ended, ack)

    def failed(self, message, exc_info, ack) -> str:
        """After a handler raised: publish the message again with one more attempt counted (after a pause: the
        cause may pass, a database restart), or to the dead letters after the last one; then ack it."""
        redelivered = self.counts.peek(self.queue_name, message) if message.delivery_info.get("redelivered") else 0
        ended = self.attempts(message) + max(0, redelivered) + 1
        if ended >= self.max_deliveries:
            return self._bury(message, exc_info, ended, ack)
        eventlet.sleep(min(self.settings.DELIVERY_BACKOFF * 2 ** (ended - 1), 30))
        headers = {key: value for key, value in (message.headers or {}).items() if key not in OUR_HEADERS}
        exchange, routing_key = self.route(message)
        publish_raw(self.config["AMQP_URI"], message, exchange, routing_key,
                    {**headers, ATTEMPTS: ended, ERROR: describe(exc_info)[-500:]})
        self.counts.forget(self.queue_name, message)  # the copy carries the count in its header
        ack(message)
        log.warning("a message on %s failed (attempt %d of %d); it is retried", self.queue_name, ended,
                    self.max_deliveries)
        return "retried"

    def _bury(self, message, exc_info, attempts: int, ack) -> str:
        error = describe(exc_info)
        headers = {key: value for key, value in (message.headers or {}).items() if key not in OUR_HEADERS}
        exchange, routing_key = self.route(message)
        dead = {**headers, ATTEMPTS: attempts, ERROR: error, DEAD_ID: uuid.uuid4().hex, DEAD_AT: utcnow().isoformat(),
                QUEUE: self.queue_name, EXCHANGE: exchange, ROUTING_KEY: routing_key,
                SERVICE: self.owner.container.service_name}
        if not self.counts.claim_burial(self.queue_name, message):
            ack(message)
            return "duplicate"
        try:
            publish_raw(self.config["AMQP_URI"], message, "", DEAD_LETTER_QUEUE, dead, declare=[dead_letter_queue()])
        except Exception:
            self.counts.release_burial(self.queue_name, message)
            raise
        ack(message)
        log.error("a message on %s failed %d times and was moved to %s (id %s): %s", self.queue_name, attempts,
                  DEAD_LETTER_QUEUE, dead[DEAD_ID], (error.strip().splitlines() or [""])[-1])
        return "dead"


# --- operators: `dsi dead-letters` ------------------------------------------------------------------------------


def _summary(message) -> dict:
    headers = message.headers or {}
    return {"id": headers.get(DEAD_ID, ""), "service": headers.get(SERVICE, ""), "queue": headers.get(QUEUE, ""),
            "routing_key": headers.get(ROUTING_KEY, ""), "attempts": headers.get(ATTEMPTS, 0),
            "dead_at": headers.get(DEAD_AT, ""), "error": headers.get(ERROR, "")}


class DeadLetters:
    """The dead-letter queue as operators see it. Messages are read unacked, so whatever is not retried or
    dropped goes back to the queue when the connection closes.

    A message is dead-lettered once (DeliveryCounts.claim_burial), but its publish may land twice: a publish
    retried after the broker had taken it (a lost confirm, a dropped connection). A second copy of the same
    message from the same queue is the same letter: it is dropped when seen."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri

    def _each(self, act):
        with Connection(self.amqp_uri) as connection:
            channel = connection.channel()
            queue = dead_letter_queue()(channel)
            queue.declare()
            results, seen = [], set()
            while (message := queue.get(no_ack=False)) is not None:
                letter = ((message.headers or {}).get(QUEUE), DeliveryCounts.key(message))
                if letter in seen:
                    message.ack()
                    continue
                seen.add(letter)
                results.append(act(message))
            channel.close()  # unacked messages go back to the queue, in order
            return [result for result in results if result is not None]

    def list(self) -> list[dict]:
        return self._each(_summary)

    def retry(self, ids=None) -> list[str]:
        """Send the chosen messages (all when `ids` is None) back to their queue with a fresh count."""
        def send_back(message, headers):
            kept = {key: value for key, value in headers.items() if key not in OUR_HEADERS}
            kept[GENERATION] = uuid.uuid4().hex
            publish_raw(self.amqp_uri, message, headers.get(EXCHANGE, ""),
                        headers.get(ROUTING_KEY) or headers.get(QUEUE, ""), kept)
        return self._take(ids, send_back)

    def drop(self, ids=None) -> list[str]:
        return self._take(ids, lambda message, headers: None)

    def _take(self, ids, act) -> list[str]:
        """act(message, headers) on each chosen message (all when `ids` is None), which then leaves the dead
        letters; the ids of those taken."""
        def take(message):
            headers = message.headers or {}
            if ids is not None and headers.get(DEAD_ID) not in ids:
                return None
            act(message, headers)
            message.ack()
            return headers.get(DEAD_ID, "")
        return self._each(take)
