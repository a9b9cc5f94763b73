"""The messages of an RPC call on the broker: a public read asks with a transient message, anything else with a
persistent one (gateway RpcProxy); every reply is transient and encoded once (dsi.messaging.GuardedRpcConsumer),
and reaches the caller as nameko's own would: the answer as it was, a raised error as itself, an answer that cannot
be encoded as nameko's UnserializableValueError, with the service serving on. Real RabbitMQ, real containers."""
import json
import socket
import time
import uuid

import pytest
import requests
from kombu import Connection, Exchange, Queue
from nameko.exceptions import IncorrectSignature, RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from dsi.errors import NotFound
from dsi.messaging import RequestChannels, _still_open, rpc
from gateway.common import caching
from gateway.common.http import RpcProxy
from gateway.service import GatewayService
from tests.factories import organisation_body

TRANSIENT, PERSISTENT = 1, 2


ANSWER = {"name": "Ça marche – ✓", "items": [{"id": 1, "latitude": 41.38, "tags": []}, None], "total": 2**40}


class Replies:
    name = "replies"

    @rpc
    def answer(self):
        return ANSWER

    @rpc(expected_exceptions=NotFound)
    def missing(self):
        raise NotFound("No published project with id 7.")

    @rpc
    def unserialisable(self):
        return {"when": object()}

    @rpc
    def repeat(self, text, times=1):
        return text * times


def rpc_exchange() -> Exchange:
    return Exchange("nameko-rpc", type="topic", durable=True)


def messages(connection: Connection, queue: Queue, count: int, timeout: float = 10.0) -> list:
    """The next `count` messages of `queue` (acknowledged); fewer when `timeout` seconds pass without one."""
    received = []

    def keep(body, message):
        message.ack()
        received.append(message)

    with connection.Consumer(queue, callbacks=[keep], accept=["json"]):
        while len(received) < count:
            try:
                connection.drain_events(timeout=timeout)
            except socket.timeout:
                break
    return received


@pytest.fixture
def broker(rabbit_config):
    with Connection(rabbit_config["AMQP_URI"]) as connection:
        yield connection


def test_answers_errors_and_unserialisable_answers_reach_the_caller(container_factory, rabbit_config):
    container_factory(Replies, rabbit_config).start()
    with ServiceRpcProxy("replies", rabbit_config, timeout=30) as replies:
        assert replies.answer() == ANSWER
        with pytest.raises(NotFound, match="id 7"):  # dsi's errors arrive as themselves
            replies.missing()
        with pytest.raises(RemoteError) as unserialisable:
            replies.unserialisable()
        assert unserialisable.value.exc_type == "UnserializableValueError"
        assert replies.answer() == ANSWER  # the worker's failure to reply did not stop the service


def test_a_call_is_checked_against_the_methods_signature(container_factory, rabbit_config):
    container_factory(Replies, rabbit_config).start()
    with ServiceRpcProxy("replies", rabbit_config, timeout=30) as replies:
        assert replies.repeat("ab", times=2) == "abab"
        for args, kwargs in (((), {}), (("ab", 2, 3), {}), (("ab",), {"colour": "red"})):
            with pytest.raises(IncorrectSignature):
                replies.repeat(*args, **kwargs)
        assert replies.repeat("ab") == "ab"


def test_a_reply_is_a_transient_message(container_factory, rabbit_config, broker):
    container_factory(Replies, rabbit_config).start()
    name = f"replies-{uuid.uuid4().hex}"
    replies = Queue(name, rpc_exchange(), routing_key=name, exclusive=True)  # gone with this connection
    replies(broker.default_channel).declare()
    with broker.Producer() as producer:
        producer.publish({"args": [], "kwargs": {}}, exchange=rpc_exchange(), routing_key="replies.answer",
                         reply_to=name, correlation_id="one", serializer="json")
    [reply] = messages(broker, replies, 1)
    assert reply.properties["correlation_id"] == "one" and reply.properties["delivery_mode"] == TRANSIENT
    assert json.loads(reply.body) == {"result": ANSWER, "error": None}


def test_a_public_read_asks_with_a_transient_message_and_a_write_with_a_persistent_one(
        container_factory, rabbit_config, web_config, web_session, broker):
    caching.ANSWERS.clear()
    container_factory(GatewayService, {**rabbit_config, **web_config}).start()
    # in the directory's place: its queue, read here (nobody answers: each request times out in the gateway)
    directory = Queue("rpc-directory", rpc_exchange(), routing_key="directory.*", durable=True)
    directory(broker.default_channel).declare()

    def asked(method: str, path: str, **kwargs):
        try:
            web_session.request(method, path, timeout=0.5, **kwargs)
        except requests.exceptions.ReadTimeout:
            pass
        return messages(broker, directory, 1)[0]

    read = asked("GET", "/api/organisations/5")
    assert read.delivery_info["routing_key"] == "directory.get_record"
    assert read.properties["delivery_mode"] == TRANSIENT
    write = asked("POST", "/api/submissions", json=organisation_body())
    assert write.delivery_info["routing_key"].startswith("directory.")
    assert write.properties["delivery_mode"] == PERSISTENT


