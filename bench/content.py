"""Editorial hub benchmark: list pages and API answers through the gateway, publish → visible, and the calendar
feed, with 10,000 stories, 5,000 events and 2,000 funding calls.

Runs the content, moderation (staff sessions), search (with an empty directory) and gateway services in this process on a scratch RabbitMQ vhost
(removed afterwards) with scratch SQLite databases (bench/harness.py). Items are loaded in batches through
content's domain module (items.load_published: validated, rendered and derived as an editor's, without a
revision or event per item) before the services start.
1. GET list pages (/stories, /events, /funding with filters, /it/stories) and the JSON API through the gateway;
2. publish (content's publish RPC, as the console does) → GET /stories/<slug> answers 200, and → /api/search finds
   it by a word of its body (search builds its index from the seeded items first);
3. GET /events.ics with 1,000 upcoming events.

Run: .venv/bin/python bench/content.py [--requests 200] [--publishes 50]
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402  (first: it patches eventlet)
    PASSWORD,
    STAFF_EMAIL,
    machine_line,
    poll,
    running,
    scratch_databases,
    scratch_vhost,
    summary,
    table_head,
)

import argparse  # noqa: E402
import time  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402

import requests  # noqa: E402
from nameko.standalone.rpc import ServiceRpcProxy  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dsi import vocab  # noqa: E402
from dsi.database import make_engine  # noqa: E402
from gateway.service import GatewayService  # noqa: E402
from services.content import items  # noqa: E402
from services.content.service import ContentService  # noqa: E402
from services.directory.service import DirectoryService  # noqa: E402
from services.moderation.service import ModerationService  # noqa: E402
from services.search.service import SearchService  # noqa: E402

CLUSTERS = list(vocab.CLUSTERS)
COUNTRIES = ["IT", "ES", "DE", "FR", "PL", "NL", "BE", "PT"]
BATCH = 2000


def bodies(stories: int, events_count: int, calls: int):
    now = datetime.now().replace(microsecond=0, second=0)
    for n in range(stories):
        yield "story", {"title": f"Story {n}", "summary": f"Standfirst {n}", "body": f"Body of *story* {n}.",
                        "cluster": CLUSTERS[n % len(CLUSTERS)], "category": ("news", "blog")[n % 2]}
    for n in range(events_count):
        yield "event", {"title": f"Event {n}", "start": (now + timedelta(hours=n * 7 - 1000 * 7)).isoformat(),
                        "country": COUNTRIES[n % len(COUNTRIES)], "free": n % 3 == 0,
                        "attendance": ("online", "in_person", "hybrid")[n % 3], "cluster": CLUSTERS[n % len(CLUSTERS)]}
    for n in range(calls):
        yield "funding", {"title": f"Call {n}", "closes_on": (date.today() + timedelta(days=n % 400 - 100)).isoformat(),
                          "countries": [COUNTRIES[n % len(COUNTRIES)]],
                          "funding_types": [list(vocab.FUNDING_TYPES)[n % len(vocab.FUNDING_TYPES)]]}


def seed(url: str, stories: int, events_count: int, calls: int) -> float:
    """Loads the items, a batch per transaction; the seconds it took."""
    engine = make_engine(url)
    started = time.perf_counter()
    pending = list(bodies(stories, events_count, calls))
    for first in range(0, len(pending), BATCH):
        with Session(engine) as session, session.begin():
            items.load_published(session, pending[first:first + BATCH], STAFF_EMAIL, origin="bench")
    engine.dispose()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--publishes", type=int, default=50)
    parser.add_argument("--port", type=int, default=18767)
    args = parser.parse_args()

    scratch, urls = scratch_databases("content", ["content", "directory", "moderation"], "editor")
    seconds = seed(urls["content"], args.stories, args.events, args.calls)
    total = args.stories + args.events + args.calls
    print(f"seeded {total} items in {seconds:.1f} s", file=sys.stderr)
    base = f"http://127.0.0.1:{args.port}"
    paths = ["/stories", "/stories?cluster=health-and-care&page=20", "/it/stories", "/events",
             "/events?country=IT&free=true", "/events/past", "/funding", "/funding?type=grant-funding&country=ES",
             "/resources", "/api/stories", "/api/stories?category=blog&page=100", "/api/events?attendance=online",
             "/api/funding?status=closed", f"/api/stories/story-{args.stories // 2}"]
    timings, to_visible, to_searchable, ics = {}, [], [], []
    with scratch_vhost("content") as amqp_uri:
        config = {"AMQP_URI": amqp_uri, "WEB_SERVER_ADDRESS": f"127.0.0.1:{args.port}",
                  "MEDIA_DIR": str(scratch / "media"), "SEARCH_INDEX_DIR": str(scratch / "search"),
                  "SEARCH_CATCH_UP_DELAY": "100000",  # one build at start, no catch-up mid-run
                  "DB_URIS": {"content:Base": urls["content"], "moderation:Base": urls["moderation"],
                             "directory:Base": urls["directory"]}}
        with running(config, ContentService, DirectoryService, ModerationService, SearchService, GatewayService), \
                ServiceRpcProxy("moderation", config) as moderation, \
                ServiceRpcProxy("content", config) as content, requests.Session() as http:
            cookie = moderation.login(STAFF_EMAIL, PASSWORD)["session"]
            poll(lambda: http.get(f"{base}/api/search", params={"q": "story"}).json().get("total"), timeout=300)
            for path in paths:  # warm up
                assert http.get(base + path).status_code == 200, path
            for path in paths:
                timings[path] = []
                for _ in range(args.requests):
                    start = time.perf_counter()
                    http.get(base + path).raise_for_status()
                    timings[path].append(time.perf_counter() - start)
            for n in range(args.publishes):
                word = f"quokka{n}x"
                item = content.create(cookie, "story", {"title": f"Fresh story {n}", "body": f"New {word}."})
                start = time.perf_counter()
                content.publish(cookie, item["id"])
                poll(lambda: http.get(f"{base}/stories/{item['slug']}").status_code == 200)
                to_visible.append(time.perf_counter() - start)
                poll(lambda: any(hit["url"] == item["url"] for hit in
                                 http.get(f"{base}/api/search", params={"q": word}).json().get("items", [])))
                to_searchable.append(time.perf_counter() - start)
            for _ in range(20):
                start = time.perf_counter()
                answer = http.get(f"{base}/events.ics")
                ics.append(time.perf_counter() - start)
            size = answer.text.count("BEGIN:VEVENT")

    print(machine_line(f"{args.stories} stories, {args.events} events, {args.calls} calls "
                       f"(seeded in {seconds:.1f} s)"))
    print(table_head(99))
    for path, values in timings.items():
        print(summary(f"GET {path}", values))
    print(summary("publish (RPC) → GET /stories/{slug} answers 200", to_visible))
    print(summary("publish (RPC) → /api/search finds it by a body word", to_searchable))
    print(summary(f"GET /events.ics ({size} events)", ics))


if __name__ == "__main__":
    main()
