"""The messages of an RPC call on the broker: a public read asks with a transient message, anything else with a
persistent one; every reply is transient and encoded once (dsi.messaging.GuardedRpcConsumer, gateway RpcProxy)."""
import json
import socket
import uuid

import pytest
import requests
from kombu import Connection, Exchange, Queue

from dsi.messaging import rpc
from gateway.common import caching
from gateway.service import GatewayService
from tests.factories import organisation_body

TRANSIENT, PERSISTENT = 1, 2


class Answers:
    name = "answers"

    @rpc
    def echo(self, value):
        return value

    @rpc
    def unencodable(self):
        return object()


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


def test_a_reply_is_transient_and_says_when_the_answer_cannot_be_encoded(container_factory, rabbit_config, broker):
    container_factory(Answers, rabbit_config).start()
    name = f"replies-{uuid.uuid4().hex}"
    replies = Queue(name, rpc_exchange(), routing_key=name, exclusive=True)  # gone with this connection
    replies(broker.default_channel).declare()
    with broker.Producer() as producer:
        for method, args in (("echo", ["hello"]), ("unencodable", [])):
            producer.publish({"args": args, "kwargs": {}}, exchange=rpc_exchange(), routing_key=f"answers.{method}",
                             reply_to=replies.routing_key, correlation_id=method, serializer="json")

    got = {message.properties["correlation_id"]: message for message in messages(broker, replies, 2)}
    assert got["echo"].properties["delivery_mode"] == TRANSIENT
    assert json.loads(got["echo"].body) == {"result": "hello", "error": None}
    refused = json.loads(got["unencodable"].body)
    assert refused["result"] is None and refused["error"]["exc_type"] == "UnserializableValueError"


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
