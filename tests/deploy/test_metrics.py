"""The metrics for real: directory and moderation in nameko containers on a throwaway vhost, scraped over HTTP
on their metrics port and parsed with Prometheus' own text parser, before and after some traffic."""
import json
import socket
import time

import pytest
import requests
from nameko.rpc import rpc
from nameko.web.handlers import http
from nameko.standalone.rpc import ServiceRpcProxy
from prometheus_client.parser import text_string_to_metric_families

from dsi import metrics
from dsi.errors import InvalidInput
from dsi.migrations import upgrade
from services.directory.service import DirectoryService
from services.moderation.service import ModerationService
from tests.factories import organisation_body


def scrape(port) -> dict:
    """Every sample on the endpoint: (name, frozen labels) → value."""
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples, name, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def eventually(check, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


@pytest.fixture
def config(rabbit_config, tmp_path):
    urls = {service: f"sqlite:///{tmp_path}/{service}.db" for service in ("directory", "moderation")}
    for service, url in urls.items():
        upgrade(service, url)
    return {**rabbit_config, "DB_URIS": {f"{service}:Base": url for service, url in urls.items()},
            "METRICS_PORT": 0, "METRICS_MEASURE_INTERVAL": 0.1}


def test_the_catalogue_follows_prometheus_naming():
    for metric in metrics.CATALOGUE:
        [family] = metric.describe()
        assert family.name.startswith("dsi_")
        if family.type == "histogram":
            assert family.name.endswith("_seconds")
        assert not {"id", "email", "path", "address", "user"} & set(metric._labelnames)


class Failing:
    name = "failing"
    metrics = metrics.Metrics()

    @http("GET", "/things/<int:thing_id>")
    def thing(self, request, thing_id):
        return (404, "none") if thing_id > 10 else json.dumps({"id": thing_id})

    @http("POST", "/things")
    def broken(self, request):
        raise RuntimeError("a bug")

    @rpc(expected_exceptions=InvalidInput)
    def refuse(self):
        raise InvalidInput("no")

    @rpc
    def crash(self):
        raise RuntimeError("a bug")


def test_rpc_outcomes_tell_a_refusal_from_a_failure(container_factory, rabbit_config):
    container = container_factory(Failing, {**rabbit_config, "METRICS_PORT": 0})
    container.start()
    [provider] = [extension for extension in container.extensions if isinstance(extension, metrics.Metrics)]
    before = scrape(provider.port)
    with ServiceRpcProxy("failing", rabbit_config) as failing:
        for call, error in ((failing.refuse, InvalidInput), (failing.crash, Exception)):
            with pytest.raises(error):
                call()
    after = scrape(provider.port)
    name = "dsi_rpc_duration_seconds_count"
    for method, outcome in (("refuse", "rejected"), ("crash", "error")):
        assert value(after, name, method=method, outcome=outcome) == value(
            before, name, method=method, outcome=outcome) + 1


def test_http_requests_count_by_route_template_and_status(container_factory, rabbit_config, web_config, web_session):
    container = container_factory(Failing, {**rabbit_config, **web_config, "METRICS_PORT": 0})
    container.start()
    [provider] = [extension for extension in container.extensions if isinstance(extension, metrics.Metrics)]
    before = scrape(provider.port)
    for thing in (1, 2, 99):
        web_session.get(f"/things/{thing}")
    assert web_session.post("/things").status_code == 500
    after = scrape(provider.port)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    route = "/things/<int:thing_id>"
    assert moved("dsi_http_requests_total", route=route, method="GET", code="200") == 2
    assert moved("dsi_http_requests_total", route=route, method="GET", code="404") == 1
    assert moved("dsi_http_requests_total", route="/things", method="POST", code="500") == 1
    assert moved("dsi_http_request_duration_seconds_count", route=route, method="GET") == 3
    assert not [labels for (name, labels) in after if name == "dsi_http_requests_total"
                and "/things/99" in dict(labels)["route"]]  # the template, never the path


def test_rpc_event_outbox_and_queue_figures_move(container_factory, config):
    containers = [container_factory(service, config) for service in (DirectoryService, ModerationService)]
    for container in containers:
        container.start()
    port = next(extension for extension in containers[0].extensions
                if isinstance(extension, metrics.Metrics)).port
    assert port
    before = scrape(port)

    with ServiceRpcProxy("directory", config) as directory:
        directory.submit(organisation_body(name="Metrics Ltd"))
        with pytest.raises(InvalidInput):
            directory.submit({"kind": "organisation"})

    def moved():
        after = scrape(port)
        return after if value(after, "dsi_moderation_queue_length") == 1 else None
    after = eventually(moved)
    assert after, "the submission never reached the moderation queue's gauge"

    for outcome in ("ok", "rejected"):  # bad input is the caller's fault, not an error of the service
        name = "dsi_rpc_duration_seconds_count"
        assert value(after, name, method="submit", outcome=outcome) == value(before, name, method="submit",
                                                                             outcome=outcome) + 1
    published = {labels: count for (name, labels), count in after.items() if name == "dsi_events_published_total"}
    consumed = {labels: count for (name, labels), count in after.items() if name == "dsi_events_consumed_total"}
    assert sum(published.values()) > sum(value(before, name, **dict(labels))
                                         for (name, labels) in before if name == "dsi_events_published_total")
    assert any(dict(labels)["event_type"] == "submission_received" and count >= 1
               for labels, count in consumed.items())
    assert 0 <= value(after, "dsi_moderation_oldest_pending_age_seconds") < 3600
    assert value(after, "dsi_outbox_backlog") == 0 and value(after, "dsi_outbox_oldest_age_seconds") == 0


def test_a_taken_metrics_port_costs_the_figures_not_the_service(container_factory, rabbit_config, free_port):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", free_port))
        taken.listen()
        container = container_factory(Failing, {**rabbit_config, "METRICS_PORT": free_port})
        container.start()
        [provider] = [extension for extension in container.extensions if isinstance(extension, metrics.Metrics)]
        assert provider.port is None
        with ServiceRpcProxy("failing", rabbit_config) as failing, pytest.raises(InvalidInput):
            failing.refuse()
