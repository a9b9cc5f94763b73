"""The whole platform as separate processes under `dsi run` supervision, on a RabbitMQ broker of its own."""
import pytest

from tests.chaos.broker import start_broker
from tests.processes import LaunchedPlatform, free_port


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    broker = start_broker(tmp_path_factory.mktemp("broker"))
    yield broker
    broker.shutdown()


@pytest.fixture(scope="module")
def platform(broker, tmp_path_factory):
    # a load test sends far more than a person would: the per-client submission limit out of its way
    platform = LaunchedPlatform(tmp_path_factory.mktemp("platform"), broker.amqp_uri, free_port(), free_port(),
                                env={"RATE_LIMIT_SUBMIT": "1000000/hour"})
    try:
        platform.wait_until_ready(seconds=300)  # importing the 2017 export takes minutes on a loaded machine
        yield platform
    finally:
        platform.kill_everything()
