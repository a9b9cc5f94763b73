"""Editorial hub benchmark: list pages and API answers through the gateway, publish → visible, and the calendar
feed, with 10,000 stories, 5,000 events and 2,000 funding calls.

Runs the content, moderation (staff sessions) and gateway services in this process on a scratch RabbitMQ vhost
(removed afterwards) with scratch SQLite databases. Items are written through content's domain module (slugs,
terms, revisions) before the services start; their outbox rows are dropped, as if search had taken them.
1. GET list pages (/stories, /events, /funding with filters, /it/stories) and the JSON API through the gateway;
2. publish (content's publish RPC, as the console does) → GET /stories/<slug> answers 200;
3. GET /events.ics with 1,000 upcoming events.

Run: .venv/bin/python bench/content.py [--requests 200] [--publishes 50]
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
from datetime import date, datetime, timedelta, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from nameko.standalone.rpc import ServiceRpcProxy  # noqa: E402
from sqlalchemy import delete  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))  # a throwaway key for the services this run starts

from dsi import events, vocab  # noqa: E402
from dsi.database import make_engine  # noqa: E402
from dsi.messaging import OutboxWriter  # noqa: E402
from dsi.migrations import upgrade  # noqa: E402
from gateway.service import GatewayService  # noqa: E402
from services.content import items  # noqa: E402
from services.content.models import Outbox  # noqa: E402
from services.content.service import ContentService  # noqa: E402
from services.moderation import accounts  # noqa: E402
from services.moderation.service import ModerationService  # noqa: E402

MANAGEMENT = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")
PASSWORD = "benchmark password 123"
CLUSTERS = list(vocab.CLUSTERS)
COUNTRIES = ["IT", "ES", "DE", "FR", "PL", "NL", "BE", "PT"]


def poll(probe, timeout=30.0):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if probe():
            return time.perf_counter() - start
        time.sleep(0.002)
    raise TimeoutError("gave up")


def summary(name, seconds):
    ms = sorted(value * 1000 for value in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {p99:.1f} | {ms[-1]:.1f} |")


def seed(url: str, stories: int, events_count: int, calls: int) -> None:
    engine = make_engine(url)
    outbox = OutboxWriter(Outbox, events.CONTENT)
    now = datetime.now().replace(microsecond=0, second=0)
    bodies = [("story", {"title": f"Story {n}", "summary": f"Standfirst {n}", "body": f"Body of *story* {n}.",
                         "cluster": CLUSTERS[n % len(CLUSTERS)], "category": ("news", "blog")[n % 2]})
              for n in range(stories)]
    bodies += [("event", {"title": f"Event {n}", "start": (now + timedelta(hours=n * 7 - 1000 * 7)).isoformat(),
                          "country": COUNTRIES[n % len(COUNTRIES)], "free": n % 3 == 0,
                          "attendance": ("online", "in_person", "hybrid")[n % 3],
                          "cluster": CLUSTERS[n % len(CLUSTERS)]}) for n in range(events_count)]
    bodies += [("funding", {"title": f"Call {n}", "closes_on": (date.today() + timedelta(days=n % 400 - 100))
                            .isoformat(), "countries": [COUNTRIES[n % len(COUNTRIES)]],
                            "funding_types": [list(vocab.FUNDING_TYPES)[n % len(vocab.FUNDING_TYPES)]]})
               for n in range(calls)]
    started = time.perf_counter()
    for start in range(0, len(bodies), 1000):
        with Session(engine) as session, session.begin():
            for kind, body in bodies[start:start + 1000]:
                item = items.create(session, outbox, kind, body, "bench@example.org")
                items.transition(session, outbox, item.id, "publish", "bench@example.org")
            session.execute(delete(Outbox))  # as if relayed and taken by search
    print(f"seeded {len(bodies)} items in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--publishes", type=int, default=50)
    parser.add_argument("--port", type=int, default=18767)
    args = parser.parse_args()

    vhost = f"bench-content-{uuid.uuid4().hex[:8]}"
    requests.put(f"{MANAGEMENT}/vhosts/{vhost}", auth=AUTH).raise_for_status()
    requests.put(f"{MANAGEMENT}/permissions/{vhost}/guest", json={"configure": ".*", "write": ".*", "read": ".*"},
                 auth=AUTH).raise_for_status()
    scratch = Path(tempfile.mkdtemp(prefix="bench-content-"))
    content_url, moderation_url = f"sqlite:///{scratch}/content.db", f"sqlite:///{scratch}/moderation.db"
    upgrade("content", content_url)
    upgrade("moderation", moderation_url)
    engine = make_engine(moderation_url)
    with Session(engine) as session, session.begin():
        accounts.create_staff(session, {"email": "bench@example.org", "role": "editor", "password": PASSWORD})
    engine.dispose()
    seed(content_url, args.stories, args.events, args.calls)
    config = {"AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
              "WEB_SERVER_ADDRESS": f"127.0.0.1:{args.port}", "MEDIA_DIR": str(scratch / "media"),
              "DB_URIS": {"content:Base": content_url, "moderation:Base": moderation_url}}
    runner = ServiceRunner(config)
    for cls in (ContentService, ModerationService, GatewayService):
        runner.add_service(cls)
    runner.start()
    base = f"http://127.0.0.1:{args.port}"
    paths = ["/stories", "/stories?cluster=health-and-care&page=20", "/it/stories", "/events",
             "/events?country=IT&free=true", "/events/past", "/funding", "/funding?type=grant-funding&country=ES",
             "/resources", "/api/stories", "/api/stories?category=blog&page=100", "/api/events?attendance=online",
             "/api/funding?status=closed", f"/api/stories/story-{args.stories // 2}"]
    timings, to_visible, ics = {}, [], []
    try:
        with ServiceRpcProxy("moderation", config) as moderation, \
                ServiceRpcProxy("content", config) as content, requests.Session() as http:
            cookie = moderation.login("bench@example.org", PASSWORD)["session"]
            for path in paths:  # warm up
                assert http.get(base + path).status_code == 200, path
            for path in paths:
                timings[path] = []
                for _ in range(args.requests):
                    start = time.perf_counter()
                    http.get(base + path).raise_for_status()
                    timings[path].append(time.perf_counter() - start)
            for n in range(args.publishes):
                item = content.create(cookie, "story", {"title": f"Fresh story {n}", "body": "New."})
                start = time.perf_counter()
                content.publish(cookie, item["id"])
                poll(lambda: http.get(f"{base}/stories/{item['slug']}").status_code == 200)
                to_visible.append(time.perf_counter() - start)
            for _ in range(20):
                start = time.perf_counter()
                answer = http.get(f"{base}/events.ics")
                ics.append(time.perf_counter() - start)
            size = answer.text.count("BEGIN:VEVENT")
    finally:
        runner.stop()
        requests.delete(f"{MANAGEMENT}/vhosts/{vhost}", auth=AUTH)

    machine = platform.processor() or platform.machine()
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, {machine}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, SQLite, RabbitMQ on localhost; {args.stories} stories, "
          f"{args.events} events, {args.calls} calls")
    print("| step | n | median ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- |")
    for path, seconds in timings.items():
        summary(f"GET {path}", seconds)
    summary("publish (RPC) → GET /stories/{slug} answers 200", to_visible)
    summary(f"GET /events.ics ({size} events)", ics)


if __name__ == "__main__":
    main()
