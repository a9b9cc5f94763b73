"""Services in processes of their own, started as production starts them (`nameko run`), for the tests that kill
them, run several, or drive them from a browser (Playwright blocks the test's thread, which would starve services
running in the test's own eventlet hub)."""
import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import requests

from tests.helpers import eventually

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


def wait_until_it_answers(url: str, *processes: subprocess.Popen, seconds: float = 60) -> None:
    """Until `url` answers 200; fails as soon as one of the processes serving it has stopped."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert all(process.poll() is None for process in processes), "the services did not start"
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


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_for(condition, seconds: float, step: float = 0.2):
    """The first truthy answer of `condition` within `seconds`, else a falsy one (the caller asserts)."""
    return eventually(condition, seconds, step)


FIRST_PORT = 20000  # servers of tests and benches take ports from here up to the kernel's ephemeral range
FEWEST_BELOW = 24000  # an ephemeral range starting lower leaves too few ports below it to keep to


def _ports_no_connection_takes() -> range:
    """The ports below the kernel's ephemeral range. A port found free in that range can be taken, before the
    service binds it, by any process's outgoing connection (the other half of the suite connecting to RabbitMQ)."""
    try:
        ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    if ephemeral < FEWEST_BELOW:  # drawn from a wide range instead, taking the small risk
        return range(FIRST_PORT, 60000)
    return range(FIRST_PORT, ephemeral)


def free_port_block(size: int = 16) -> int:
    """The first of `size` consecutive free ports, drawn at random so that platforms launched side by side (tests
    in parallel, a `make run` beside the suite) do not collide; `dsi run` serves each process's metrics from
    METRICS_PORT up."""
    ports = _ports_no_connection_takes()
    for _ in range(200):
        first = random.randrange(ports.start, ports.stop - size)
        try:
            for port in range(first, first + size):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError("no block of free ports found")


def free_port() -> int:
    return free_port_block(1)


class LaunchedPlatform:
    """`dsi run` started as a user starts it (a session of its own, SIGINT not ignored), with every database,
    index, mail folder and port its own; its output (and its children's) kept in a file."""

    SERVICES = ("directory", "search", "moderation", "newsletter", "content")

    def __init__(self, folder: Path, amqp_uri: str, port: int, smtp_port: int, args=(), env: dict | None = None):
        self.folder = folder
        self.marker = f"DSI_PLATFORM_{uuid.uuid4().hex}"
        self.url = f"http://127.0.0.1:{port}"
        self.log = folder / "dsi-run.log"
        self.env = {**os.environ, self.marker: "1", "AMQP_URI": amqp_uri, "PUBLIC_URL": self.url,
                    "GATEWAY_ADDRESS": f"127.0.0.1:{port}", "SEARCH_INDEX_DIR": str(folder / "search"),
                    "SPOOL_DIR": str(folder / "spool"),
                    "MAIL_SINK_DIR": str(folder / "mail"), "SMTP_PORT": str(smtp_port), "DSI_DATA": str(folder),
                    "PYTHONWARNINGS": "ignore",
                    **{f"{service.upper()}_DB_URL": f"sqlite:///{folder}/{service}.db"
                       for service in ("directory", "moderation", "newsletter", "content")},
                    "MEDIA_DIR": str(folder / "media"), "METRICS_PORT": str(free_port_block()),
                    **(env or {})}
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dsi.cli", "run", *args], cwd=ROOT, env=self.env, start_new_session=True,
                stdout=output, stderr=subprocess.STDOUT,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def answers(self, *services: str, timeout: float = 2) -> bool:
        """`dsi ping` of the services, as the container healthchecks run it."""
        ping = [sys.executable, "-m", "dsi.cli", "ping", "--timeout", str(timeout), *(services or self.SERVICES)]
        return subprocess.run(ping, cwd=ROOT, env=self.env, capture_output=True).returncode == 0

    def settled(self) -> bool:
        """No message waits or is being handled in a queue a running service consumes (the start-up import's
        events are all handled): what is in flight when it is stopped is then only what a test sends."""
        vhost = urllib.parse.quote(self.env["AMQP_URI"].rsplit("/", 1)[1] or "/", safe="")
        try:
            queues = requests.get(f"http://127.0.0.1:15672/api/queues/{vhost}", auth=("guest", "guest"),
                                  timeout=5).json()
        except (requests.RequestException, ValueError):
            return False
        return isinstance(queues, list) and all(queue.get("messages", 1) == 0 for queue in queues
                                              if queue.get("consumers", 0) > 0)

    def wait_until_ready(self, seconds: float = 120) -> None:
        assert wait_for(lambda: self.healthy() or self.process.poll() is not None, seconds), "no /healthz answer"
        assert self.process.poll() is None, f"dsi run ended:\n{self.output()[-3000:]}"
        # search answers once it has built its index from the directory
        assert wait_for(self.answers, 60), f"not every service answers:\n{self.output()[-3000:]}"

    def pids(self, service: str | None = None) -> list[int]:
        """The platform's processes; with `service`, only that service's nameko processes."""
        pids = processes_marked(self.marker)
        if service is None:
            return pids
        return [pid for pid in pids if f"services.{service}.service:" in command_line(pid)]

    def stop(self, stop_signal=signal.SIGTERM, seconds: float = 10) -> int:
        self.process.send_signal(stop_signal)
        return self.process.wait(timeout=seconds)

    def kill_everything(self) -> None:
        for pid in processes_marked(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
