"""`dsi run` as a user runs it: the whole platform starts, answers, keeps running when one of its processes dies
(restarted, or given up when it keeps dying), runs several instances of a service on request, and a signal to
the launcher stops every process it started, each on its own and quietly."""
import os
import signal
import sys

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from tests.processes import LaunchedPlatform, wait_for


@pytest.fixture
def launch(rabbit_config, tmp_path, free_port):
    platforms = []

    def start(*args) -> LaunchedPlatform:
        platform = LaunchedPlatform(tmp_path, rabbit_config["AMQP_URI"], free_port, free_port + 1, args)
        platforms.append(platform)
        return platform

    yield start
    for platform in platforms:
        platform.kill_everything()


def stopping_output(platform: LaunchedPlatform) -> str:
    return platform.output().split("Stopping…", 1)[1]


def assert_stops_quietly(platform: LaunchedPlatform, stop_signal=signal.SIGTERM) -> None:
    assert wait_for(platform.settled, 120), "the platform's queues did not drain"
    assert platform.stop(stop_signal) == 0
    assert wait_for(lambda: platform.pids() == [], 10), platform.pids()
    output = stopping_output(platform)
    assert "Traceback" not in output, output
    # The launcher kills what is still running STOP_DEADLINE (4.5 s) after its SIGTERM; nothing needed it,
    # nor the services' own deadline (dsi.lifecycle): each finished its graceful stop in time.
    assert "did not stop within" not in output, output
    assert "killing it" not in output, output


def search_instances(platform: LaunchedPlatform, calls: int = 12) -> set[str]:
    """Identities of the search instances that answer (the broker hands requests to each in turn)."""
    with ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"]}, timeout=10) as cluster:
        return {cluster.search.health()["instance"] for _ in range(calls)}



@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_the_platform_starts_and_a_signal_stops_every_process(stop_signal, launch):
    platform = launch()
    platform.wait_until_ready()
    assert requests.get(f"{platform.url}/api/organisations", timeout=5).json()["total"] > 0
    assert len(platform.pids()) >= 6  # launcher, mail sink, five services
    assert_stops_quietly(platform, stop_signal)


def test_a_killed_service_is_restarted_and_one_that_keeps_dying_is_given_up(launch):
    platform = launch("--scale", "search=2", "--scale", "directory=2", "--give-up-after", "3", "--window", "300")
    platform.wait_until_ready()
    assert len(platform.pids("search")) == 2 and len(platform.pids("directory")) == 2
    identities = search_instances(platform)
    assert len(identities) == 2  # each instance its own index folder and identity

    # SIGKILL one search instance: it comes back with its index and identity; the other never stopped.
    victim, survivor = platform.pids("search")
    others = {service: platform.pids(service) for service in ("directory", "moderation", "newsletter")}
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: len(platform.pids("search")) == 2 and victim not in platform.pids("search"), 30)
    # `dsi ping` may be answered by the survivor while the restarted one still opens its index: wait until both
    # answer, the restarted one with the identity it had.
    assert wait_for(lambda: search_instances(platform) == identities, 30)
    assert survivor in platform.pids("search")
    assert {service: platform.pids(service) for service in others} == others
    assert "killed by SIGKILL; starting it again" in platform.output()

    # The newsletter dies three times in a row: given up, said so; the launcher and the rest keep running.
    for _ in range(3):
        assert wait_for(lambda: len(platform.pids("newsletter")) == 1, 30), platform.output()[-2000:]
        dying = platform.pids("newsletter")[0]
        os.kill(dying, signal.SIGKILL)
        assert wait_for(lambda: dying not in platform.pids("newsletter"), 10)
    assert wait_for(lambda: "GAVE UP on newsletter" in platform.output(), 10), platform.output()[-2000:]
    assert platform.process.poll() is None
    assert platform.pids("newsletter") == []
    assert platform.answers("directory", "search", "moderation")
    assert not platform.answers("newsletter", timeout=1)
    assert platform.healthy()
    assert_stops_quietly(platform)


def test_scale_names_a_service_and_a_number(launch):
    for wrong in ("gateway=2", "search=0", "search=two", "nothing=2"):
        platform = launch("--scale", wrong)
        assert platform.process.wait(timeout=60) == 2
        assert "--scale" in platform.output()


def test_a_process_that_keeps_dying_is_restarted_with_a_growing_pause_then_given_up(capsys):
    from dsi.launcher import FIRST_RESTART_DELAY, Supervised

    child = Supervised("failing", [sys.executable, "-c", "raise SystemExit(3)"], give_up_after=4, window=60)
    now, starts = 1000.0, 0
    while not child.given_up:
        child.tick(now)
        if child.process is not None:
            starts += 1
            child.process.wait(timeout=30)
        now += 0.05
    assert starts == 4
    messages = capsys.readouterr().err
    pauses = [float(line.rsplit(" in ", 1)[1].split()[0]) for line in messages.splitlines() if "again in" in line]
    assert pauses == [FIRST_RESTART_DELAY, FIRST_RESTART_DELAY * 2, FIRST_RESTART_DELAY * 4]
    assert "failing exited with code 3" in messages
    assert "GAVE UP on failing: it died 4 times within 60 s (last exited with code 3)" in messages
    child.tick(now + 3600)
    assert child.process is None  # given up for good


def test_deaths_outside_the_window_do_not_count():
    from dsi.launcher import Supervised

    child = Supervised("flaky", [sys.executable, "-c", "raise SystemExit(1)"], give_up_after=2, window=10)
    now = 0.0
    for _ in range(5):  # a death every 50 s or so: never two within 10 s
        child.tick(now)  # due: started
        child.process.wait(timeout=30)
        now += 20
        child.tick(now)  # its death noticed
        assert not child.given_up and child.process is None
        now += 31  # past any restart pause
    child.terminate()
