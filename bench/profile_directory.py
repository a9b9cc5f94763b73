"""Where the directory's public reads spend their time, in process: queries per call, ms per call, and a
pyinstrument profile of the list (the way the costs of issue 14 were found).

    .venv/bin/python bench/profile_directory.py [--database-url URL] [--calls 200]

Imports the real data (the DSI4EU 2017 export) into a fresh database (SQLite in a temporary folder by default;
a PostgreSQL URL must name an empty database).
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

from pyinstrument import Profiler
from sqlalchemy import event
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsi import events  # noqa: E402
from dsi.database import make_engine  # noqa: E402
from dsi.launcher import default_data_path  # noqa: E402
from dsi.messaging import OutboxWriter  # noqa: E402
from dsi.migrations import upgrade  # noqa: E402
from services.directory import importer, records  # noqa: E402
from services.directory.models import Outbox  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=f"sqlite:///{tempfile.mkdtemp(prefix='dsi-profile-')}/d.db")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    upgrade("directory", args.database_url)
    engine = make_engine(args.database_url)
    with Session(engine) as session:
        importer.import_dsi4eu(session, OutboxWriter(Outbox, events.DIRECTORY), default_data_path())
        session.commit()
    with Session(engine) as session:
        some_project = records.list_published(session, "project", {}, 2, 1)["items"][0]["id"]
    queries = [0]
    event.listen(engine, "before_cursor_execute", lambda *_: queries.__setitem__(0, queries[0] + 1))
    calls = {
        "list organisations, page 3": lambda s: records.list_published(s, "organisation", {}, 3, 20),
        "list projects, area + country": lambda s: records.list_published(
            s, "project", {"area": ["health-and-care"], "country": ["ES", "IT"]}, 1, 20),
        "one project": lambda s: records.get_published(s, "project", some_project),
        "stats (home and search pages)": records.stats,
    }
    for label, call in calls.items():
        queries[0] = 0
        with Session(engine) as session:
            call(session)
        per_call = queries[0]
        started = time.perf_counter()
        for _ in range(args.calls):
            with Session(engine) as session:
                call(session)
        print(f"{label}: {per_call} queries, {(time.perf_counter() - started) / args.calls * 1000:.1f} ms per call")
    profiler = Profiler()
    with profiler:
        for _ in range(args.calls):
            with Session(engine) as session:
                calls["list organisations, page 3"](session)
    print(profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    main()
