"""The gateway for operators: /metrics only to the monitoring's networks, parsed before and after traffic, by
route template; every answer names its request id (the client's when it is sane, a new one otherwise)."""
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from dsi.migrations import upgrade
from gateway.service import GatewayService
from services.directory.service import DirectoryService

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway(runner_factory, rabbit_config, web_config, web_config_port, tmp_path):
    def start(**settings):
        url = f"sqlite:///{tmp_path}/directory.db"
        upgrade("directory", url)
        runner_factory({**rabbit_config, **web_config, "DB_URIS": {"directory:Base": url}, **settings},
                       DirectoryService, GatewayService).start()
        return f"http://127.0.0.1:{web_config_port}"

    return start


def samples(text: str) -> dict:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_are_served_to_the_allowed_networks_only(gateway):
    url = gateway()  # the default: loopback only, and the test talks over loopback
    before = requests.get(f"{url}/metrics", timeout=5)
    assert before.status_code == 200 and before.headers["Content-Type"].startswith("text/plain")
    route = "/api/<any(organisations,projects):collection>/<int:record_id>"  # the template, not the address
    labels = frozenset({"route": route, "method": "GET", "code": "404"}.items())
    counted = samples(before.text).get(("dsi_http_requests_total", labels), 0.0)
    assert requests.get(f"{url}/api/organisations/999999", timeout=5).status_code == 404
    after = samples(requests.get(f"{url}/metrics", timeout=5).text)
    assert after[("dsi_http_requests_total", labels)] == counted + 1
    assert not any("999999" in str(key) for key in after)
    assert ("dsi_stale_answers_total", frozenset()) not in after  # labelled by service: no series before one


def test_metrics_are_refused_outside_the_allowed_networks(gateway):
    url = gateway(METRICS_ALLOW="10.0.0.0/8")
    refused = requests.get(f"{url}/metrics", timeout=5)
    assert refused.status_code == 403 and "dsi_" not in refused.text


def test_a_forwarded_client_is_judged_by_its_own_address(gateway):
    # behind one trusted proxy on loopback, a visitor from outside must not read the figures through it
    url = gateway(PROXY_HOPS=1)
    assert requests.get(f"{url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=5).status_code == 403
    assert requests.get(f"{url}/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, timeout=5).status_code == 200


def test_every_answer_names_its_request_id(gateway):
    url = gateway()
    mine = requests.get(f"{url}/api/organisations/999999", headers={"X-Request-ID": "trace-me.42"}, timeout=5)
    assert mine.headers["X-Request-ID"] == "trace-me.42"
    made = requests.get(f"{url}/healthz", timeout=5).headers["X-Request-ID"]
    assert len(made) == 32 and made != requests.get(f"{url}/healthz", timeout=5).headers["X-Request-ID"]
    for hostile in ("a\u00e9b", "x" * 65, "id with spaces", "-leading-dash", "a;b"):
        answer = requests.get(f"{url}/healthz", headers={"X-Request-ID": hostile.encode("utf-8")}, timeout=5)
        assert answer.headers["X-Request-ID"] != hostile and len(answer.headers["X-Request-ID"]) == 32
