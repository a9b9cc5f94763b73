"""`dsi run` as a user runs it: the whole platform starts, answers, and a signal to the launcher stops every
process it started (they run in their own sessions, so nothing else would stop them)."""
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]


def processes_marked(marker: str) -> list[int]:
    """Live processes whose environment carries `marker` (children inherit the launcher's environment)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes() and (entry / "stat").read_text().split()[2] != "Z":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_the_platform_starts_and_a_signal_stops_every_process(stop_signal, rabbit_config, tmp_path, free_port):
    marker = f"DSI_LAUNCHER_TEST={uuid.uuid4().hex}"
    url = f"http://127.0.0.1:{free_port}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1], "AMQP_URI": rabbit_config["AMQP_URI"],
           "PUBLIC_URL": url, "GATEWAY_ADDRESS": f"127.0.0.1:{free_port}", "SEARCH_INDEX_DIR": str(tmp_path / "search"),
           "MAIL_SINK_DIR": str(tmp_path / "mail"), "SMTP_PORT": str(free_port + 1), "DSI_DATA": str(tmp_path),
           **{f"{service.upper()}_DB_URL": f"sqlite:///{tmp_path}/{service}.db"
              for service in ("directory", "moderation", "newsletter")}}
    # A session of its own, as a terminal gives a command; SIGINT not ignored, as a terminal leaves it.
    launcher = subprocess.Popen([sys.executable, "-m", "dsi.cli", "run"], cwd=ROOT, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert eventually(lambda: _healthy(url), 90, 0.2), "the platform did not answer /healthz"
        assert requests.get(f"{url}/api/organisations", timeout=5).json()["total"] > 0
        assert len(processes_marked(marker)) >= 6  # launcher, mail sink, five services
        # What the container healthchecks run; search answers once it has built its index from the directory.
        ping = [sys.executable, "-m", "dsi.cli", "ping", "directory", "search", "moderation", "newsletter"]
        assert eventually(lambda: subprocess.run(ping, cwd=ROOT, env=env, capture_output=True).returncode == 0, 60, 0.2)
        launcher.send_signal(stop_signal)
        assert launcher.wait(timeout=40) == 0
        assert eventually(lambda: processes_marked(marker) == [], 10, 0.2), processes_marked(marker)
    finally:
        for pid in processes_marked(marker):
            os.kill(pid, signal.SIGKILL)


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
