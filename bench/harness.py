"""What the service benchmarks share: a scratch RabbitMQ vhost, scratch SQLite databases with a staff account,
the services running in this process, polling, the figures' table and the line naming the machine.

Import it first, once the repository is on sys.path (see bench/content.py): it patches eventlet for the services the
benchmark hosts in its process and gives them a throwaway SECRET_KEY.
"""
import eventlet

eventlet.monkey_patch()

import contextlib  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dsi.database import make_engine  # noqa: E402
from dsi.migrations import upgrade  # noqa: E402
from services.moderation import accounts  # noqa: E402

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))  # for the services this run starts

MANAGEMENT = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")
STAFF_EMAIL = "bench@example.org"
PASSWORD = "benchmark password 123"


@contextlib.contextmanager
def scratch_vhost(name: str):
    """An AMQP URI on a new vhost, removed afterwards."""
    vhost = f"bench-{name}-{uuid.uuid4().hex[:8]}"
    requests.put(f"{MANAGEMENT}/vhosts/{vhost}", auth=AUTH).raise_for_status()
    requests.put(f"{MANAGEMENT}/permissions/{vhost}/guest", json={"configure": ".*", "write": ".*", "read": ".*"},
                 auth=AUTH).raise_for_status()
    try:
        yield f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        requests.delete(f"{MANAGEMENT}/vhosts/{vhost}", auth=AUTH)


def scratch_databases(name: str, services: list[str], staff_role: str) -> tuple[Path, dict[str, str]]:
    """A scratch folder and a migrated SQLite database per service (by service name); moderation's, which must
    be among them, holds a staff account with `staff_role` (STAFF_EMAIL, PASSWORD)."""
    scratch = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    urls = {service: f"sqlite:///{scratch}/{service}.db" for service in services}
    for service, url in urls.items():
        upgrade(service, url)
    engine = make_engine(urls["moderation"])
    with Session(engine) as session, session.begin():
        accounts.create_staff(session, {"email": STAFF_EMAIL, "role": staff_role, "password": PASSWORD})
    engine.dispose()
    return scratch, urls


@contextlib.contextmanager
def running(config: dict, *service_classes):
    runner = ServiceRunner(config)
    for cls in service_classes:
        runner.add_service(cls)
    runner.start()
    try:
        yield
    finally:
        runner.stop()


def poll(probe, timeout: float = 30.0, every: float = 0.002) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if probe():
            return time.perf_counter() - start
        time.sleep(every)
    raise TimeoutError("gave up")


def table_head(percentile: int) -> str:
    return f"| step | n | median ms | p{percentile} ms | max ms |\n| --- | --- | --- | --- | --- |"


def summary(name: str, seconds: list[float], percentile: int = 99, digits: int = 1) -> str:
    ms = sorted(value * 1000 for value in seconds)
    high = ms[min(len(ms) - 1, int(len(ms) * percentile / 100))]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.{digits}f} | {high:.{digits}f} | {ms[-1]:.{digits}f} |"


def machine_line(*more: str) -> str:
    machine = platform.processor() or platform.machine()
    return ", ".join([f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", platform.node(), machine,
                      f"{os.cpu_count()} cores", f"Python {platform.python_version()}", "SQLite",
                      "RabbitMQ on localhost", *more])
