"""Where the directory's public reads spend their time, in process: queries per call, ms (and CPU ms) per call, the
plans of a list's statements, and a pyinstrument profile of one call (the way the costs of issue 14 were found).

    .venv/bin/python bench/profile_directory.py [--database-url URL] [--records 100000] [--calls 200]
                                                [--explain] [--profile LABEL] [--only WORD] [--rpc] [--py-spy]

Imports the real data (the DSI4EU 2017 export) into a fresh database (SQLite in a temporary folder by default;
a PostgreSQL URL must name an empty database), and with `--records N` N generated records on top
(services/directory/demo.py, as `dsi demo-data` makes them). A database that already holds records is used as it
is (migrated to head first), so one loaded database serves several runs: `--keep` leaves it in place.
`--explain` prints each list's statements with their plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on
PostgreSQL).
`--rpc` measures the same calls through nameko instead: the directory service runs on that database (`nameko
run`, a RabbitMQ vhost of its own), called over RPC from here, one call at a time; the CPU ms per call are the
service process's (the kernel's count), with a bare RPC echoing its argument beside it (nameko's floor).
`--py-spy` (with `--rpc`) records the service meanwhile: its stacks per call, collapsed (flamegraph.pl or
speedscope read them), in var/profile-directory/.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyinstrument import Profiler
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import cpu_seconds  # noqa: E402
from dsi import events  # noqa: E402
from dsi.database import make_engine  # noqa: E402
from services.directory.commands import default_data_path  # noqa: E402
from dsi.validation import MAX_DEPTH  # noqa: E402
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
    """The lists measured: by name, filtered by one and several filters, a page deep in a long list; label → the
    arguments of records.list_published (and of the service's list_records) after the session."""
    projects = session.scalar(select(func.count()).where(Record.kind == "project", Record.status == "published"))

    def listing(kind, filters, page, per_page=20):
        return kind, filters, page, per_page

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
        # as deep as allowed
        "projects, deep page": listing("project", {}, max(1, min(projects // 2, MAX_DEPTH) // 20)),
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


def rpc_calls(session: Session) -> dict:
    """The in-process calls as RPCs of the directory: label → (method, args)."""
    some_project = records.list_published(session, "project", {}, 2, 1)["items"][0]["id"]
    some_organisation = records.list_published(session, "organisation", {}, 2, 1)["items"][0]["id"]
    return {
        "one project": ("get_record", ("project", some_project)),
        "one organisation": ("get_record", ("organisation", some_organisation)),
        **{label: ("list_records", arguments) for label, arguments in list_calls(session).items()},
    }


def measure_rpc(database_url: str, calls: dict, count: int, py_spy: bool) -> None:
    """Each call `count` times over RPC to a directory service on `database_url`: its process's CPU per call."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from bench.load import Processes, Vhost
    folder = Path(tempfile.mkdtemp(prefix="dsi-profile-rpc-"))
    vhost, processes = Vhost(), Processes(folder)
    env = {**os.environ, "AMQP_URI": vhost.uri, "DIRECTORY_DB_URL": database_url, "PYTHONWARNINGS": "ignore",
           "DIRECTORY_DELIVERY_COUNTS": str(folder / "counts.sqlite"),
           "SECRET_KEY": os.environ.get("SECRET_KEY", "profile-directory-" + "x" * 40)}
    echo_config = folder / "echo.yml"
    echo_config.write_text(json.dumps({"AMQP_URI": vhost.uri, "max_workers": 10}))
    nameko = [sys.executable, "-m", "nameko", "run", "--config"]
    services = {
        "directory": processes.start("directory", nameko + [str(ROOT / "services/directory/config.yml"),
                                                            "services.directory.service:DirectoryService"], env),
        "echo": processes.start("echo", nameko + [str(echo_config), "bench.floors:Echo"], env),
    }
    calls = {"bare RPC (floor)": ("echo", None), **calls}
    spies = Path(ROOT / "var/profile-directory")
    try:
        with ClusterRpcProxy({"AMQP_URI": vhost.uri}) as cluster:
            for _ in range(600):  # until both answer
                try:
                    cluster.floor_echo.echo("up")
                    cluster.directory.health()
                    break
                except Exception:  # not up yet
                    for name, process in services.items():
                        if process.poll() is not None:
                            raise SystemExit(f"{name} ended: " + (folder / f"{name}.log").read_text()[-3000:])
                    time.sleep(0.2)
            for label, (method, args) in calls.items():
                service = "echo" if method == "echo" else "directory"
                proxy = cluster.floor_echo.echo if method == "echo" else getattr(cluster.directory, method)
                call = (lambda: proxy("ok")) if args is None else (lambda: proxy(*args))
                for _ in range(50):  # warm: statement caches, connections
                    call()
                pid = services[service].pid
                spy = None
                if py_spy:
                    spies.mkdir(parents=True, exist_ok=True)
                    out = spies / (label.replace(" ", "_").replace(",", "").replace("+", "and") + ".txt")
                    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid),
                                            "-o", str(out), "-r", "500", "--nonblocking", "-f", "raw"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1)
                before, started = cpu_seconds(pid), time.perf_counter()
                for _ in range(count):
                    call()
                spent, took = cpu_seconds(pid) - before, time.perf_counter() - started
                if spy is not None:
                    spy.send_signal(2)
                    spy.wait()
                print(f"{label} (RPC {method}): {spent / count * 1000:.2f} ms of the service's CPU per call, "
                      f"{took / count * 1000:.2f} ms per call", flush=True)
    finally:
        processes.stop_all()
        vhost.delete()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--records", type=int, default=0, help="generated records on top of the real data")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="print the plan of each list's statements")
    parser.add_argument("--profile", default="organisations, page 3", help="the call profiled (a label, or none)")
    parser.add_argument("--only", help="measure only the calls whose label holds this")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite database")
    parser.add_argument("--rpc", action="store_true", help="measure the calls over RPC to a running service")
    parser.add_argument("--py-spy", action="store_true", help="with --rpc: py-spy stacks of each call (collapsed)")
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
        calls = {label: (lambda s, arguments=arguments: records.list_published(s, *arguments))
                 for label, arguments in list_calls(session).items()}
    print(f"{count} records ({time.perf_counter() - started:.0f} s to load), {engine.dialect.name}")
    if args.rpc:
        with Session(engine) as session:
            calls = rpc_calls(session)
            # the loading's events, which nothing here consumes: left unsent, the service's relay would keep
            # trying them every second (publishing unroutable messages) while it is measured
            session.execute(update(Outbox).where(Outbox.sent_at.is_(None)).values(sent_at=func.now()))
            session.commit()
        engine.dispose()
        if args.only:
            calls = {label: call for label, call in calls.items() if args.only in label}
        measure_rpc(args.database_url, calls, args.calls, args.py_spy)
        if folder and not args.keep:
            shutil.rmtree(folder)
        return
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
