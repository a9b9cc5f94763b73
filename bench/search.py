"""Search benchmark: prints the figures kept in bench/RESULTS.md.

1. The real 2017 export, imported through the directory's importer into a scratch database and indexed from the
   directory's export: indexing throughput, and search/suggest latency in process.
2. A generated 100,000-record set (words drawn from the real data): indexing throughput and latency of the
   chosen engine (tantivy) against the candidate it was measured against (SQLite FTS5, written here with the same
   query features: typo-tolerant words, prefix, facet counts).
3. The services for real, as `nameko run` processes on a scratch RabbitMQ vhost: latency through RPC and through
   the gateway over HTTP, on both data sets, and the lag from a moderator's approval to searchable.

Run: .venv/bin/python bench/search.py [--records 100000] [--data PATH]
"""
import argparse
import os
import random
import re
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import requests

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))  # a throwaway key for the services this run starts

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsi import countries, events, vocab  # noqa: E402
from services.search.backends.embedded import EmbeddedBackend  # noqa: E402
from services.search.engine import SearchEngine  # noqa: E402
from services.search.models import FACETS, document  # noqa: E402
from services.search.schemas import parse_params  # noqa: E402
from services.search.text import Terms, distance  # noqa: E402
from tests.processes import free_port  # noqa: E402

AMQP_HOST = "127.0.0.1"
MANAGEMENT = "http://127.0.0.1:15672/api"
QUERIES = [  # what people type: words, misspellings, prefixes, accents, with and without filters
    {"q": "open data"}, {"q": "helth"}, {"q": "barcelo"}, {"q": "democracy platfrom"}, {"q": "citizen sc"},
    {"q": "makerspace"}, {"q": "edu"}, {"q": "crowdfunding"}, {"q": "sustainabilty"}, {"q": "lodz"},
    {"q": "", "kind": ["project"], "social_areas": ["health-and-care"]},
    {"q": "open", "country": ["ES", "IT"], "kind": ["organisation"]},
    {"q": "network", "sort": "newest", "page": 3},
    {"q": "", "bbox": "-10,35,5,44"},
    {"q": "communty", "technologies": ["open-data", "big-data"]},
    {"q": "", "sort": "name", "page": 10},
]
SUGGESTS = ["b", "bar", "barc", "ope", "open d", "waa", "fab l", "nest", "dig", "kra"]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  (n={len(ordered)})"


