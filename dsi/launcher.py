"""`dsi run`: the whole platform on one machine, for trying it out and for development.

Migrates every database, loads data into an empty directory (the real 2017 export when it is there, a small
generated set otherwise), starts every service as its own process (consumers first, so their queues exist
before events flow) and the gateway last, prints the URL, and stops everything cleanly on Ctrl-C.

It supervises what it started: a process that dies is started again after a pause that doubles with each quick
death (the reason is printed); one that keeps dying is given up, said so, and the rest keep running.
`--scale search=2` runs several instances of a service (each embedded search instance claims its own index
folder under SEARCH_INDEX_DIR, so a restarted instance gets its index and identity back).
"""
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import requests

from dsi import platform
from dsi.settings import development_secret

ROOT = Path(__file__).resolve().parent.parent
# Consumers before producers; each entry is (name, folder, nameko service class).
PROCESSES = [
    ("search", "services/search", "services.search.service:SearchService"),
    ("moderation", "services/moderation", "services.moderation.service:ModerationService"),
    ("newsletter", "services/newsletter", "services.newsletter.service:NewsletterService"),
    ("directory", "services/directory", "services.directory.service:DirectoryService"),
    ("content", "services/content", "services.content.service:ContentService"),
    ("gateway", "gateway", "gateway.service:GatewayService"),
]
SCALABLE = {name for name, _, _ in PROCESSES} - {"gateway"}  # the gateway binds one port: scale it behind a proxy

FIRST_RESTART_DELAY = 0.25  # seconds; doubles after each death that follows a short run
MAX_RESTART_DELAY = 30
STABLE_AFTER = 30  # a process that ran this long starts again after the first delay
FIRST_METRICS_PORT = 9100  # each service process serves /metrics on its own port from here (or from METRICS_PORT)
STOP_DEADLINE = 4.5  # seconds between SIGTERM and SIGKILL; each service gives itself 3.5 (dsi.lifecycle)


def nameko_command(folder: str, service: str) -> list[str]:
    return [sys.executable, "-m", "nameko", "run", "--config", str(ROOT / folder / "config.yml"), service]


def start(argv: list[str], env: dict | None = None) -> subprocess.Popen:
    # Own session: Ctrl-C reaches only this launcher, which then stops each child once (a second signal makes
    # nameko abort its graceful stop).
    return subprocess.Popen(argv, cwd=ROOT, start_new_session=True, env={**os.environ, **env} if env else None)


def death_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def say(message: str) -> None:
    print(f"dsi run: {message}", file=sys.stderr, flush=True)


class Supervised:
    """One process `dsi run` keeps running: restarted with backoff when it dies, given up when it keeps dying."""

    def __init__(self, name: str, argv: list[str], give_up_after: int, window: float, env: dict | None = None):
        self.name, self.argv, self.env = name, argv, env
        self.give_up_after, self.window = give_up_after, window
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.deaths: deque[float] = deque()
        self.delay = FIRST_RESTART_DELAY
        self.restart_at: float | None = 0.0  # due now
        self.given_up = False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tick(self, now: float) -> None:
        """Notice a death, and start the process when it is due."""
        if self.process is not None and self.process.poll() is not None:
            self._died(self.process.returncode, now)
        if self.process is None and self.restart_at is not None and now >= self.restart_at:
            self.process, self.started_at, self.restart_at = start(self.argv, self.env), now, None

    def _died(self, returncode: int, now: float) -> None:
        self.process = None
        self.deaths.append(now)
        while self.deaths and self.deaths[0] < now - self.window:
            self.deaths.popleft()
        reason = death_reason(returncode)
        if len(self.deaths) >= self.give_up_after:
            self.given_up = True
            say(f"GAVE UP on {self.name}: it died {len(self.deaths)} times within {self.window:.0f} s "
                f"(last {reason}). The rest of the platform keeps running without it; "
                f"see its messages above, then restart `dsi run`.")
            return
        if now - self.started_at >= STABLE_AFTER:
            self.delay = FIRST_RESTART_DELAY
        say(f"{self.name} {reason}; starting it again in {self.delay:g} s")
        self.restart_at = now + self.delay
        self.delay = min(self.delay * 2, MAX_RESTART_DELAY)

    def terminate(self) -> None:
        self.restart_at = None
        if self.running:
            self.process.send_signal(signal.SIGTERM)