class Asker:
    """Asks as the gateway does (gateway.common.http.RpcProxy)."""
    name = "asker"

    replies = RpcProxy("replies")
    nobody = RpcProxy("nobody")

    @rpc
    def ask(self):
        return self.replies.answer()

    @rpc
    def ask_nobody(self):
        return self.nobody.answer()


def broker_name(rabbit_manager, vhost: str, channels) -> str:
    """The broker's name of the one connection `channels` keep (found by its port once the management API lists
    it, which takes the broker's next statistics)."""
    [(connection, _channel)] = channels._idle
    port = connection.connection.transport.sock.getsockname()[1]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for listed in rabbit_manager.get_connections():
            if listed.get("vhost") == vhost and listed.get("peer_port") == port:
                return listed["name"]
        time.sleep(0.5)
    raise AssertionError(f"the broker does not list the connection from port {port}")


def closed_by_the_broker(rabbit_manager, vhost: str, channels) -> None:
    [(connection, channel)] = channels._idle
    rabbit_manager.delete_connection(broker_name(rabbit_manager, vhost, channels))
    deadline = time.monotonic() + 10
    while _still_open(channel) and time.monotonic() < deadline:  # the broker's close frame is on its way
        time.sleep(0.1)
    assert not _still_open(channel)


def rpc_consumer(container):
    return next(entrypoint.rpc_consumer for entrypoint in container.entrypoints)


def test_replies_go_out_on_a_kept_channel_and_one_the_broker_closed_is_replaced(
        container_factory, rabbit_config, rabbit_manager):
    container = container_factory(Replies, rabbit_config)
    container.start()
    channels = rpc_consumer(container).channels
    with ServiceRpcProxy("replies", rabbit_config, timeout=10) as replies:
        for _ in range(20):
            assert replies.answer() == ANSWER
        assert len(channels) == 1  # twenty replies, one after the other, on one connection
        closed_by_the_broker(rabbit_manager, rabbit_config["vhost"], channels)
        assert replies.answer() == ANSWER  # not written into the closed connection and lost: the caller is answered
        assert len(channels) == 1


def test_requests_go_out_confirmed_on_a_kept_channel(container_factory, rabbit_config, rabbit_manager):
    container_factory(Replies, rabbit_config).start()
    asker = container_factory(Asker, rabbit_config)
    asker.start()
    channels = next(extension for extension in asker.extensions if isinstance(extension, RequestChannels)).channels
    with ServiceRpcProxy("asker", rabbit_config, timeout=10) as proxy:
        for _ in range(20):
            assert proxy.ask() == ANSWER
        assert len(channels) == 1 and channels.confirms
        with pytest.raises(RemoteError) as nobody:  # the broker returned it: no queue takes it
            proxy.ask_nobody()
        assert nobody.value.exc_type == "UnknownService"
        assert proxy.ask() == ANSWER  # the channel that had the return was not kept, a new one asks
        closed_by_the_broker(rabbit_manager, rabbit_config["vhost"], channels)
        assert proxy.ask() == ANSWER


def test_a_request_the_broker_takes_no_connection_for_fails_at_once(container_factory, rabbit_config,
                                                                     rabbit_manager):
    """Not after nameko's retries, which would spend a visitor's whole time budget before the same 503 (or kept
    answer, or spooled write): the caller hears BrokerUnreachable, and asks again once the broker takes
    connections."""
    container_factory(Replies, rabbit_config).start()
    asker = container_factory(Asker, rabbit_config)
    asker.start()
    channels = next(extension for extension in asker.extensions if isinstance(extension, RequestChannels)).channels
    vhost = rabbit_config["vhost"]
    with ServiceRpcProxy("asker", rabbit_config, timeout=30) as proxy:
        assert proxy.ask() == ANSWER
        closed_by_the_broker(rabbit_manager, vhost, channels)  # the next request needs a new connection
        rabbit_manager._put("vhost-limits", vhost, "max-connections", json={"value": 0})
        try:
            with pytest.raises(RemoteError) as refused:
                proxy.ask()
            assert refused.value.exc_type == "BrokerUnreachable"
        finally:
            rabbit_manager._delete("vhost-limits", vhost, "max-connections")
        assert proxy.ask() == ANSWER
