"""Benchmark: one edition to 10,000 confirmed subscribers through a local SMTP sink.

Runs the newsletter's own sending code (the delivery loop of every `send_editions` timer tick) under
eventlet, as the service does, against the aiosmtpd file sink in its own process; prints messages per
second and the sender's peak memory, and checks that the sink received every copy exactly once.

    .venv/bin/python bench/newsletter.py [--subscribers 10000] [--database-url URL] [--rate 0] [--blocking-postgres]
"""
import eventlet

eventlet.monkey_patch()  # as under `nameko run`

import argparse  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg2.extensions  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))  # a throwaway key for the services this run starts

from dsi import events  # noqa: E402
from dsi.database import is_postgresql, make_engine  # noqa: E402
from dsi.migrations import upgrade  # noqa: E402
from services.newsletter import editions, sending  # noqa: E402
from services.newsletter.dependencies import Mailer, Settings  # noqa: E402
from services.newsletter.models import Edition, Subscriber  # noqa: E402
from services.newsletter.smtp import Pacer  # noqa: E402
from tests.processes import free_port  # noqa: E402

LANGUAGES = ("en", "de", "fr", "it", "es", "ca", "pl")
AREAS = ("health-and-care", "skills-and-learning", "digital-democracy", "science")


def wait_for_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the SMTP sink did not start")


def recipient(path: Path) -> str:
    """The envelope recipient the sink wrote on a stored message's first lines."""
    with open(path, "rb") as file:
        for line in file:
            if line.startswith(b"X-Sink-Rcpt-To: "):
                return line.split(b": ", 1)[1].strip().decode()
    return ""


def seed(sessions, subscribers: int, month: str) -> int:
    """Last month's news (40 records) and `subscribers` confirmed readers in mixed languages and interests."""
    start, _ = editions.parse_month(month)
    with sessions.begin() as session:
        for number in range(1, 41):
            kind = "project" if number % 3 else "organisation"
            record = {"id": number, "kind": kind, "version": 1, "name": f"Bench {kind} {number}",
                      "short_description": "A digital social innovation that helps people help each other.",
                      "city": "Lisbon", "country_name": "Portugal",
                      "published_at": (start + timedelta(hours=number)).isoformat(),
                      "social_areas": [{"value": AREAS[number % len(AREAS)]}] if kind == "project" else []}
            editions.apply_published(session, events.envelope(events.DIRECTORY, events.RECORD_PUBLISHED,
                                                              {"record": record}))
        rows = [{"email": f"reader{n}@bench.example.org", "key": uuid.uuid4().hex, "state": "confirmed",
                 "language": LANGUAGES[n % len(LANGUAGES)], "social_areas": [AREAS[n % len(AREAS)]] if n % 2 else []}
                for n in range(subscribers)]
        for offset in range(0, len(rows), 1000):
            session.execute(insert(Subscriber), rows[offset:offset + 1000])
        edition = editions.create(session, month)
        editions.act(session, edition.id, "schedule")
    return edition.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--blocking-postgres", action="store_true",
                        help="the control: take out the wait callback make_engine installs under eventlet, so "
                             "psycopg2 blocks the hub while it waits for the server")
    parser.add_argument("--rate", type=float, default=0, help="per-instance rate limit, messages/s (0: none)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dsi-bench-newsletter-"))
    url = args.database_url or f"sqlite:///{work}/newsletter.db"
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "services.newsletter.sink", "--port", str(port),
                             "--dir", str(work / "mail")], cwd=ROOT)
    try:
        wait_for_port(port)
        upgrade("newsletter", url)
        engine = make_engine(url)  # as the service's database provider builds it
        blocking = is_postgresql(url) and args.blocking_postgres
        if blocking:
            psycopg2.extensions.set_wait_callback(None)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        now = datetime.now(timezone.utc)
        month = editions.previous_month(now)
        edition_id = seed(sessions, args.subscribers, month)
        settings = Settings.from_config({
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SEND_RATE": args.rate or 600,  # the setting must be > 0
            "SEND_CONCURRENCY": args.concurrency, "SEND_SLICE": 10, "PUBLIC_URL": "https://dsi.example.org"})
        mailer = Mailer(settings, Pacer(args.rate), "bench")
        baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        started = time.perf_counter()
        while True:
            sending.send_editions(sessions, mailer)
            with sessions() as session:
                if session.get(Edition, edition_id).state != editions.RUNNING:
                    break
        elapsed = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        with sessions() as session:
            report = editions.report(session, edition_id)
        copies = Counter(recipient(path) for path in (work / "mail").glob("*.eml"))
        received = sum(copies.values())
        sent = report["recipients"].get("sent", 0)
        driver = "" if not is_postgresql(url) else " (blocking driver)" if blocking else " (wait callback)"
        print(f"database        {engine.dialect.name}{driver}")
        print(f"subscribers     {args.subscribers}")
        print(f"edition         {report['state']}, recipients {report['recipients']}")
        print(f"sink received   {received} messages")
        print(f"elapsed         {elapsed:.2f} s (from start of the edition to finished)")
        print(f"throughput      {sent / elapsed:.0f} messages/s")
        print(f"peak memory     {peak_kb / 1024:.0f} MiB RSS (before sending: {baseline_kb / 1024:.0f} MiB)")
        engine.dispose()
        if sent != args.subscribers or len(copies) != args.subscribers or set(copies.values()) != {1}:
            raise SystemExit("not every subscriber got exactly one copy")
        print("exactly once    every subscriber received one copy")
    finally:
        sink.terminate()
        sink.wait(10)
        if not os.environ.get("KEEP_BENCH_FILES"):
            subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