class Supervisor:
    def __init__(self, children: list[Supervised]):
        self.children = children

    def tick(self) -> None:
        now = time.monotonic()
        for child in self.children:
            child.tick(now)

    @property
    def all_given_up(self) -> bool:
        return all(child.given_up for child in self.children)

    def stop(self, deadline: float = STOP_DEADLINE) -> None:
        for child in reversed(self.children):  # the gateway first: it takes no new request while the rest finish
            child.terminate()
        end = time.monotonic() + deadline
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.05, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop within {deadline:g} s; killing it")
                child.process.kill()
                child.process.wait()


def wait_until_healthy(url: str, supervisor: Supervisor, seconds: int = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.tick()
        if supervisor.all_given_up:
            return False
        try:
            # the gateway answers and reaches the directory (the rest may still be starting)
            if requests.get(f"{url}/readyz", timeout=5).json()["checks"]["directory"] == "ok":
                return True
        except (requests.RequestException, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.5)
    return False


def parse_scale(values: list[str]) -> dict[str, int]:
    from dsi.errors import InvalidInput

    scale = {}
    for value in values or ():
        name, _, count = value.partition("=")
        if name not in SCALABLE:
            raise InvalidInput(f"--scale {value}: scalable services are {', '.join(sorted(SCALABLE))}")
        if not count.isdigit() or not 1 <= int(count) <= 16:
            raise InvalidInput(f"--scale {value}: give a number of instances from 1 to 16, as in search=2")
        scale[name] = int(count)
    return scale


def platform_processes(scale: dict[str, int], give_up_after: int, window: float) -> list[Supervised]:
    children = []
    for module in platform.service_modules("commands"):  # helpers a service needs locally, such as a mail sink
        for argv in getattr(module, "background_processes", lambda: [])():
            name = argv[argv.index("-m") + 1].rsplit(".", 1)[-1] if "-m" in argv else Path(argv[0]).name
            children.append(Supervised(name, argv, give_up_after, window))
    metrics_port = int(os.environ.get("METRICS_PORT") or FIRST_METRICS_PORT)
    ports = []
    for name, folder, service in PROCESSES:
        if not (ROOT / folder / "config.yml").exists():
            continue
        count = scale.get(name, 1)
        for number in range(1, count + 1):
            label = name if count == 1 else f"{name}-{number}"
            port = metrics_port + len(ports)  # one per process: instances of a service are scraped apart
            ports.append(f"{label} :{port}")
            children.append(Supervised(label, nameko_command(folder, service), give_up_after, window,
                                       {"METRICS_PORT": str(port)}))
    say("metrics on " + ", ".join(ports))
    return children


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _stop_on_signal(signum, frame):
    raise KeyboardInterrupt


def run(args) -> int:
    scale = parse_scale(args.scale)
    # Ctrl-C, `kill`, or a closed terminal: stop the children too (they run in their own sessions, see start()).
    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop_on_signal)
    from services.directory import commands as directory_commands

    os.chdir(ROOT)
    (ROOT / "var").mkdir(exist_ok=True)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    # Trying the platform out on this machine: development mode, with its own random key (kept in var/, 0600)
    # rather than any key anyone could read in the code. Production deployments set SECRET_KEY themselves.
    os.environ["DSI_MODE"] = "development"
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = development_secret(ROOT / "var" / "secret_key")
    platform.migrate_all()
    directory_commands.load_initial_data(directory_commands.default_data_path())
    for module in platform.service_modules("commands"):
        getattr(module, "before_run", lambda: None)()

    supervisor = Supervisor(platform_processes(scale, args.give_up_after, args.window))
    try:
        url = os.environ.get("PUBLIC_URL", "http://localhost:8000").rstrip("/")
        if not wait_until_healthy(url, supervisor):
            say("the platform did not start; see the messages above.")
            return 1
        print(f"\n  The DSI platform runs at {url}  (Ctrl-C stops it)\n", flush=True)
        while not supervisor.all_given_up:
            supervisor.tick()
            time.sleep(0.2)
        say("every service was given up; stopping.")
        return 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        for signum in STOP_SIGNALS:  # a second Ctrl-C must not cut the stopping short and orphan children
            signal.signal(signum, signal.SIG_IGN)
        supervisor.stop()


def register(commands) -> None:
    command = commands.add_parser("run", help="start the whole platform on this machine")
    command.add_argument("--scale", action="append", metavar="SERVICE=N",
                         help=f"run N instances of a service (repeatable); any of {', '.join(sorted(SCALABLE))}")
    command.add_argument("--give-up-after", type=int, default=5, metavar="DEATHS",
                         help="give a service up when it died this many times within the window (default 5)")
    command.add_argument("--window", type=float, default=60, metavar="SECONDS",
                         help="the window for --give-up-after (default 60 s)")
    command.set_defaults(handler=run)