def timed(call, items, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for item in items:
            started = time.perf_counter()
            call(item)
            samples.append(time.perf_counter() - started)
    return samples


# --- data ------------------------------------------------------------------------------------------------------

def import_real_data(data: Path, folder: Path) -> tuple[str, list[dict]]:
    """The 2017 export through the directory's importer into a scratch database; its published records."""
    from sqlalchemy.orm import Session

    from dsi.database import make_engine
    from dsi.messaging import OutboxWriter
    from dsi.migrations import upgrade
    from services.directory import importer, records
    from services.directory.models import Outbox

    url = f"sqlite:///{folder}/directory.db"
    upgrade("directory", url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        importer.import_dsi4eu(session, OutboxWriter(Outbox, events.DIRECTORY), data)
        session.execute(Outbox.__table__.update().values(sent_at=datetime.now(timezone.utc)))  # not to replay at start
    published, after = [], 0
    with Session(engine) as session:
        while after is not None:
            page = records.export_published(session, after, 500)
            published += page["items"]
            after = page["next_after"]
    engine.dispose()
    return url, published


def generated_records(count: int, real: list[dict], seed: int = 2017) -> list[dict]:
    """Public records shaped as the directory publishes them, with words and places taken from the real data."""
    rng = random.Random(seed)
    name_words = [word for record in real for word in record["name"].split() if len(word) > 2]
    text_words = [word for record in real for word in re.findall(r"[^\W_]+", record["short_description"] or "")]
    places = [(r["country"], r["city"], r["latitude"], r["longitude"]) for r in real if r["country"] and r["latitude"]]
    out = []
    for id_ in range(1, count + 1):
        kind = "organisation" if id_ % 5 < 3 else "project"
        country, city, latitude, longitude = rng.choice(places)
        record = {
            "id": id_, "kind": kind, "name": " ".join(rng.sample(name_words, rng.randint(2, 4))),
            "short_description": " ".join(rng.choices(text_words, k=rng.randint(8, 30))),
            "long_description": "<p>" + " ".join(rng.choices(text_words, k=rng.randint(20, 80))) + "</p>",
            "country": country, "country_name": countries.name(country), "city": city,
            "latitude": latitude + rng.uniform(-0.2, 0.2), "longitude": longitude + rng.uniform(-0.2, 0.2),
            "tags": rng.sample(["open source", "co-design", "civic tech", "makers", "commons"], 2),
            "version": 1, "created_at": "2020-01-01T00:00:00+00:00",
            "published_at": f"2021-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00+00:00",
        }
        if kind == "organisation":
            type_, size = rng.choice(list(vocab.ORGANISATION_TYPES)), rng.choice(list(vocab.ORGANISATION_SIZES))
            record.update(organisation_type={"value": type_, "label": vocab.ORGANISATION_TYPES[type_]},
                          organisation_size={"value": size, "label": vocab.ORGANISATION_SIZES[size]},
                          network_tags=[], projects=[])
        else:
            record.update(status={"value": "live", "label": "Live"}, organisations=[])
            for facet, vocabulary in (("social_areas", vocab.SOCIAL_AREAS), ("technologies", vocab.TECHNOLOGIES),
                                      ("dsi_focus", vocab.DSI_FOCUS)):
                record[facet] = [{"value": slug, "label": vocabulary[slug]}
                                 for slug in rng.sample(list(vocabulary), rng.randint(1, 3))]
        out.append(record)
    return out


def pages_of(records_: list[dict]):
    def export(after, limit):
        start = next((i for i, record in enumerate(records_) if record["id"] > after), len(records_)) if after else 0
        page = records_[start:start + limit]
        return {"items": page, "next_after": page[-1]["id"] if len(page) == limit else None}
    return export


# --- the candidate: SQLite FTS5 with the same features -----------------------------------------------------------

class Fts5Candidate:
    """FTS5 has BM25, prefix queries and diacritic folding, but no typo tolerance: each query word is expanded
    to its neighbours in the vocabulary (fts5vocab) within the typo budget, in Python. The matches go to a
    temporary table once per query; filters, the bounding box, sorting and the facet counts (a GROUP BY per
    selected facet, one for all the others) run over it and plain indexed tables, never over the FTS text."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.executescript("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;
            CREATE VIRTUAL TABLE docs USING fts5(name, description, extra,
                tokenize = "unicode61 remove_diacritics 2");
            CREATE VIRTUAL TABLE vocabulary USING fts5vocab(docs, row);
            CREATE TABLE meta (id INTEGER PRIMARY KEY, name_sort TEXT, newest INTEGER, lat REAL, lon REAL);
            CREATE INDEX meta_by_name ON meta (name_sort);
            CREATE INDEX meta_by_newest ON meta (newest);
            CREATE INDEX meta_by_place ON meta (lat, lon);
            CREATE TABLE facets (facet TEXT, value TEXT, id INTEGER, PRIMARY KEY (facet, value, id)) WITHOUT ROWID;
            CREATE INDEX facets_by_id ON facets (id, facet, value);
            CREATE TEMP TABLE matched (id INTEGER PRIMARY KEY, score REAL);
        """)
        self.words: dict[int, list[str]] = {}

    def index(self, documents) -> None:
        for doc in documents:
            self.db.execute("INSERT INTO docs (rowid, name, description, extra) VALUES (?, ?, ?, ?)",
                            (doc["id"], doc["name"], doc["description"], doc["extra"]))
            self.db.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?)", (doc["id"], doc["name_sort"], doc["newest"],
                                                                       doc["latitude"], doc["longitude"]))
            self.db.executemany("INSERT OR IGNORE INTO facets VALUES (?, ?, ?)",
                                [(facet, value, doc["id"]) for facet in FACETS for value in doc["facets"][facet]])
        self.db.commit()
        for (term,) in self.db.execute("SELECT term FROM vocabulary"):
            self.words.setdefault(len(term), []).append(term)

    def _expand(self, term: str, budget: int, prefix: bool) -> str:
        near = [word for length in range(len(term) - budget, len(term) + budget + 1)
                for word in self.words.get(length, ()) if distance(word, term, budget) <= budget] if budget else []
        alternatives = [f'"{term}"*' if prefix else f'"{term}"'] + [f'"{word}"' for word in near[:50]]
        return "(" + " OR ".join(alternatives) + ")"

    def query(self, params) -> dict:
        terms = Terms(params.q)
        if terms:
            match = " AND ".join(self._expand(term, budget, prefix) for term, budget, prefix in terms)
            self.db.execute("DELETE FROM matched")
            self.db.execute("INSERT INTO matched SELECT rowid, bm25(docs, 3.0, 1.0, 0.7) FROM docs WHERE docs MATCH ?",
                            (match,))
            source = "matched JOIN meta USING (id)"
        else:
            source = "meta"
        clauses, values = {}, {}
        if params.bbox:
            box = params.bbox
            clauses["bbox"] = "lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?"
            values["bbox"] = [box.min_lat, box.max_lat, box.min_lon, box.max_lon]
        for facet, chosen in params.filters.items():
            marks = ",".join("?" * len(chosen))
            clauses[facet] = f"id IN (SELECT id FROM facets WHERE facet = ? AND value IN ({marks}))"
            values[facet] = [facet, *chosen]

        def where(skip=None):
            names = [name for name in clauses if name != skip]
            sql = (" WHERE " + " AND ".join(clauses[name] for name in names)) if names else ""
            return sql, [value for name in names for value in values[name]]

        condition, args = where()
        order = {"name": "name_sort", "newest": "newest DESC"}.get(params.sort, "score" if terms else "name_sort")
        ids = [row[0] for row in self.db.execute(
            f"SELECT id FROM {source}{condition} ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, params.per_page, (params.page - 1) * params.per_page])]
        rows = self.db.execute(f"SELECT rowid, name, description FROM docs WHERE rowid IN ({','.join('?' * len(ids))})",
                               ids).fetchall()
        total = self.db.execute(f"SELECT count(*) FROM {source}{condition}", args).fetchone()[0]
        counts = {}
        plain = [facet for facet in FACETS if facet not in params.filters]
        for facet, value, count in self.db.execute(
                f"SELECT facet, value, count(*) FROM facets WHERE facet IN ({','.join('?' * len(plain))}) "
                f"AND id IN (SELECT id FROM {source}{condition}) GROUP BY facet, value", [*plain, *args]):
            counts.setdefault(facet, {})[value] = count
        for facet in params.filters:
            condition, args = where(skip=facet)
            counts[facet] = dict(self.db.execute(
                f"SELECT value, count(*) FROM facets WHERE facet = ? AND id IN (SELECT id FROM {source}{condition}) "
                f"GROUP BY value", [facet, *args]).fetchall())
        return {"items": rows, "total": total, "facets": counts}


# --- services ----------------------------------------------------------------------------------------------------

class Platform:
    """`nameko run` processes on a scratch RabbitMQ vhost."""

    def __init__(self, env: dict):
        self.vhost = f"bench-search-{uuid.uuid4().hex[:8]}"
        requests.put(f"{MANAGEMENT}/vhosts/{self.vhost}", auth=("guest", "guest")).raise_for_status()
        requests.put(f"{MANAGEMENT}/permissions/{self.vhost}/guest", auth=("guest", "guest"),
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        self.amqp_uri = f"pyamqp://guest:guest@{AMQP_HOST}:5672/{self.vhost}"
        self.env = {**os.environ, **env, "AMQP_URI": self.amqp_uri, "LOG_LEVEL": "ERROR",
                    "PYTHONWARNINGS": "ignore"}
        self.children = []

    def start(self, folder: str, service: str):
        argv = [sys.executable, "-m", "nameko", "run", "--config", str(ROOT / folder / "config.yml"), service]
        self.children.append(subprocess.Popen(argv, cwd=ROOT, env=self.env))

    def wait_for(self, url: str) -> None:
        from tests.processes import wait_until_it_answers

        wait_until_it_answers(url, *self.children, seconds=180)

    def sink(self, producer: str, event_types) -> None:
        """A queue that takes what moderation and the newsletter would consume here: without one, those events
        stay unroutable in the directory's outbox, and every relay tries them all again before the rest."""
        queue, auth, api = f"bench-sink-{producer}", ("guest", "guest"), f"{MANAGEMENT}/%s/{self.vhost}"
        requests.put(api % "queues" + f"/{queue}", auth=auth, json={"durable": False}).raise_for_status()
        for event_type in event_types:
            requests.post(api % "bindings" + f"/e/{producer}.events/q/{queue}", auth=auth,
                          json={"routing_key": event_type}).raise_for_status()

    def stop(self) -> None:
        for child in self.children:
            child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        requests.delete(f"{MANAGEMENT}/vhosts/{self.vhost}", auth=("guest", "guest"))


def through_services(platform: Platform, port: int, rounds: int) -> None:
    from nameko.standalone.rpc import ClusterRpcProxy

    base = f"http://127.0.0.1:{port}"
    http = requests.Session()
    search_urls = [f"{base}/api/search?" + "&".join(
        f"{key}={','.join(value) if isinstance(value, list) else value}" for key, value in query.items())
        for query in QUERIES]
    for url in search_urls:
        assert http.get(url).status_code == 200, url
    with ClusterRpcProxy({"AMQP_URI": platform.amqp_uri}) as cluster:
        timed(lambda query: cluster.search.query(query), QUERIES, 2)  # warm up
        # the floor: a call that does no search (an empty suggestion), through the same path
        print("  floor   via RPC     ", percentiles(timed(lambda _: cluster.search.suggest(""), range(10), rounds)))
        print("  search  via RPC     ", percentiles(timed(lambda query: cluster.search.query(query), QUERIES, rounds)))
        print("  suggest via RPC     ", percentiles(timed(lambda q: cluster.search.suggest(q), SUGGESTS, rounds)))
    print("  floor   via gateway ", percentiles(timed(
        lambda _: http.get(f"{base}/api/suggest", params={"q": ""}).raise_for_status(), range(10), rounds)))
    print("  search  via gateway ", percentiles(timed(lambda url: http.get(url).raise_for_status(), search_urls,
                                                      rounds)))
    print("  suggest via gateway ", percentiles(timed(
        lambda q: http.get(f"{base}/api/suggest", params={"q": q}).raise_for_status(), SUGGESTS, rounds)))


def publish_lag(platform: Platform, count: int) -> None:
    """From a moderator's approval (the event the directory acts on) until the search service finds the record."""
    from nameko.standalone.events import event_dispatcher
    from nameko.standalone.rpc import ClusterRpcProxy

    from tests.factories import organisation_body

    config = {"AMQP_URI": platform.amqp_uri}
    dispatch = event_dispatcher(config)
    lags = []
    with ClusterRpcProxy(config) as cluster:
        for n in range(count):
            name = f"Lagtest {uuid.uuid4().hex[:10]}"
            submission = cluster.directory.submit(organisation_body(name=name))
            started = time.perf_counter()
            dispatch(events.MODERATION, events.SUBMISSION_APPROVED, events.envelope(
                events.MODERATION, events.SUBMISSION_APPROVED,
                {"submission_id": submission["id"], "record_id": submission["record_id"], "reason_code": None,
                 "reason": None, "moderator": "bench"}))
            while not cluster.search.suggest(name, 1):
                if time.perf_counter() - started > 10:
                    raise RuntimeError(f"{name} not searchable after 10 s")
                time.sleep(0.002)
            lags.append(time.perf_counter() - started)
    print("  publish → searchable", percentiles(lags))


# --- main --------------------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "dsi4eu-2017")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        return run(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores ({model}), {memory} GiB RAM"


def load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def run(args, scratch: Path) -> int:
    print(f"search benchmark — {machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {load()}")
    print(f"\n[1] real 2017 data from {args.data}")
    directory_url, real = import_real_data(args.data, scratch)
    engine = SearchEngine(EmbeddedBackend(scratch / "real" / "instance-1"))
    started = time.perf_counter()
    built = engine.rebuild(pages_of(real))
    seconds = time.perf_counter() - started
    print(f"  indexed {built['documents']} records in {seconds:.2f} s: {built['documents'] / seconds:,.0f} records/s")
    params = [parse_params(query) for query in QUERIES]
    print("  search  in process  ", percentiles(timed(engine.query, params, args.rounds)))
    print("  suggest in process  ", percentiles(timed(lambda q: engine.suggest(q, 8), SUGGESTS, args.rounds)))
    engine.backend.close()

    print(f"\n[2] generated set of {args.records:,} records")
    generated = generated_records(args.records, real)
    started = time.perf_counter()
    documents = [document(record) for record in generated]
    print(f"  documents built in {time.perf_counter() - started:.1f} s (shared by both engines)")
    big = SearchEngine(EmbeddedBackend(scratch / "big" / "instance-1"))
    started = time.perf_counter()
    count = big.backend.rebuild(iter(documents))
    seconds = time.perf_counter() - started
    print(f"  tantivy: indexed {count:,} in {seconds:.1f} s: {count / seconds:,.0f} records/s")
    tantivy_search = timed(big.query, params, args.rounds)
    print("  tantivy search      ", percentiles(tantivy_search))
    print("  tantivy suggest     ", percentiles(timed(lambda q: big.suggest(q, 8), SUGGESTS, args.rounds)))
    fts = Fts5Candidate(scratch / "fts5.db")
    started = time.perf_counter()
    fts.index(documents)
    seconds = time.perf_counter() - started
    print(f"  FTS5:    indexed {len(documents):,} in {seconds:.1f} s: {len(documents) / seconds:,.0f} records/s")
    print("  FTS5 search         ", percentiles(timed(fts.query, params, max(1, args.rounds // 4))))
    fts.db.close()
    del documents
    big.backend.close()

    print("\n[3a] services on the real data (directory + search + gateway processes)")
    port = free_port()
    from dsi.migrations import upgrade
    content_url = f"sqlite:///{scratch}/content.db"  # search builds its index from content too (empty here)
    upgrade("content", content_url)
    platform = Platform({"DIRECTORY_DB_URL": directory_url, "CONTENT_DB_URL": content_url,
                         "MEDIA_DIR": str(scratch / "media"), "SEARCH_INDEX_DIR": str(scratch / "svc-real"),
                         "GATEWAY_ADDRESS": f"127.0.0.1:{port}"})
    try:
        for folder, service in (("services/search", "services.search.service:SearchService"),
                                ("services/directory", "services.directory.service:DirectoryService"),
                                ("services/content", "services.content.service:ContentService"),
                                ("gateway", "gateway.service:GatewayService")):
            platform.start(folder, service)
        started = time.perf_counter()
        platform.wait_for(f"http://127.0.0.1:{port}/api/search?q=a")
        platform.sink(events.DIRECTORY, (events.SUBMISSION_RECEIVED, events.SUBMISSION_DECIDED, events.MAIL_REQUESTED))
        print(f"  a new search instance built its index from the directory and answered after "
              f"{time.perf_counter() - started:.1f} s (includes starting four processes)")
        through_services(platform, port, args.rounds)
        publish_lag(platform, 100)
    finally:
        platform.stop()

    print(f"\n[3b] services on the {args.records:,} generated records (search + gateway processes)")
    port += 1
    platform = Platform({"SEARCH_INDEX_DIR": str(scratch / "big"), "SEARCH_CATCH_UP_DELAY": "100000",
                         "GATEWAY_ADDRESS": f"127.0.0.1:{port}"})
    try:
        platform.start("services/search", "services.search.service:SearchService")
        platform.start("gateway", "gateway.service:GatewayService")
        platform.wait_for(f"http://127.0.0.1:{port}/api/search?q=a")
        through_services(platform, port, args.rounds)
    finally:
        platform.stop()
    print(f"\nfinished {time.strftime('%H:%M UTC', time.gmtime())}, {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
