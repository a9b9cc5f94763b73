"""CPU milliseconds each process of the platform spends per public read, route by route: what bench/load.py's
req/s come from, measured in a way a busy machine does not skew (the kernel's count of each process's CPU time
before and after N requests, not the wall clock).

    .venv/bin/python bench/cpu_per_request.py [--requests 300] [--concurrency 4] [--routes home record]
                                              [--records 100000] [--postgres URL] [--keep]

Starts `dsi run` on the real data (or `--records` generated ones) as bench/load.py does (its own folder, vhost,
ports and, with `--postgres`, PostgreSQL databases), builds the same mix of distinct paths, then for each route
sends N of them from a few threads and prints, per process (gateway, directory, content, search, the launcher…),
the CPU ms per request, and the median wall-clock ms. The broker's and the database server's CPU are counted too
(`rabbitmq`, and `postgresql` with `--postgres`): every process of theirs on this machine, so the figures hold only
where nothing else uses them meanwhile.
"""
import argparse
import os
import random
import shutil
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import (PostgresDatabases, build_mix, cpu_now, cpu_spent, generate_records,  # noqa: E402
                        platform_env, platform_processes, say, scratch_run, servers, start_platform)


def run_route(url: str, paths: list[str], count: int, concurrency: int) -> list[float]:
    """`count` requests (paths taken in turn) from `concurrency` threads; the wall-clock ms of each."""
    timings, lock, next_index, failures = [], threading.Lock(), [0], []

    def worker():
        session = requests.Session()
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= count:
                return
            started = time.perf_counter()
            answer = session.get(url + paths[index % len(paths)], timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code >= 400:  # measured on answers only: the run stops with what failed
                failures.append(f"{paths[index % len(paths)]}: {answer.status_code}")
                return
            with lock:
                timings.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit("not an answer: " + ", ".join(failures))
    return timings


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per route")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--routes", nargs="*", help="only the routes whose names start with these")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--records", type=int, default=0, help="generated records in place of the real data")
    parser.add_argument("--built-in-words", action="store_true", help="generated records of the demo's 19 words "
                        "and nine cities instead of the export's words and places")
    parser.add_argument("--postgres", metavar="URL", help="each service's database a fresh one on this PostgreSQL "
                        "server instead of SQLite")
    parser.add_argument("--keep", action="store_true", help="leave the platform running (Ctrl-C stops it)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the platform as Ctrl-C does

    folder, vhost, processes, marker, port, url = scratch_run("cpu")
    databases = PostgresDatabases(args.postgres) if args.postgres else None
    try:
        env = platform_env(folder, vhost.uri, port, marker, databases.urls() if databases else None)
        if args.records:
            generate_records(env, args.records, args.built_in_words)
        published = start_platform(processes, env, url, vhost, marker)
        mix = build_mix(url, random.Random(args.seed))
        if args.routes:
            mix = {name: paths for name, paths in mix.items() if name.startswith(tuple(args.routes))}
        measured = lambda: platform_processes(marker) | servers(bool(args.postgres))  # noqa: E731  (pid → name)
        names = sorted(set(platform_processes(marker).values())) + sorted(set(servers(bool(args.postgres)).values()))
        say(f"platform ready: {published} records; {args.requests} requests per route from {args.concurrency} "
            f"threads; load average {os.getloadavg()[0]:.1f}")
        say("| route | wall p50 ms | " + " | ".join(f"{name} CPU ms" for name in names) + " |")
        say("| --- | --- | " + " | ".join("---" for _ in names) + " |")
        for route, paths in mix.items():
            run_route(url, paths, min(20, args.requests), args.concurrency)  # warm: templates, statement caches
            before = cpu_now(measured())
            timings = run_route(url, paths[20:] or paths, args.requests, args.concurrency)
            spent = cpu_spent(measured(), before)
            say(f"| {route} | {statistics.median(timings):.1f} | "
                + " | ".join(f"{spent.get(name, 0.0) * 1000 / args.requests:.2f}" for name in names) + " |")
        if args.keep:
            say(f"running at {url}; Ctrl-C stops it")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        processes.stop_all()
        vhost.delete()
        if databases:
            databases.drop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
