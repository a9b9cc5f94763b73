"""Reliable messaging: a transactional outbox for producers, a processed-events table for consumers.

A producer writes its events into its own `outbox` table in the transaction that changes its state; the
relay publishes them (persistent messages, publisher confirms, mandatory routing) and marks them sent. A crash
between commit and publish, a broker outage, or an event no queue is bound for yet leaves the row unsent, and
a later relay sends it: events are delivered at least once.
A consumer records the id of every event it applied in the same transaction as its effect, so a redelivered
event changes nothing: together, every event takes effect exactly once.
A message that keeps failing (a handler that raises, a worker that dies) is not delivered forever: after
MAX_DELIVERIES it goes to the dead-letter queue (see dsi/deadletters.py). Services use `rpc` and
`reliable_handler` from here, not nameko's, to have that.
"""
import functools
import inspect
import logging
import socket
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from weakref import WeakKeyDictionary

from amqp.exceptions import ChannelError as AMQPChannelError
from kombu import Connection, serialization
from kombu.exceptions import OperationalError
from nameko.amqp.publish import Publisher, UndeliverableMessage
from nameko.constants import (AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_TRANSPORT_OPTIONS,
                              LOGIN_METHOD_CONFIG_KEY, NON_PERSISTENT)
from nameko.events import BROADCAST, EventDispatcher, EventHandler, event_handler
from nameko.exceptions import IncorrectSignature, UnserializableValueError, serialize
from nameko.extensions import SharedExtension
from nameko.rpc import ReplyListener as NamekoReplyListener
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange
from sqlalchemy import JSON, DateTime, Integer, String, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from dsi import fastjson, logs, metrics
from dsi.clock import utcnow  # noqa: F401 (services import it from here too)
from dsi.deadletters import DeliveryGuard
from dsi.events import envelope
from dsi.lifecycle import stopping

log = logging.getLogger(__name__)

fastjson.install()  # this process's messages, read and written by orjson


class OutboxMixin:
    """Columns of a service's outbox table: `class Outbox(Base, OutboxMixin)`."""

    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class ProcessedEventMixin:
    """Columns of a consumer's table of applied event ids: `class ProcessedEvent(Base, ProcessedEventMixin)`."""

    __tablename__ = "processed_events"
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def first_delivery(session: Session, model, event: dict) -> bool:
    """Record `event` as applied in this transaction; False if it was applied before."""
    if session.get(model, event["id"]) is not None:
        metrics.DUPLICATE_DELIVERIES.labels(event["type"]).inc()
        return False
    session.add(model(event_id=event["id"], event_type=event["type"]))
    return True


def screened(entrypoint, message) -> str:
    """What an entrypoint's DeliveryGuard decides for a delivery: "run" it, or what it did with it instead."""
    try:
        return entrypoint.guard.screen(message, entrypoint.queue_consumer.ack_message)
    except Exception:  # could not count it: handle it as nameko would
        log.exception("could not count the deliveries of a message on %s", entrypoint.queue.name)
        return "run"


