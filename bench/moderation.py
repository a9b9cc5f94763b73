"""Moderation benchmark: how long a submission takes to reach the review queue, and an approval to go public.

Runs the directory, moderation and gateway services in this process on a scratch RabbitMQ vhost (removed
afterwards) with scratch SQLite databases (bench/harness.py), submits through the gateway's JSON API, and polls:
1. POST /api/submissions → the item is in the moderation queue (list_queue RPC);
2. approve (decide RPC) → GET /api/<kind>/<id> answers 200.
Queues stand in for the search and newsletter services (their events are routable, as when the whole platform
runs); --without-consumers leaves them out, as when those services never ran on this broker.

Run: .venv/bin/python bench/moderation.py [--count 50]
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402  (first: it patches eventlet)

import argparse  # noqa: E402
import time  # noqa: E402

import requests  # noqa: E402
from nameko.standalone.rpc import ServiceRpcProxy  # noqa: E402

from gateway.service import GatewayService  # noqa: E402
from services.directory.service import DirectoryService  # noqa: E402
from services.moderation.service import ModerationService  # noqa: E402
from tests.factories import project_body  # noqa: E402


def bind_sinks(amqp_uri: str) -> None:
    """Stand-ins for the search and newsletter services' queues."""
    from kombu import Connection, Exchange, Queue
    with Connection(amqp_uri) as connection:
        for producer in ("directory", "moderation"):
            for routing_key in ("mail_requested", "record_published"):
                Queue(f"bench-sink-{producer}", Exchange(f"{producer}.events", type="topic", durable=True),
                      routing_key=routing_key)(connection.default_channel).declare()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--port", type=int, default=18766)
    parser.add_argument("--without-consumers", action="store_true",
                        help="no queue takes mail_requested / record_published (newsletter and search down)")
    args = parser.parse_args()

    _, urls = harness.scratch_databases("moderation", ["directory", "moderation"], "moderator")
    base = f"http://127.0.0.1:{args.port}"
    to_queue, to_public = [], []
    with harness.scratch_vhost("moderation") as amqp_uri:
        config = {"AMQP_URI": amqp_uri, "WEB_SERVER_ADDRESS": f"127.0.0.1:{args.port}",
                  "DB_URIS": {"directory:Base": urls["directory"], "moderation:Base": urls["moderation"]},
                  "RATE_LIMITS": {"submit": "100000/hour"}}
        if not args.without_consumers:
            bind_sinks(amqp_uri)
        with harness.running(config, DirectoryService, ModerationService, GatewayService), \
                ServiceRpcProxy("moderation", config) as moderation, requests.Session() as http:
            cookie = moderation.login(harness.STAFF_EMAIL, harness.PASSWORD)["session"]
            http.post(f"{base}/api/submissions", json=project_body()).raise_for_status()  # warm up
            for n in range(args.count):
                start = time.perf_counter()
                submitted = http.post(f"{base}/api/submissions", json=project_body(name=f"Bench {n}")).json()
                harness.poll(lambda: moderation.list_queue(cookie, {"q": f"Bench {n}", "state": "all"})["total"],
                     every=0.005)
                to_queue.append(time.perf_counter() - start)
                item = moderation.show(cookie, submitted["id"])
                start = time.perf_counter()
                moderation.decide(cookie, submitted["id"], {"decision": "approve", "version": item["version"]})
                harness.poll(lambda: http.get(f"{base}/api/projects/{item['record_id']}").status_code == 200, every=0.005)
                to_public.append(time.perf_counter() - start)

    print(harness.machine_line())
    print(harness.table_head(95))
    print(harness.summary("submission (POST /api/submissions) → in the moderation queue", to_queue, 95, 0))
    print(harness.summary("approve (decide RPC) → GET /api/projects/{id} answers 200", to_public, 95, 0))


if __name__ == "__main__":
    main()
