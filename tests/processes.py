"""Services in processes of their own, started as production starts them (`nameko run`), for the tests that kill
them, run several, or drive them from a browser (Playwright blocks the test's thread, which would starve services
running in the test's own eventlet hub)."""
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def _die_with_parent():
    """Linux: the process gets SIGTERM when the test run ends abruptly (a pytest-timeout exit)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def nameko_run(config_file, *services: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nameko", "run", "--config", str(config_file), *services],
                            cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
                            preexec_fn=_die_with_parent, **popen)


def wait_until_it_answers(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert process.poll() is None, "the services did not start"
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen, seconds: float = 30) -> None:
    """As an operator stops a service: SIGTERM, then SIGKILL if it does not finish in time."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
