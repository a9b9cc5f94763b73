"""Where the directory's public reads spend their time, in process: queries per call, ms (and CPU ms) per call, the
plans of a list's statements, and a pyinstrument profile of one call (the way the costs of issue 14 were found).

    .venv/bin/python bench/profile_directory.py [--database-url URL] [--records 100000] [--calls 200]
                                                [--explain] [--profile LABEL] [--only WORD]

Imports the real data (the DSI4EU 2017 export) into a fresh database (SQLite in a temporary folder by default;
a PostgreSQL URL must name an empty database), and with `--records N` N generated records on top
(services/directory/demo.py, as `dsi demo-data` makes them). A database that already holds records is used as it
is (migrated to head first), so one loaded database serves several runs: `--keep` leaves it in place.
`--explain` prints each list's statements with their plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on
PostgreSQL).
"""
import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pyinstrument import Profiler
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsi import events  # noqa: E402
from dsi.database import make_engine  # noqa: E402
from dsi.launcher import default_data_path  # noqa: E402
from dsi.messaging import OutboxWriter  # noqa: E402
from dsi.migrations import upgrade  # noqa: E402
from services.directory import demo, importer, records  # noqa: E402
from services.directory.models import Outbox, Record  # noqa: E402


def load(engine, generated: int) -> None:
    outbox = OutboxWriter(Outbox, events.DIRECTORY)
    with Session(engine) as session:
        if session.scalar(select(func.count()).select_from(Record)):
            return
        importer.import_dsi4eu(session, outbox, default_data_path())
        session.commit()
    rng, pairs = random.Random(2017), generated // 2
    for first in range(0, pairs, demo.BATCH):  # in transactions of BATCH pairs, as `dsi demo-data` does
        with Session(engine) as session:
            demo.load_demo(session, outbox, min(demo.BATCH, pairs - first), rng)
            session.commit()
    if engine.dialect.name == "postgresql":  # its autovacuum would soon give the planner these statistics
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def list_calls(session: Session) -> dict:
    """The lists measured: by name, filtered by one and several filters, a page deep in a long list."""
    projects = session.scalar(select(func.count()).where(Record.kind == "project", Record.status == "published"))

    def listing(kind, filters, page, per_page=20):
        return lambda s: records.list_published(s, kind, filters, page, per_page)

    return {
        "organisations, page 3": listing("organisation", {}, 3),
        "projects, page 3": listing("project", {}, 3),
        "organisations, country=ES, page 2": listing("organisation", {"country": ["ES"]}, 2),
        "organisations, type, page 2": listing("organisation", {"type": ["for-profit-business"]}, 2),
        "projects, area, page 2": listing("project", {"area": ["health-and-care"]}, 2),
        "projects, area + country": listing("project", {"area": ["health-and-care"], "country": ["ES", "IT"]}, 1),
        "projects, area + technology + focus": listing("project", {
            "area": ["skills-and-learning", "digital-democracy"], "technology": ["social-networks-and-social-media"],
            "focus": ["open-knowledge"]}, 1),
        "organisations, country + type": listing("organisation", {
            "country": ["GB", "ES"], "type": ["social-enterprise-charity-foundation-or-other-non-profit"]}, 1),
        "projects, deep page": listing("project", {}, max(1, projects // 2 // 20)),
        "projects, area, deep page": listing("project", {"area": ["health-and-care"]}, max(1, projects // 40 // 20)),
    }


def explain(engine, call) -> None:
    statements = []
    listener = lambda _c, _cur, statement, parameters, *_: statements.append((statement, parameters))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    with Session(engine) as session:
        call(session)
    event.remove(engine, "before_cursor_execute", listener)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with engine.connect() as connection:
        for statement, parameters in statements:
            print("   ", " ".join(statement.split())[:400])
            cursor = connection.connection.cursor()
            cursor.execute(prefix + statement, parameters)
            for row in cursor.fetchall():
                print("      ", " ".join(str(column) for column in row))
            cursor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--records", type=int, default=0, help="generated records on top of the real data")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="print the plan of each list's statements")
    parser.add_argument("--profile", default="organisations, page 3", help="the call profiled (a label, or none)")
    parser.add_argument("--only", help="measure only the calls whose label holds this")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite database")
    args = parser.parse_args()
    folder = None
    if not args.database_url:
        folder = tempfile.mkdtemp(prefix="dsi-profile-")
        args.database_url = f"sqlite:///{folder}/d.db"
    upgrade("directory", args.database_url)
    engine = make_engine(args.database_url)
    started = time.perf_counter()
    load(engine, args.records)
    with Session(engine) as session:
        count = session.scalar(select(func.count()).select_from(Record))
        some_project = records.list_published(session, "project", {}, 2, 1)["items"][0]["id"]
        calls = list_calls(session)
    print(f"{count} records ({time.perf_counter() - started:.0f} s to load), {engine.dialect.name}")
    calls.update({
        "one project": lambda s: records.get_published(s, "project", some_project),
        "stats (home and search pages)": records.stats,
    })
    if args.only:
        calls = {label: call for label, call in calls.items() if args.only in label}
    queries = [0]
    event.listen(engine, "before_cursor_execute", lambda *_: queries.__setitem__(0, queries[0] + 1))
    for label, call in calls.items():
        queries[0] = 0
        with Session(engine) as session:
            answer = call(session)
        per_call = queries[0]
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.calls):
            with Session(engine) as session:
                call(session)
        total = f", total {answer['total']}" if isinstance(answer, dict) and "total" in answer else ""
        # this process's CPU (SQLite's work, not PostgreSQL's), which a busy machine does not skew as much
        print(f"{label}: {per_call} queries, {(time.perf_counter() - started) / args.calls * 1000:.2f} ms per call, "
              f"{(time.process_time() - cpu) / args.calls * 1000:.2f} ms CPU{total}")
        if args.explain and label not in ("one project", "stats (home and search pages)"):
            explain(engine, call)
    if args.profile in calls:
        profiler = Profiler()
        with profiler:
            for _ in range(args.calls):
                with Session(engine) as session:
                    calls[args.profile](session)
        print(profiler.output_text(unicode=False, color=False))
    engine.dispose()
    if folder and not args.keep:
        shutil.rmtree(folder)
    elif folder:
        print(f"kept {args.database_url}")


if __name__ == "__main__":
    main()
