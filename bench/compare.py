"""Two builds of the platform side by side: the same distinct requests sent to each in turn, and the CPU milliseconds
each build's processes (and RabbitMQ) spent per request, route by route.

    (in each checkout)  .venv/bin/python bench/cpu_per_request.py --keep --routes home   # prints "running at URL"
    .venv/bin/python bench/compare.py BEFORE_CHECKOUT BEFORE_URL AFTER_CHECKOUT AFTER_URL
                                      [--routes "api record" "search page"] [--rounds 6] [--requests 400]

The builds take turns in rounds of a few hundred requests (the first of each pair changing every round), so both
see the same host: on a shared machine whose speed drifts by a third within minutes, two runs of
bench/cpu_per_request.py one after the other cannot show a change of a tenth. A build's processes are the
`nameko run` processes started from its checkout; RabbitMQ's CPU is counted for each build while it is asked.
"""
import argparse
import os
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cpu_per_request import run_route  # noqa: E402
from bench.load import build_mix, cpu_now, cpu_spent, running_commands, servers, service_of  # noqa: E402


def build_processes(checkout: Path) -> dict[int, str]:
    """pid → service name of the `nameko run` processes started from `checkout`."""
    config = f"--config {checkout.resolve()}/"
    found = {pid: service_of(command) for pid, command in running_commands()
             if "nameko run" in command and config in command}
    if not found:
        raise SystemExit(f"no service of {checkout} runs: start one with bench/cpu_per_request.py --keep there")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("before_url")
    parser.add_argument("after", type=Path)
    parser.add_argument("after_url")
    parser.add_argument("--routes", nargs="+", default=["api record", "record page", "api search (facets)",
                                                        "search page"])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=400, help="per build, route and round")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    builds = {"before": (args.before_url, build_processes(args.before)),
              "after": (args.after_url, build_processes(args.after))}
    broker = servers(postgres=False)
    mix = build_mix(args.after_url, random.Random(args.seed))
    unknown = [route for route in args.routes if route not in mix]
    if unknown:
        raise SystemExit(f"no such route: {unknown}; the mix has {sorted(mix)}")
    print(f"{args.requests} requests per build, route and round, {args.rounds} rounds, 4 threads; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| route | build | CPU ms/request, all | per process |")
    print("| --- | --- | --- | --- |")
    for route in args.routes:
        paths, spent = mix[route], {name: Counter() for name in builds}
        for round_ in range(args.rounds):
            order = list(builds) if round_ % 2 == 0 else list(reversed(builds))
            start = round_ * args.requests % len(paths)
            chosen = (paths[start:] + paths[:start])[:args.requests]
            for name in order:
                url, processes = builds[name]
                measured = processes | broker
                before = cpu_now(measured)
                run_route(url, chosen, args.requests, 4)
                spent[name].update(cpu_spent(measured, before))
        requests = args.requests * args.rounds
        for name in builds:
            per = {label: 1000 * seconds / requests for label, seconds in sorted(spent[name].items()) if seconds}
            detail = ", ".join(f"{label} {ms:.2f}" for label, ms in per.items())
            print(f"| {route} | {name} | {sum(per.values()):.2f} | {detail} |")


if __name__ == "__main__":
    main()