class ReliableEventHandler(EventHandler):
    """An event handler whose message is acked only after it succeeded, retried if it failed, and moved to the
    dead letters after MAX_DELIVERIES failed deliveries (a raise or a dead worker alike)."""

    def __init__(self, source_service, event_type, **kwargs):
        kwargs.setdefault("reliable_delivery", True)
        super().__init__(source_service, event_type, requeue_on_error=True, **kwargs)

    def setup(self):
        super().setup()
        self.guard = DeliveryGuard(self, self.queue.name, lambda message: ("", self.queue.name))

    def handle_message(self, body, message):
        if screened(self, message) == "run":
            super().handle_message(body, message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        try:
            self.guard.failed(message, exc_info, self.queue_consumer.ack_message)
        except Exception:  # could not publish the retry: the broker keeps the message and redelivers it
            log.exception("could not retry a failed message on %s; it is requeued", self.queue.name)
            self.queue_consumer.requeue_message(message)


reliable_handler = ReliableEventHandler.decorator


def handles(source_service: str, event_type: str, handle, *args, entrypoint=reliable_handler):
    """An event handler declared in one line, for a service that treats several events alike:
    `on_rejected = handles(events.MODERATION, events.SUBMISSION_REJECTED, _apply_once, records.apply_decision)`
    calls `handle(self, event, *args)`. nameko names the entrypoint, and so its queue, after the attribute."""
    def handler(self, event):
        return handle(self, event, *args)
    return entrypoint(source_service, event_type)(handler)


def forgets_on(source_service: str, event_type: str, forget):
    """An entrypoint on every instance of a service (a queue of each instance's own, gone with it) that calls
    `forget(self)` on each such event: what an instance keeps in memory of data that changed elsewhere is out of
    date. nameko names the entrypoint after the attribute it is assigned to."""
    def handler(self, payload):
        forget(self)
    return event_handler(source_service, event_type, handler_type=BROADCAST, reliable_delivery=False)(handler)


class Channels:
    """AMQP channels kept for publishing and reused, each on a connection of its own and taken by one message at a
    time, so a green thread never writes into another's frames. nameko's publisher builds a kombu Connection for
    every message only to find its pool of producers, and kombu wraps each publish in its retry machinery: for a
    small RPC, publishing the reply was two fifths of the service's CPU (bench/RESULTS.md). The messages are the
    same. `confirms`: the broker confirms each message, and a mandatory one no queue takes is refused."""

    def __init__(self, config: dict, confirms: bool):
        self.confirms = confirms
        self._connection = Connection(  # cloned for each channel
            config[AMQP_URI_CONFIG_KEY], ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
            transport_options={**DEFAULT_TRANSPORT_OPTIONS, "confirm_publish": confirms})
        self._idle: list = []  # (connection, channel)
        self._closed = False

    def publish(self, body: bytes, content_type: str, content_encoding: str | None, exchange: str, routing_key: str,
                properties: dict, headers: dict, mandatory: bool) -> None:
        connection, channel = self._take()
        try:
            message = channel.prepare_message(body, 0, content_type, content_encoding, headers, properties)
            channel.basic_publish(message, exchange=exchange, routing_key=routing_key, mandatory=mandatory)
        except BaseException as error:  # broken, cut off mid-frame, or a return read before its confirm: not reused
            _close(connection)
            if isinstance(error, AMQPChannelError) and "NO_ROUTE" in str(error):
                raise UndeliverableMessage() from error
            raise
        if self._closed:  # sent while its container stopped
            _close(connection)
        else:
            self._idle.append((connection, channel))

    def _take(self):
        while self._idle:
            connection, channel = self._idle.pop()
            if _still_open(channel):
                return connection, channel
            _close(connection)
        return self._open()

    def _open(self):
        connection = self._connection.clone()
        try:
            return connection, connection.ensure_connection(max_retries=0).channel()
        except Exception as error:
            _close(connection)
            raise BrokerUnreachable(f"no connection to the broker: {error}") from error
        except BaseException:
            _close(connection)
            raise

    def __len__(self) -> int:
        """How many are kept, idle."""
        return len(self._idle)

    def close(self) -> None:
        self._closed = True
        while self._idle:
            _close(self._idle.pop()[0])


class BrokerUnreachable(OperationalError):
    """A new connection to the broker failed. Its caller hears so at once: nameko's publisher would try again for
    seconds (kombu's retry policy), the whole of a visitor's time budget, before the same answer — the last good
    one, a 503, or the spool for a write."""


def _still_open(channel) -> bool:
    """Whether a kept connection still stands: nothing waits to be read on it while it is idle. A broker that
    stopped or closed it said so, or its end came; a message written into it now could be lost unnoticed, as the
    operating system may take one write after the other end closed."""
    sock = getattr(getattr(channel.connection, "transport", None), "sock", None)
    if sock is None:  # py-amqp let go of it: closed
        return False
    try:
        getattr(sock, "fd", sock).recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # eventlet's socket wraps the OS one
    except BlockingIOError:
        return True
    except ValueError:  # a TLS socket takes no flags: trusted, as kombu's pool trusts it
        return True
    except OSError:
        return False
    return False


def _close(connection: Connection) -> None:
    try:
        connection.release()
    except Exception:  # already broken: nothing to close cleanly
        pass


class ChannelPublisher(Publisher):
    """nameko's publisher, sending through kept `channels`; when a kept channel fails (a broker that restarted),
    the message goes again nameko's own way, which reconnects and retries. When no new connection can be made, the
    caller hears so at once (BrokerUnreachable)."""

    SENDS = frozenset({"exchange", "routing_key", "mandatory", "content_type", "content_encoding", "correlation_id",
                       "reply_to", "extra_headers"})  # what a kept channel sends as nameko would; anything else: nameko

    def __init__(self, amqp_uri: str, channels: Channels, **options):
        super().__init__(amqp_uri, **options)
        self.channels = channels
        self.transport_options = {**DEFAULT_TRANSPORT_OPTIONS}  # nameko writes into it: not into the class's

    def publish(self, payload, **kwargs):
        if kwargs.keys() - self.SENDS or self.publish_kwargs or self.channels.confirms != self.use_confirms:
            return super().publish(payload, **kwargs)
        if kwargs.get("content_type"):  # encoded by the caller
            content_type, encoding, body = kwargs["content_type"], kwargs.get("content_encoding"), payload
        else:
            content_type, encoding, body = serialization.dumps(payload, self.serializer)
        properties = {"delivery_mode": self.delivery_mode}
        properties.update((name, kwargs[name]) for name in ("correlation_id", "reply_to") if kwargs.get(name))
        exchange = kwargs["exchange"]
        try:
            self.channels.publish(body, content_type, encoding, getattr(exchange, "name", exchange),
                                  kwargs["routing_key"], properties, dict(kwargs.get("extra_headers") or {}),
                                  kwargs.get("mandatory", self.mandatory))
        except (UndeliverableMessage, BrokerUnreachable):
            raise
        except Exception as error:  # a kept connection broke (the broker restarted): nameko's publisher reconnects
            log.info("a message goes out again on a new connection after %r", error)
            super().publish(payload, **kwargs)


class RequestChannels(SharedExtension):
    """A container's kept channels for its RPC requests (confirmed, as nameko sends them: a request for a service
    that never ran is refused at once), closed when it stops."""

    def setup(self):
        self.channels = Channels(self.container.config, confirms=True)

    def stop(self):
        self.channels.close()

    def kill(self):
        self.channels.close()


class ReplyListener(NamekoReplyListener):
    """nameko's listener for the replies to a container's RPC requests, to which the broker hands them without
    waiting for an ack: a reply matters only to the caller that waits for it, and one lost with a broken connection
    makes that caller time out, as a reply lost with the broker does (they are transient). An ack per reply was a
    twentieth of the gateway's CPU for a read of one call."""

    def setup(self):
        super().setup()
        self.queue.no_ack = True

    def handle_message(self, body, message):
        waiting = self._reply_events.pop(message.properties.get("correlation_id"), None)
        if waiting is not None:  # else its caller gave up waiting
            waiting.send(body)


class GuardedRpcConsumer(RpcConsumer):
    """nameko's RPC consumer, counting deliveries: a request whose worker keeps dying is dead-lettered (and its
    caller answered with an error) instead of killing every restart of the service.

    Its replies are serialised once (nameko's Responder serialises each twice, the first time only to check that it
    can) and go out on kept channels (Channels) as transient messages without publisher confirms: a reply is worth
    something only while its caller waits, and what it reports was committed before it was sent, so a broker that
    loses it makes the caller time out, as a lost confirm would. That halves the broker's work per call
    (bench/RESULTS.md)."""

    def setup(self):
        super().setup()
        self.guard = DeliveryGuard(self, self.queue.name, lambda message: (
            message.delivery_info.get("exchange", ""), message.delivery_info["routing_key"]))
        config = self.container.config
        self.channels = Channels(config, confirms=False)
        self.replies = ChannelPublisher(config[AMQP_URI_CONFIG_KEY], self.channels, use_confirms=False,
                                        delivery_mode=NON_PERSISTENT, ssl=config.get(AMQP_SSL_CONFIG_KEY),
                                        login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        self.reply_exchange = get_rpc_exchange(config)

    def stop(self):
        super().stop()
        self.channels.close()

    def kill(self):
        super().kill()
        self.channels.close()

    def handle_message(self, body, message):
        outcome = screened(self, message)
        if outcome == "run":
            super().handle_message(body, message)
        elif outcome == "dead":  # tell the caller, if it still waits, instead of leaving it to time out
            try:
                raise PoisonMessage("This request made the service fail repeatedly; it was set aside for operators.")
            except PoisonMessage:
                self.reply(message, None, sys.exc_info())

    def handle_result(self, message, result, exc_info):
        result, exc_info = self.reply(message, result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def reply(self, message, result, exc_info):
        """Send the caller `result` (or the error of `exc_info`), encoded as its request was; what was sent."""
        serializer = serialization.registry.type_to_name[message.properties["content_type"]]
        error = serialize(exc_info[1]) if exc_info is not None else None
        try:
            content_type, encoding, body = serialization.dumps({"result": result, "error": error}, serializer)
        except Exception:  # an answer that cannot be encoded: the caller gets an error that can
            exc_info = sys.exc_info()
            content_type, encoding, body = serialization.dumps(
                {"result": None, "error": serialize(UnserializableValueError(result))}, serializer)
            result = None
        self.replies.publish(body, content_type=content_type, content_encoding=encoding,
                             exchange=self.reply_exchange, routing_key=message.properties["reply_to"],
                             correlation_id=message.properties.get("correlation_id"))
        return result, exc_info


class PoisonMessage(Exception):
    """Sent to an RPC caller whose request was dead-lettered."""


class GuardedRpc(Rpc):
    rpc_consumer = GuardedRpcConsumer()

    def check_signature(self, args, kwargs):
        """As nameko's check, against the method's signature read once: inspect.getcallargs reads it again on every
        call (25 µs of it, against 5)."""
        try:
            self._signature.bind(None, *args, **kwargs)
        except TypeError as error:
            raise IncorrectSignature(str(error))

    @functools.cached_property
    def _signature(self) -> inspect.Signature:
        return inspect.signature(getattr(self.container.service_cls, self.method_name))


rpc = GuardedRpc.decorator


def session_rpc(work, expected_exceptions=()):
    """An RPC declared in one line, for one that only runs a domain function in a session of the service's `db`:
    `confirm = session_rpc(subscribers.confirm, EXPECTED)` answers `confirm(token)` with
    `subscribers.confirm(session, token)`. Callers are checked against `work`'s own arguments (but `session`)."""
    def entrypoint(self, *args, **kwargs):
        with self.db.get_session() as session:
            return work(session, *args, **kwargs)
    signature = inspect.signature(work)
    entrypoint.__signature__ = signature.replace(parameters=[
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *list(signature.parameters.values())[1:]])
    entrypoint.__doc__ = work.__doc__
    return rpc(expected_exceptions=expected_exceptions)(entrypoint)


class OutboxWriter:
    """Adds events to a session's transaction. Used as it is by command-line tools; see Outbox for services."""

    def __init__(self, model, producer: str):
        self.model = model
        self.producer = producer

    def add(self, session: Session, event_type: str, payload: dict) -> dict:
        body = envelope(self.producer, event_type, payload, logs.request_id())
        session.add(self.model(event_id=body["id"], event_type=event_type, body=body))
        return body


class _WorkerOutbox(OutboxWriter):
    """A worker's outbox: remembers which databases it wrote to, so they are relayed when the worker ends."""

    def __init__(self, provider):
        super().__init__(provider.model, provider.container.service_name)
        self._provider = provider
        self.added: dict[Engine, list[str]] = defaultdict(list)  # event ids this worker wrote, per database

    def add(self, session: Session, event_type: str, payload: dict) -> dict:
        body = super().add(session, event_type, payload)
        self.added[session.get_bind()].append(body["id"])
        return body

    def relay(self, engine: Engine, batch: int = 500) -> int:
        return self._provider.relay(engine, batch)


class Outbox(EventDispatcher):
    """Transactional outbox of a service: a worker's events go out right after it, a timer sweeps the rest."""

    MAX_BACKOFF = 30  # seconds between tries of an event no queue is bound for

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.workers = WeakKeyDictionary()
        self.unroutable: dict[str, tuple[int, float]] = {}  # event id → (tries, when to try again)

    def get_dependency(self, worker_ctx):
        outbox = self.workers[worker_ctx] = _WorkerOutbox(self)
        return outbox

    def worker_teardown(self, worker_ctx):
        outbox = self.workers.pop(worker_ctx, None)
        # Only the worker's own events: older unsent rows are the sweep's, so a backlog never delays new work.
        for engine, event_ids in (outbox.added.items() if outbox else ()):
            try:
                self.relay(engine, only=event_ids)
            except Exception:  # the sweep sends it later; the worker's own work is done
                log.exception("outbox relay failed; events stay queued for the next sweep")

    def relay(self, engine: Engine, batch: int = 500, only: list[str] | None = None) -> int:
        """Publish unsent events in order, `batch` rows per transaction; returns how many were sent."""
        sent = self._relay(engine, batch, only)
        if only is None:  # a sweep: what it left is the backlog
            self._measure_backlog(engine)
        return sent

    def _measure_backlog(self, engine: Engine) -> None:
        with Session(engine) as session:
            backlog, oldest = session.execute(select(func.count(), func.min(self.model.created_at)).where(
                self.model.sent_at.is_(None))).one()
        if oldest is not None and oldest.tzinfo is None:  # SQLite keeps naive UTC
            oldest = oldest.replace(tzinfo=timezone.utc)
        metrics.OUTBOX_BACKLOG.set(backlog)
        metrics.OUTBOX_OLDEST_AGE.set(max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0)

    def _relay(self, engine: Engine, batch: int, only: list[str] | None) -> int:
        sent, after = 0, 0
        while True:
            query = select(self.model).where(self.model.sent_at.is_(None), self.model.seq > after)
            if only is not None:
                query = query.where(self.model.event_id.in_(only))
            with Session(engine) as session:
                rows = session.scalars(
                    query.order_by(self.model.seq).limit(batch).with_for_update(skip_locked=True)).all()
                if not rows:
                    return sent
                after, full = rows[-1].seq, len(rows) == batch
                try:
                    for row in rows:
                        if stopping():  # the rest waits in the outbox for the next sweep, after the restart
                            full = False
                            break
                        sent += self._publish(row)
                finally:
                    session.commit()
            if not full:
                return sent

    def _publish(self, row) -> bool:
        tries, due = self.unroutable.get(row.event_id, (0, 0.0))
        if due > time.monotonic():
            return False
        try:
            self.publisher.publish(row.body, exchange=self.exchange, routing_key=row.event_type, mandatory=True)
        except UndeliverableMessage:  # no consumer has bound its queue yet: keep it, try again later
            if not tries:
                log.warning("no queue bound for %s yet; kept in the outbox", row.event_type)
            self.unroutable[row.event_id] = (tries + 1, time.monotonic() + min(2 ** tries, self.MAX_BACKOFF))
            return False
        self.unroutable.pop(row.event_id, None)
        row.sent_at = utcnow()
        metrics.EVENTS_PUBLISHED.labels(row.event_type).inc()
        return True
