"""The whole platform as separate processes under `dsi run` supervision, on a RabbitMQ broker of its own."""
import pytest

from tests.chaos.broker import free_port, start_broker
from tests.processes import LaunchedPlatform


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    broker = start_broker(tmp_path_factory.mktemp("broker"))
    yield broker
    broker.shutdown()


@pytest.fixture(scope="module")
def platform(broker, tmp_path_factory):
    platform = LaunchedPlatform(tmp_path_factory.mktemp("platform"), broker.amqp_uri, free_port(), free_port())
    try:
        platform.wait_until_ready()
        yield platform
    finally:
        platform.kill_everything()
