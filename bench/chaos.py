"""Chaos benchmark: the platform under `dsi run` on a private RabbitMQ node, a steady load of submissions and
searches, each service SIGKILLed in turn (`--rounds` times) and the broker stopped and started; prints the
figures kept in bench/RESULTS.md: submissions accepted / refused / lost / duplicated, searches fresh / stale /
failed, and the time each killed service took to answer again.

Run: .venv/bin/python bench/chaos.py [--rounds 3] [--rate 12] [--settle 5] [--scale search=2]
"""
import eventlet

eventlet.monkey_patch()  # the load runs in green threads, as in the chaos test

import argparse  # noqa: E402
import os  # noqa: E402
import platform as machine  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

from tests.chaos.broker import start_broker  # noqa: E402
from tests.chaos.load import (VICTIMS, Approver, Load, copies_sent_twice, dsi, kill_and_wait,  # noqa: E402
                              mails_made_twice, moderation_queue, spool_waiting)
from tests.processes import LaunchedPlatform, free_port, wait_for  # noqa: E402



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="how many times each service is killed")
    parser.add_argument("--rate", type=float, default=12, help="submissions (and searches) per second")
    parser.add_argument("--settle", type=float, default=5, help="seconds of load between faults")
    parser.add_argument("--scale", action="append", default=[], metavar="SERVICE=N")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dsi-chaos-"))
    (folder / "broker").mkdir()
    (folder / "platform").mkdir()
    broker = start_broker(folder / "broker")
    scale = [value for pair in args.scale for value in ("--scale", pair)]
    platform = LaunchedPlatform(folder / "platform", broker.amqp_uri, free_port(), free_port(), scale,
                                env={"RATE_LIMIT_SUBMIT": "1000000/hour"})
    try:
        return run(platform, broker, args)
    finally:
        platform.kill_everything()
        broker.shutdown()


def run(platform, broker, args) -> int:
    platform.wait_until_ready()
    password = secrets.token_urlsafe(16)
    dsi(platform, "create-admin", "chaos@example.org", "--password-stdin", stdin=password + "\n")
    load = Load(platform.url, per_second=args.rate)
    approver = Approver(platform, load, "chaos@example.org", password)
    recovery = {victim: [] for victim in (*VICTIMS, "broker")}
    started = time.monotonic()
    load.start()
    approver.start()
    try:
        time.sleep(args.settle)
        for _ in range(args.rounds):
            for victim in VICTIMS:
                recovery[victim].append(kill_and_wait(platform, victim))
                time.sleep(args.settle)
        if broker.can_restart:
            broker.stop_app()
            time.sleep(3)
            broker.start_app()
            back = time.monotonic()
            wait_for(platform.answers, 120, step=0.2)
            recovery["broker"].append(time.monotonic() - back)
            time.sleep(args.settle)
    finally:
        approver.stop()
        load.stop()
    elapsed = time.monotonic() - started
    folder = platform.folder
    wait_for(lambda: spool_waiting(folder) == 0, 120)
    wait_for(lambda: set(moderation_queue(folder)) >= set(load.accepted), 120)
    queued = moderation_queue(folder)
    lost = [item for item in load.accepted if queued[item] == 0]
    duplicated = [item for item in load.accepted if queued[item] > 1]
    checked = wait_for(lambda: dsi(platform, "search-check").returncode == 0, 120)

    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {machine.node()} ({machine.machine()}, "
          f"{os.cpu_count()} CPUs, Python {machine.python_version()}), load average {os.getloadavg()[0]:.1f}")
    print(f"{elapsed:.0f} s of load at {args.rate}/s submissions and searches; {args.rounds} round(s) of kills"
          + (f"; {' '.join(args.scale)}" if args.scale else ""))
    print(f"submissions: accepted {len(load.accepted)}, refused {len(load.refused)}, lost {len(lost)}, "
          f"duplicated {len(duplicated)}")
    total = sum(load.searches.values())
    print(f"searches: {total}; fresh {load.searches['fresh']}, stale {load.searches['stale']}, "
          f"failed {load.searches['failed']} ({100 * load.searches_answered:.2f} % answered)")
    print(f"approvals during the faults: {len(approver.approved)}; "
          f"search index agrees with the directory: {bool(checked)}")
    print(f"mails made twice: {len(mails_made_twice(folder))}; mails sent twice (a sender killed between sending "
          f"and marking sent): {len(copies_sent_twice(folder))}")
    print("| killed | n | median s to answer again | max s |")
    print("| --- | --- | --- | --- |")
    for victim, times in recovery.items():
        if times:
            print(f"| {victim} | {len(times)} | {statistics.median(times):.1f} | {max(times):.1f} |")
    return 0 if not (load.refused or lost or duplicated) else 1


if __name__ == "__main__":
    sys.exit(main())
