"""A poison message cannot stop the platform: an event whose handler always raises, or a request that kills its
worker's process, ends in the dead-letter queue after MAX_DELIVERIES, and the service serves what comes next.
Real RabbitMQ (a throwaway vhost), real processes."""
import os
import subprocess
import sys
import time

import pytest
import yaml
from nameko.exceptions import RemoteError, UnknownService
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from kombu import Connection, Queue

from dsi import deadletters
from dsi.deadletters import DeadLetters
from dsi.messaging import reliable_handler
from tests.processes import ROOT, nameko_run, stop

MAX_DELIVERIES = 3


def eventually(condition, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


class Consumer:
    name = "poison_consumer"
    applied = []
    tries = []

    @reliable_handler("poison_source", "thing_happened")
    def on_thing(self, event):
        Consumer.tries.append(event["id"])
        if event["poison"]:
            raise ValueError(f"cannot apply {event['id']} for submitter alice@example.org")
        Consumer.applied.append(event["id"])


@pytest.fixture
def config(rabbit_config, tmp_path):
    return {**rabbit_config, "MAX_DELIVERIES": MAX_DELIVERIES, "DELIVERY_BACKOFF": 0.01,
            "DELIVERY_COUNTS": str(tmp_path / "counts.sqlite")}


def test_an_event_that_always_fails_is_dead_lettered_and_the_next_one_is_applied(container_factory, config):
    Consumer.applied, Consumer.tries = [], []
    container_factory(Consumer, config).start()
    dispatch = event_dispatcher(config)
    dispatch("poison_source", "thing_happened", {"id": "bad", "poison": True})
    dispatch("poison_source", "thing_happened", {"id": "good", "poison": False})

    letters = DeadLetters(config["AMQP_URI"])
    assert eventually(lambda: len(letters.list()) == 1)
    assert Consumer.applied == ["good"]
    assert Consumer.tries.count("bad") == MAX_DELIVERIES
    [letter] = letters.list()
    assert letter["attempts"] == MAX_DELIVERIES
    assert letter["service"] == "poison_consumer" and letter["queue"].startswith("evt-poison_source-thing_happened")
    assert "ValueError: cannot apply bad" in letter["error"]
    assert "alice@example.org" not in letter["error"]  # errors are kept for operators without personal data

    # listing does not consume; retry sends it back with a fresh count; drop removes it
    assert letters.retry({letter["id"]}) == [letter["id"]]
    assert eventually(lambda: Consumer.tries.count("bad") == 2 * MAX_DELIVERIES and len(letters.list()) == 1)
    [again] = letters.list()
    assert again["id"] != letter["id"]
    assert letters.drop({"not-an-id"}) == []
    assert letters.drop() == [again["id"]]
    assert letters.list() == []


def answers(echo, process) -> bool:
    assert process.poll() is None, "the service did not start"
    try:
        return echo("ping") == "ping"
    except UnknownService:  # not consuming yet
        return False


def test_a_request_that_kills_its_worker_is_dead_lettered_and_the_restarted_service_serves(config, tmp_path):
    config_file = tmp_path / "config.yml"
    config_file.write_text(yaml.safe_dump({"AMQP_URI": config["AMQP_URI"], "MAX_DELIVERIES": MAX_DELIVERIES,
                                           "DELIVERY_COUNTS": str(tmp_path / "counts.sqlite")}))
    letters = DeadLetters(config["AMQP_URI"])
    starts = 0

    def start():
        nonlocal starts
        starts += 1
        return nameko_run(config_file, "tests.deploy.poison_service", stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)

    process = start()
    try:
        with ClusterRpcProxy(config, timeout=60) as cluster:
            assert eventually(lambda: answers(cluster.poison_test.echo, process), 60)
            poisoned = cluster.poison_test.echo.call_async("die")
            # as a supervisor does: start the service again each time it dies, until the request is set aside
            while not letters.list():
                if process.poll() is not None:
                    assert starts <= MAX_DELIVERIES + 1, "the poison request was delivered again and again"
                    process = start()
                time.sleep(0.2)
            assert cluster.poison_test.echo("hello") == "hello"
            assert process.poll() is None
            with pytest.raises(RemoteError) as error:
                poisoned.result()
            assert error.value.exc_type == "PoisonMessage"
        listed = letters.list()
        assert len(listed) == 1, [{key: letter[key] for key in ("id", "routing_key", "queue", "dead_at", "attempts")}
                                  for letter in listed]
        [letter] = listed
        assert letter["attempts"] == MAX_DELIVERIES and letter["routing_key"] == "poison_test.echo"
        assert starts == MAX_DELIVERIES + 1
    finally:
        stop(process)


def test_a_letter_whose_publish_landed_twice_is_one_letter(config):
    """A burial's publish retried after the broker had it leaves two copies: operators see, retry or drop one."""
    with Connection(config["AMQP_URI"]) as connection:
        source = Queue("poison-source", routing_key="poison-source", durable=True)(connection.channel())
        source.declare()
        connection.default_channel.basic_publish(
            connection.default_channel.prepare_message(b'{"id": "bad"}', content_type="application/json"),
            exchange="", routing_key="poison-source")
        message = None
        while message is None:
            message = source.get(no_ack=True)
    buried = {deadletters.DEAD_ID: "letter-1", deadletters.QUEUE: "poison-source", deadletters.ATTEMPTS: 3}
    for _ in range(2):
        deadletters.publish_raw(config["AMQP_URI"], message, "", deadletters.DEAD_LETTER_QUEUE, buried,
                                declare=[deadletters.dead_letter_queue()])
    letters = DeadLetters(config["AMQP_URI"])
    assert [letter["id"] for letter in letters.list()] == ["letter-1"]
    assert letters.drop() == ["letter-1"]
    assert letters.list() == []


def test_dead_letters_from_the_command_line(config):
    env = {**os.environ, "AMQP_URI": config["AMQP_URI"]}

    def dsi(*args):
        return subprocess.run([sys.executable, "-m", "dsi.cli", "dead-letters", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    assert dsi("list").stdout.strip() == "no dead letters"
    assert dsi("retry").returncode == 2  # neither ids nor --all
    assert dsi("drop", "nope").returncode == 1
    assert "dropped 0" in dsi("drop", "--all").stdout
