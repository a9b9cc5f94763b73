"""Faults under `dsi run` supervision: each service SIGKILLed in turn answers again and the others never stop;
the broker stopped and started again, every service reconnects. Recovery times are printed (-s shows them);
bench/ measures them against the 5 s figure, these tests only ask that each service comes back."""
import os
import signal
import time

import pytest
import requests

from tests.processes import wait_for

pytestmark = pytest.mark.integration

SERVICES = ("directory", "moderation", "search", "newsletter", "content")
COME_BACK = 30  # seconds a test waits before calling a service lost (not the figure to reach, see bench/)


def everyone_else(platform, victim):
    return {service: platform.pids(service) for service in (*SERVICES, "gateway") if service != victim}


def searches(platform) -> bool:
    try:
        return requests.get(f"{platform.url}/api/search?q=data", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.parametrize("victim", SERVICES)
def test_a_killed_service_answers_again_and_the_others_never_stop(platform, victim):
    [pid] = platform.pids(victim)
    others = everyone_else(platform, victim)
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: pid not in platform.pids(victim), 5)
    assert wait_for(lambda: platform.answers(victim, timeout=1), COME_BACK, step=0.1), platform.output()[-3000:]
    print(f"\n{victim} answered again {time.monotonic() - killed_at:.1f} s after SIGKILL")
    assert len(platform.pids(victim)) == 1
    assert everyone_else(platform, victim) == others  # same processes: nobody else stopped
    assert platform.answers(*(service for service in SERVICES if service != victim))
    assert platform.process.poll() is None


def test_every_service_reconnects_after_the_broker_restarts(broker, platform):
    if not broker.can_restart:
        pytest.skip("no private RabbitMQ node could be started here; the shared broker is never stopped")
    processes = {service: platform.pids(service) for service in (*SERVICES, "gateway")}
    broker.stop_app()
    assert not platform.answers("directory", timeout=1)
    time.sleep(2)  # a real outage: every service notices its connection is gone
    broker.start_app()
    restarted_at = time.monotonic()
    assert wait_for(platform.answers, COME_BACK, step=0.5), platform.output()[-3000:]
    assert wait_for(lambda: searches(platform), COME_BACK)
    print(f"\nevery service answered {time.monotonic() - restarted_at:.1f} s after the broker came back")
    # They reconnected: no process had to be restarted.
    assert {service: platform.pids(service) for service in processes} == processes
