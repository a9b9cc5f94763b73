"""`dsi run`: the whole platform on one machine, for trying it out and for development.

Migrates every database, loads data into an empty directory (the real 2017 export when it is there, a small
generated set otherwise), starts every service as its own process (consumers first, so their queues exist
before events flow) and the gateway last, prints the URL, and stops everything cleanly on Ctrl-C.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from dsi import platform
from dsi.settings import development_secret

ROOT = Path(__file__).resolve().parent.parent
# Consumers before producers; each entry is (folder, nameko service class).
PROCESSES = [
    ("services/search", "services.search.service:SearchService"),
    ("services/moderation", "services.moderation.service:ModerationService"),
    ("services/newsletter", "services.newsletter.service:NewsletterService"),
    ("services/directory", "services.directory.service:DirectoryService"),
    ("gateway", "gateway.service:GatewayService"),
]


def default_data_path() -> Path | None:
    for candidate in (os.environ.get("DSI_DATA"), ROOT.parent / "shared" / "data" / "dsi4eu-2017"):
        if candidate and (Path(candidate) / "organisations.json").exists():
            return Path(candidate)
    return None


def nameko_command(folder: str, service: str) -> list[str]:
    return [sys.executable, "-m", "nameko", "run", "--config", str(ROOT / folder / "config.yml"), service]


def start(argv: list[str]) -> subprocess.Popen:
    # Own session: Ctrl-C reaches only this launcher, which then stops each child once (a second signal makes
    # nameko abort its graceful stop).
    return subprocess.Popen(argv, cwd=ROOT, start_new_session=True)


def wait_until_healthy(url: str, children: list, seconds: int = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def stop(children: list) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _stop_on_signal(signum, frame):
    raise KeyboardInterrupt


def run(args) -> int:
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
    directory_commands.load_initial_data(default_data_path())
    hooks = list(platform.service_modules("commands"))
    for module in hooks:
        getattr(module, "before_run", lambda: None)()

    children = []
    try:
        for module in hooks:  # helpers a service needs locally, such as a mail sink
            for argv in getattr(module, "background_processes", lambda: [])():
                children.append(start(argv))
        for folder, service in PROCESSES:
            if not (ROOT / folder / "config.yml").exists():
                continue
            children.append(start(nameko_command(folder, service)))
        url = os.environ.get("PUBLIC_URL", "http://localhost:8000").rstrip("/")
        if not wait_until_healthy(url, children):
            print("The platform did not start; see the messages above.", file=sys.stderr)
            return 1
        print(f"\n  The DSI platform runs at {url}  (Ctrl-C stops it)\n", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A service stopped; stopping the others.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        for signum in STOP_SIGNALS:  # a second Ctrl-C must not cut the stopping short and orphan children
            signal.signal(signum, signal.SIG_IGN)
        stop(children)


def register(commands) -> None:
    command = commands.add_parser("run", help="start the whole platform on this machine")
    command.set_defaults(handler=run)
