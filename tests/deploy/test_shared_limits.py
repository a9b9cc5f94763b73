"""Rate limits and login limits across two gateway instances: shared through Redis (REDIS_URL; the server on this
machine, a random key prefix per test), each instance's own without it."""
import re
import uuid

import pytest
import redis
import requests

from dsi.migrations import upgrade
from gateway.service import GatewayService
from services.directory.service import DirectoryService
from services.moderation.service import ModerationService
from tests.factories import organisation_body
from tests.processes import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix():
    prefix = f"dsi-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def two_gateways(container_factory, rabbit_config, tmp_path):
    """Directory, moderation and two gateways on their own ports; their two base URLs."""

    def start(**settings):
        urls = {name: f"sqlite:///{tmp_path}/{name}.db" for name in ("directory", "moderation")}
        for name, url in urls.items():
            upgrade(name, url)
        base = {**rabbit_config, "DB_URIS": {f"{name}:Base": url for name, url in urls.items()}}
        container_factory(DirectoryService, base).start()
        container_factory(ModerationService, base).start()
        addresses = []
        for _ in range(2):
            port = free_port()
            container_factory(GatewayService, {**base, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                                               "RATE_LIMITS": {"submit": "3/hour", "login": "2/minute"},
                                               **settings}).start()
            addresses.append(f"http://127.0.0.1:{port}")
        return addresses

    return start


def submit(url: str) -> requests.Response:
    return requests.post(f"{url}/api/submissions", json=organisation_body(), timeout=15)


def test_with_redis_two_replicas_share_one_limit(two_gateways, prefix):
    first, second = two_gateways(REDIS_URL=REDIS_URL, RATE_LIMIT_PREFIX=prefix)
    assert [submit(url).status_code for url in (first, second, first)] == [202, 202, 202]
    refused = submit(second)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert submit(first).status_code == 429
    keys = [key.decode() for key in redis.Redis.from_url(REDIS_URL).scan_iter(f"{prefix}*")]
    assert keys == [f"{prefix}submit:127.0.0.1"]  # per action and client; the window expires with its hits


def test_without_redis_each_replica_counts_alone(two_gateways):
    first, second = two_gateways()
    assert [submit(first).status_code for _ in range(3)] == [202, 202, 202]
    assert submit(first).status_code == 429
    assert submit(second).status_code == 202  # N replicas allow N times the limit: why production sets REDIS_URL


def test_with_redis_login_attempts_count_across_replicas(two_gateways, prefix):
    first, second = two_gateways(REDIS_URL=REDIS_URL, RATE_LIMIT_PREFIX=prefix)
    browser = requests.Session()
    form = browser.get(f"{first}/console/login", timeout=5).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)

    def attempt(url):
        return browser.post(f"{url}/console/login", data={"email": "moderator@example.org", "password": "guess",
                                                          "csrf_token": token}, allow_redirects=False, timeout=15)

    assert [attempt(url).status_code for url in (first, second)] == [403, 403]
    assert attempt(first).status_code == 429 and attempt(second).status_code == 429


def test_an_unreachable_redis_refuses_to_stop_the_site(two_gateways, prefix):
    # Redis down: limits cannot be counted, and the requests still get through (logged as an error)
    first, _ = two_gateways(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", RATE_LIMIT_PREFIX=prefix)
    assert [submit(first).status_code for _ in range(4)] == [202] * 4
