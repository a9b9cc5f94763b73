"""Moderation benchmark: how long a submission takes to reach the review queue, and an approval to go public.

Runs the directory, moderation and gateway services in this process on a scratch RabbitMQ vhost (removed
afterwards) with scratch SQLite databases, submits through the gateway's JSON API, and polls:
1. POST /api/submissions → the item is in the moderation queue (list_queue RPC);
2. approve (decide RPC) → GET /api/<kind>/<id> answers 200.
Queues stand in for the search and newsletter services (their events are routable, as when the whole platform
runs); --without-consumers leaves them out, as when those services never ran on this broker.

Run: .venv/bin/python bench/moderation.py [--count 50]
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from nameko.standalone.rpc import ServiceRpcProxy  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))  # a throwaway key for the services this run starts

from dsi.database import make_engine  # noqa: E402
from dsi.migrations import upgrade  # noqa: E402
from gateway.service import GatewayService  # noqa: E402
from services.directory.service import DirectoryService  # noqa: E402
from services.moderation import accounts  # noqa: E402
from services.moderation.service import ModerationService  # noqa: E402
from tests.factories import project_body  # noqa: E402

MANAGEMENT = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")
PASSWORD = "benchmark password 123"


def poll(probe, timeout=30.0):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if probe():
            return time.perf_counter() - start
        time.sleep(0.005)
    raise TimeoutError("gave up")


def summary(name, seconds):
    ms = sorted(value * 1000 for value in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {ms[-1]:.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--port", type=int, default=18766)
    parser.add_argument("--without-consumers", action="store_true",
                        help="no queue takes mail_requested / record_published (newsletter and search down)")
    args = parser.parse_args()

    vhost = f"bench-moderation-{uuid.uuid4().hex[:8]}"
    requests.put(f"{MANAGEMENT}/vhosts/{vhost}", auth=AUTH).raise_for_status()
    requests.put(f"{MANAGEMENT}/permissions/{vhost}/guest", json={"configure": ".*", "write": ".*", "read": ".*"},
                 auth=AUTH).raise_for_status()
    scratch = Path(tempfile.mkdtemp(prefix="bench-moderation-"))
    directory_url, moderation_url = f"sqlite:///{scratch}/directory.db", f"sqlite:///{scratch}/moderation.db"
    upgrade("directory", directory_url)
    upgrade("moderation", moderation_url)
    engine = make_engine(moderation_url)
    with Session(engine) as session, session.begin():
        accounts.create_staff(session, {"email": "bench@example.org", "role": "moderator", "password": PASSWORD})
    config = {"AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{args.port}",
              "DB_URIS": {"directory:Base": directory_url, "moderation:Base": moderation_url},
              "RATE_LIMITS": {"submit": "100000/hour"}}
    if not args.without_consumers:  # stand-ins for the search and newsletter services' queues
        from kombu import Connection, Exchange, Queue
        with Connection(config["AMQP_URI"]) as connection:
            for producer in ("directory", "moderation"):
                Queue(f"bench-sink-{producer}", Exchange(f"{producer}.events", type="topic", durable=True),
                      routing_key="mail_requested", bindings=None)(connection.default_channel).declare()
                Queue(f"bench-sink-{producer}", Exchange(f"{producer}.events", type="topic", durable=True),
                      routing_key="record_published")(connection.default_channel).declare()
    runner = ServiceRunner(config)
    for cls in (DirectoryService, ModerationService, GatewayService):
        runner.add_service(cls)
    runner.start()
    base = f"http://127.0.0.1:{args.port}"
    to_queue, to_public = [], []
    try:
        with ServiceRpcProxy("moderation", config) as moderation, requests.Session() as http:
            cookie = moderation.login("bench@example.org", PASSWORD)["session"]
            http.post(f"{base}/api/submissions", json=project_body()).raise_for_status()  # warm up
            for n in range(args.count):
                start = time.perf_counter()
                submitted = http.post(f"{base}/api/submissions", json=project_body(name=f"Bench {n}")).json()
                poll(lambda: moderation.list_queue(cookie, {"q": f"Bench {n}", "state": "all"})["total"])
                to_queue.append(time.perf_counter() - start)
                item = moderation.show(cookie, submitted["id"])
                start = time.perf_counter()
                moderation.decide(cookie, submitted["id"], {"decision": "approve", "version": item["version"]})
                poll(lambda: http.get(f"{base}/api/projects/{item['record_id']}").status_code == 200)
                to_public.append(time.perf_counter() - start)
    finally:
        runner.stop()
        engine.dispose()
        requests.delete(f"{MANAGEMENT}/vhosts/{vhost}", auth=AUTH)

    machine = platform.processor() or platform.machine()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, {machine}, "
          f"Python {platform.python_version()}, SQLite, RabbitMQ on localhost")
    print("| step | n | median ms | p95 ms | max ms |\n| --- | --- | --- | --- | --- |")
    summary("submission (POST /api/submissions) → in the moderation queue", to_queue)
    summary("approve (decide RPC) → GET /api/projects/{id} answers 200", to_public)


if __name__ == "__main__":
    main()
