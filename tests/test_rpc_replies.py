"""The replies of dsi's `rpc` entrypoints (serialised once, dsi.messaging.OnceSerialisingResponder) reach the
caller as nameko's own would: the answer as it was, a raised error as itself, and an answer that cannot be
serialised as nameko's UnserializableValueError, with the service serving on. Real RabbitMQ, a real container."""
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from dsi.errors import NotFound
from dsi.messaging import rpc

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


@pytest.fixture
def replies(container_factory, rabbit_config):
    container_factory(Replies, rabbit_config).start()
    with ServiceRpcProxy("replies", rabbit_config, timeout=30) as proxy:
        yield proxy


def test_answers_errors_and_unserialisable_answers_reach_the_caller(replies):
    assert replies.answer() == ANSWER
    with pytest.raises(NotFound, match="id 7"):  # dsi's errors arrive as themselves
        replies.missing()
    with pytest.raises(RemoteError) as unserialisable:
        replies.unserialisable()
    assert unserialisable.value.exc_type == "UnserializableValueError"
    assert replies.answer() == ANSWER  # the worker's failure to reply did not stop the service
