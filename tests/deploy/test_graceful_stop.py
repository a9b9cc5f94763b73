"""Each service, run as production runs it (`nameko run`), stops on SIGTERM on its own and without a traceback:
once it is serving, when the signal comes twice, and when it comes while the service is still starting."""
import os
import signal
import subprocess
import sys

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.processes import ROOT, nameko_run, wait_for

SERVICES = {
    "directory": ("services/directory", "services.directory.service:DirectoryService"),
    "moderation": ("services/moderation", "services.moderation.service:ModerationService"),
    "newsletter": ("services/newsletter", "services.newsletter.service:NewsletterService"),
    "search": ("services/search", "services.search.service:SearchService"),
    "content": ("services/content", "services.content.service:ContentService"),
    "gateway": ("gateway", "gateway.service:GatewayService"),
}


@pytest.fixture
def service_env(rabbit_config, tmp_path, free_port):
    env = {**os.environ, "AMQP_URI": rabbit_config["AMQP_URI"], "SEARCH_INDEX_DIR": str(tmp_path / "search"),
           "GATEWAY_ADDRESS": f"127.0.0.1:{free_port}", "SMTP_PORT": str(free_port + 1), "PYTHONWARNINGS": "ignore",
           "MEDIA_DIR": str(tmp_path / "media"),
           **{f"{name.upper()}_DB_URL": f"sqlite:///{tmp_path}/{name}.db"
              for name in ("directory", "moderation", "newsletter", "content")}}
    subprocess.run([sys.executable, "-m", "dsi.cli", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


class Service:
    def __init__(self, name, env, log):
        folder, service = SERVICES[name]
        self.name, self.env, self.log = name, env, log
        with open(log, "wb") as output:
            self.process = nameko_run(ROOT / folder / "config.yml", service, env=env, stdout=output,
                                      stderr=subprocess.STDOUT)

    def answers(self) -> bool:
        ping = [sys.executable, "-m", "dsi.cli", "ping", "--timeout", "2", self.name]
        return subprocess.run(ping, cwd=ROOT, env=self.env, capture_output=True).returncode == 0

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, *signals) -> int:
        for stop_signal in signals:
            self.process.send_signal(stop_signal)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return "still running 10 s after the signal"


def assert_quiet(service: Service) -> None:
    output = service.output()
    assert "Traceback" not in output, output
    assert "killing it" not in output, output  # it finished its graceful stop before its own deadline


SEARCH_OWNERS = ("directory", "content")  # search builds its index from these first


@pytest.mark.parametrize("name", [name for name in SERVICES if name not in ("gateway", "content")])
def test_a_serving_service_stops_quietly_even_on_a_second_signal(name, service_env, tmp_path):
    owners = [Service(owner, service_env, tmp_path / f"{owner}.log") for owner in SEARCH_OWNERS] \
        if name == "search" else []
    for owner in owners:
        assert wait_for(owner.answers, 60), owner.output()
    service = Service(name, service_env, tmp_path / f"{name}.log")
    assert wait_for(service.answers, 60), service.output()
    assert service.stop(signal.SIGTERM, signal.SIGTERM) == 0, service.output()
    assert_quiet(service)
    for owner in owners:
        assert owner.stop(signal.SIGTERM) == 0
        assert_quiet(owner)


def test_the_gateway_stops_quietly(service_env, tmp_path):
    gateway = Service("gateway", service_env, tmp_path / "gateway.log")

    def started() -> bool:  # its RPC consumer too, not only its web server: nameko cannot stop a half-started one
        try:
            with ClusterRpcProxy({"AMQP_URI": service_env["AMQP_URI"]}, timeout=2) as cluster:
                return cluster.gateway.ping() == "pong"
        except Exception:
            return False

    assert wait_for(started, 60), gateway.output()
    assert gateway.stop(signal.SIGTERM) == 0, gateway.output()
    assert "Traceback" not in gateway.output()


def test_a_service_stopped_while_it_starts_leaves_at_once(service_env, tmp_path):
    # No directory runs: search waits for it to build its index, so the signal comes in the middle of its start.
    search = Service("search", service_env, tmp_path / "search.log")
    assert wait_for(lambda: "waiting for the directory" in search.output(), 60), search.output()
    assert search.stop(signal.SIGTERM) == 0
    assert "stopped before the service had started" in search.output()
    assert_quiet(search)
