"""A worker's objects go as soon as it ends (dsi.lifecycle.ReleasedWorkers), not at the cyclic collector's next run,
and a streamed answer still calls the service's dependencies while it is sent. Real RabbitMQ, real containers, real
HTTP; the collector is off while each test runs, so that only reference counting frees anything."""
import gc
import weakref

import pytest
from nameko.rpc import RpcProxy
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.web.handlers import http
from werkzeug.wrappers import Response

from dsi.lifecycle import ReleasedWorkers
from dsi.messaging import rpc
from tests.processes import wait_for

WORKERS = []  # weak references to what each worker had: its service instance, its HTTP request


class Cyclic:
    """A service whose dependency names its worker's context, as nameko's RPC proxy does."""
    name = "cyclic_workers"
    itself = RpcProxy("cyclic_workers")

    @rpc
    def ping(self):
        WORKERS.append(weakref.ref(self))
        return "pong"

    @http("GET", "/ping")
    def page(self, request):
        WORKERS.extend((weakref.ref(self), weakref.ref(request)))
        return "pong"

    @http("GET", "/stream")
    def stream(self, request):
        def chunks():
            yield b"first, "
            yield self.itself.ping().encode()  # after this worker ended
        return Response(chunks())


class Released(Cyclic):
    name = "released_workers"
    itself = RpcProxy("released_workers")
    released_workers = ReleasedWorkers()


@pytest.fixture
def collector_off():
    gc.collect()
    WORKERS.clear()
    gc.disable()
    yield
    gc.enable()
    WORKERS.clear()


def freed() -> bool:
    return all(reference() is None for reference in WORKERS)


def test_a_workers_service_instance_is_freed_when_it_ends(collector_off, container_factory, rabbit_config):
    container_factory(Released, rabbit_config).start()
    with ServiceRpcProxy("released_workers", rabbit_config) as released:
        assert [released.ping() for _ in range(3)] == ["pong"] * 3
    assert len(WORKERS) == 3
    assert wait_for(freed, 5)


def test_without_it_a_worker_waits_for_the_collector(collector_off, container_factory, rabbit_config):
    container_factory(Cyclic, rabbit_config).start()
    with ServiceRpcProxy("cyclic_workers", rabbit_config) as cyclic:
        assert cyclic.ping() == "pong"
    assert not wait_for(freed, 1)  # the cycle this provider breaks
    gc.collect()
    assert freed()


def test_an_http_workers_request_is_freed_and_a_streamed_answer_still_reaches_the_dependencies(
        collector_off, container_factory, rabbit_config, web_config, web_session):
    container_factory(Released, {**rabbit_config, **web_config}).start()
    answer = web_session.get("/ping")
    assert answer.status_code == 200 and answer.text == "pong"
    assert len(WORKERS) == 2
    assert wait_for(freed, 5)

    streamed = web_session.get("/stream", timeout=10)
    assert streamed.status_code == 200 and streamed.text == "first, pong"
