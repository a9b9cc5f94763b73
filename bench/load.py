"""The platform under load: a fixed mix of public requests, each route measured with `wrk`, beside the
framework's floors.

    .venv/bin/python bench/load.py [--records 100000 [--built-in-words]] [--connections 16 64] [--duration 10]
                                   [--soak 600] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Starts `dsi run` on a throwaway folder (its own SQLite databases, search index, ports) and its own RabbitMQ vhost,
loaded with the real data (the DSI4EU 2017 export, as `dsi run` imports it) or, with `--records N`, N generated
records instead (`dsi demo-data`: `dsi run` imports the export only into an empty directory; the content service
keeps its editorial texts and demo items either way), made of the export's words and places, or with
`--built-in-words` of the demo's 19 words and nine cities (each word of a name in a tenth to three quarters of the
records: the worst case for search, and the 100,000-record rows of bench/RESULTS.md before its twelfth session);
with `--postgres`, every service's database is a fresh one on that PostgreSQL server (the production setting),
dropped at the end. Beside it, in the same run, the floors of bench/floors.py: a nameko `@http` answering "ok",
`@http` → one RPC → reply with nameko's defaults, and the same through the platform's own RPC (transient request,
lean reply), each measured before the first route and after each route (for half the time of a route): a route's
ratio is to the floors around it.
Each route gets 4,000 distinct addresses (a wrk Lua script walks through them; where a route has fewer — the home
page in seven languages, the few words of generated records — the same addresses again with a parameter the answer
ignores, `visit=N`), and each request gets a parameter of its own (`distinct=`), so no two requests of any run
are alike and no cache helps; two routes of repeated reads then ask again for what the gateway keeps: conditional
(If-None-Match with the ETag the gateway gave: HTTP caching, a 304) and plain (the gateway's kept answer, from
memory); for each route and number of connections it prints req/s, p50 and p99, the ratio of its req/s to each
floor's, and the CPU time all processes spent per request (the platform's, the floors', the broker's, the database
server's, wrk's: what a request cost, where req/s says how many went through) with the RPC floor's to it; then the
floors' runs, then the RSS of every service. `--soak SECONDS` then runs the whole mix at 16 connections for that
long, sampling every service's RSS.
Everything listens on 127.0.0.1 only; every wrk run is bounded by --duration (or --soak).
`make bench` installs wrk (Debian's package) when it is missing.
"""
import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsi import vocab  # noqa: E402
from dsi.database import create_databases, drop_databases  # noqa: E402
from services.directory.commands import default_data_path  # noqa: E402
from tests.processes import free_port  # noqa: E402

RABBIT_API = "http://127.0.0.1:15672/api"
RABBIT_AUTH = ("guest", "guest")
LANGUAGES = ("", "/de", "/fr", "/it", "/es", "/ca", "/pl")
AREAS = ("health-and-care", "skills-and-learning", "digital-democracy", "culture-and-arts", "work-and-employment",
         "food-environment-and-climate-change")
assert set(AREAS) <= set(vocab.SOCIAL_AREAS), "a list filter on a slug outside the vocabulary finds nothing"
TYPES = tuple(vocab.ORGANISATION_TYPES)
COUNTRIES = ("ES", "IT", "GB", "DE", "FR", "NL", "PL", "BE", "GR", "PT")
PATHS_PER_ROUTE = 4000
MAX_LISTED = 10_000  # page × per_page of a list stays within this (deeper is the export's job: a 422 otherwise)
# A visitor's browser (or nginx) asking again for what it holds: answered 304 from the gateway's memory while fresh.
REPEATED = "repeated reads (If-None-Match → 304)"
# Many visitors asking for the same addresses: the gateway's kept answer, from memory while fresh.
POPULAR = "repeated reads (no validator → kept answer)"
REPEATED_PATHS = 60
WRK_THREADS = 2
DATABASE_SERVICES = ("directory", "moderation", "newsletter", "content")

LUA = """
local paths = {%(paths)s}
local etags = {%(etags)s}
local distinct = %(distinct)s
local threads = 0
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
function init(args)
  counter = offset
end
function request()
  local index = (counter %% #paths) + 1
  local path = paths[index]
  if distinct then  -- a parameter the answer ignores, never the same twice: no cache answers a request of the run
    path = path .. (string.find(path, "?", 1, true) and "&" or "?") .. "distinct=%(run)s-" .. counter
  end
  counter = counter + %(threads)d
  if etags[index] then
    return wrk.format("GET", path, {["If-None-Match"] = etags[index]})
  end
  return wrk.format("GET", path)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, \\"p99_us\\": %%d, "
    .. "\\"status_errors\\": %%d, \\"socket_errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def say(message: str) -> None:
    print(message, flush=True)


# --- what runs -------------------------------------------------------------------------------------------------

class Vhost:
    """A RabbitMQ vhost of this run only, deleted at the end."""

    def __init__(self):
        self.name = f"bench-load-{uuid.uuid4().hex[:8]}"
        requests.put(f"{RABBIT_API}/vhosts/{self.name}", auth=RABBIT_AUTH, timeout=10).raise_for_status()
        requests.put(f"{RABBIT_API}/permissions/{self.name}/guest", auth=RABBIT_AUTH, timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        self.uri = f"amqp://guest:guest@127.0.0.1:5672/{self.name}"

    def delete(self):
        requests.delete(f"{RABBIT_API}/vhosts/{self.name}", auth=RABBIT_AUTH, timeout=10)


class PostgresDatabases:
    """A fresh PostgreSQL database per service on `server` (a URL of the server's admin database), dropped at the
    end: the production setting, measured with the same mix."""

    def __init__(self, server: str):
        self.server = server
        self.names = {service: f"bench_load_{uuid.uuid4().hex[:8]}_{service}" for service in DATABASE_SERVICES}
        self.made = create_databases(server, self.names.values())

    def urls(self) -> dict[str, str]:
        return {service: self.made[name] for service, name in self.names.items()}

    def drop(self):
        drop_databases(self.server, self.names.values())


class Processes:
    """Every process this run started, each in a session of its own: stopped together at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.started.append(process)
        return process

    def stop_all(self):
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def settled(vhost: str) -> bool:
    """No message waits in any queue of the run's vhost: the start-up's events are all handled (100,000 generated
    records are 100,000 record_published events for search, the newsletter and every gateway, and each marks the
    gateway's kept answers out of date: measured before they are handled, a run measures their digestion)."""
    queues = requests.get(f"{RABBIT_API}/queues/{vhost}", auth=RABBIT_AUTH, timeout=5).json()
    return all(queue.get("messages", 1) == 0 for queue in queues)


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def servers(postgres: bool) -> dict[int, str]:
    """pid → "rabbitmq" or "postgresql" for the processes of the servers the platform uses on this machine."""
    programs = {"beam.smp": "rabbitmq"} | ({"postgres": "postgresql"} if postgres else {})
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            program = (entry / "comm").read_text().strip() if entry.name.isdigit() else None
        except OSError:
            continue
        if program in programs:
            found[int(entry.name)] = programs[program]
    return found


def cpu_now(pids) -> dict[int, float]:
    """CPU seconds so far of each process of `pids` still there."""
    now = {}
    for pid in pids:
        try:
            now[pid] = cpu_seconds(pid)
        except OSError:  # it ended since it was listed (a database connection closed)
            pass
    return now


def cpu_spent(pids: dict[int, str], before: dict[int, float]) -> dict[str, float]:
    """CPU seconds per name since `before` (a process gone meanwhile counts for nothing; one new, all it used)."""
    spent: dict[str, float] = {name: 0.0 for name in pids.values()}
    for pid, seconds in cpu_now(pids).items():
        spent[pids[pid]] += seconds - before.get(pid, 0.0)
    return spent


class CpuCount:
    """The CPU time every process of a run spends during a wrk run — the platform's, the floors', the broker's, the
    database server's and wrk's own — per request answered: what a request cost, beside how many went through. The
    host's speed moves it too (the RPC floor's 2.3–2.5 ms at one time of a day, 3.1–3.4 an hour later)."""

    def __init__(self, marker: str, processes: "Processes", postgres: bool):
        self.marker, self.processes, self.postgres = marker, processes, postgres

    def _pids(self) -> dict[int, str]:
        started = {process.pid: "started" for process in self.processes.started if process.poll() is None}
        return started | platform_processes(self.marker) | servers(self.postgres)

    def per_request(self, run) -> dict:
        """`run()`'s wrk result with `cpu_ms`, the CPU milliseconds spent per request while it ran."""
        before, children = cpu_now(self._pids()), _children_cpu()
        got = run()
        spent = sum(cpu_spent(self._pids(), before).values()) + _children_cpu() - children  # processes listed
        # again: a database connection opened meanwhile counts with all it used
        return {**got, "cpu_ms": 1000 * spent / max(1, got["requests"])}


def _children_cpu() -> float:
    """CPU seconds of this program's children that ended (wrk's runs), so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def quiet(marker: str, window: float = 5.0) -> bool:
    """The platform's processes used less than a tenth of a core over `window` seconds: the work the start left
    (the search index merging its segments after 100,000 records, read models catching up) is done."""
    pids = platform_processes(marker)
    before = {pid: cpu_seconds(pid) for pid in pids}
    time.sleep(window)
    return sum(cpu_seconds(pid) - before[pid] for pid in pids) < 0.1 * window


def generate_records(env: dict, records: int, built_in_words: bool = False) -> None:
    """`records` generated records (half organisations, half projects) in the platform's directory, before it
    starts: `dsi run` then finds the directory filled and imports no export, so the run holds these only."""
    subprocess.run([sys.executable, "-m", "dsi.cli", "migrate"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    started = time.monotonic()
    words = ["--built-in"] if built_in_words else []
    subprocess.run([sys.executable, "-m", "dsi.cli", "demo-data", "--count", str(records // 2), *words],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    say(f"generated {records} records in {time.monotonic() - started:.0f} s")


def start_platform(processes: "Processes", env: dict, url: str, vhost: "Vhost", marker: str) -> int:
    """`dsi run`, waited for until it answers, search holds every published record, the start-up's events are
    handled and its processes are quiet; the number of published records."""
    platform = processes.start("dsi-run", [sys.executable, "-m", "dsi.cli", "run"], env)
    wait_until(lambda: requests.get(f"{url}/healthz", timeout=5).ok, 600, "dsi run", platform)
    expected = wait_until(lambda: _answer(f"{url}/api/stats"), 600, "the directory's counts", platform)
    published = expected["organisations"] + expected["projects"]
    wait_until(lambda: requests.get(f"{url}/api/search", params={"per_page": 1}, timeout=30).json()["total"]
               >= published, 1800, "search index complete", platform)
    # the directory's outbox relays the start's events in batches, so the queues are empty between two batches
    # while there is more to come: done when they are empty and the processes idle, one after the other
    wait_until(lambda: settled(vhost.name) and quiet(marker) and settled(vhost.name), 1800,
               "the start-up's events handled", platform)
    return published


def scratch_run(name: str) -> tuple[Path, "Vhost", "Processes", str, int, str]:
    """What one run of the platform gets to itself: a folder, a RabbitMQ vhost, its processes, the marker in their
    environment, a port and the address on it."""
    folder, port = Path(tempfile.mkdtemp(prefix=f"dsi-bench-{name}-")), free_port()
    return (folder, Vhost(), Processes(folder), f"DSI_BENCH_{name.upper()}_{uuid.uuid4().hex}", port,
            f"http://127.0.0.1:{port}")


def platform_env(folder: Path, amqp_uri: str, port: int, marker: str,
                 databases: dict[str, str] | None = None) -> dict:
    """As tests/processes.py LaunchedPlatform: every database, index, folder and port of this run's own; the
    databases SQLite files in `folder` unless `databases` names them (service → URL)."""
    return {**os.environ, marker: "1", "AMQP_URI": amqp_uri, "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "GATEWAY_ADDRESS": f"127.0.0.1:{port}", "SEARCH_INDEX_DIR": str(folder / "search"),
            "MAIL_SINK_DIR": str(folder / "mail"), "SMTP_PORT": str(free_port()), "MEDIA_DIR": str(folder / "media"),
            "PYTHONWARNINGS": "ignore",
            **{f"{service.upper()}_DB_URL": (databases or {}).get(service, f"sqlite:///{folder}/{service}.db")
               for service in DATABASE_SERVICES}}


def _answer(address: str) -> dict | None:
    """A JSON answer, or None while the platform answers otherwise (a 503 while a service starts)."""
    answer = requests.get(address, timeout=30)
    return answer.json() if answer.ok else None


def wait_until(condition, seconds: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            answer = condition()
            if answer:
                return answer
        except (requests.RequestException, KeyError, ValueError):  # not up yet, or an error answer while starting
            pass
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{what}: the process ended (code {process.returncode})")
        time.sleep(0.5)
    raise SystemExit(f"{what}: not within {seconds} s")


def start_floors(processes: Processes, amqp_uri: str) -> dict[str, str]:
    """The floors of bench/floors.py, each in a `nameko run` of its own: name → base URL."""
    ports = {"bare": free_port(), "rpc": free_port(), "platform": free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    for name, service, port in (("floor-bare", "bench.floors:BareHttp", ports["bare"]),
                                ("floor-gateway", "bench.floors:HttpToRpc", ports["rpc"]),
                                ("floor-echo", "bench.floors:Echo", free_port()),
                                ("floor-platform-gateway", "bench.floors:HttpToPlatformRpc", ports["platform"]),
                                ("floor-platform-echo", "bench.floors:PlatformEcho", free_port())):
        config = processes.folder / f"{name}.yml"
        config.write_text(json.dumps({"AMQP_URI": amqp_uri, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                                      "max_workers": 10}))
        processes.start(name, [sys.executable, "-m", "nameko", "run", "--config", str(config), service],
                        {**os.environ, "PYTHONWARNINGS": "ignore"})
    wait_until(lambda: requests.get(urls["bare"] + "/ok", timeout=2).ok, 60, "floor @http")
    wait_until(lambda: requests.get(urls["rpc"] + "/rpc", timeout=2).ok, 60, "floor @http → RPC")
    wait_until(lambda: requests.get(urls["platform"] + "/rpc", timeout=2).ok, 60, "floor @http → the platform's RPC")
    return urls


# --- the mix ---------------------------------------------------------------------------------------------------

def collect_ids(url: str, segment: str, pages: int = 40) -> list[int]:
    ids = []
    for page in range(1, pages + 1):
        items = requests.get(f"{url}/api/{segment}", params={"page": page, "per_page": 100}, timeout=30).json()["items"]
        ids += [item["id"] for item in items]
        if len(items) < 100:
            break
    return ids


def words_of(names: list[str]) -> list[str]:
    words = {word.lower() for name in names for word in re.findall(r"[^\W\d_]{3,}", name)}
    return sorted(words)


def build_mix(url: str, rng: random.Random) -> dict[str, list[str]]:
    """Route name → distinct request paths."""
    organisations, projects = collect_ids(url, "organisations"), collect_ids(url, "projects")
    names = [item["name"] for page in (1, 2, 3, 4, 5) for segment in ("organisations", "projects")
             for item in requests.get(f"{url}/api/{segment}", params={"page": page, "per_page": 100},
                                      timeout=30).json()["items"]]
    words = words_of(names)
    total = {segment: requests.get(f"{url}/api/{segment}", timeout=30).json()["total"]
             for segment in ("organisations", "projects")}

    def distinct(make) -> list[str]:
        """PATHS_PER_ROUTE different addresses; where `make` gives fewer, they come again with `visit=N`."""
        seen = {}
        for _ in range(PATHS_PER_ROUTE * 20):
            seen.setdefault(make(), None)
            if len(seen) >= PATHS_PER_ROUTE:
                break
        made = list(seen)
        paths, visit = list(made), 0
        while len(paths) < PATHS_PER_ROUTE:
            visit += 1
            paths += [path + ("&" if "?" in path else "?") + f"visit={visit}" for path in made]
        return paths[:PATHS_PER_ROUTE]

    def list_path():
        segment = rng.choice(("organisations", "projects"))
        pages = max(1, min(total[segment], MAX_LISTED) // 30)
        choice = rng.random()
        if choice < 0.4:
            return f"/api/{segment}?page={rng.randint(1, pages)}&per_page={rng.choice((10, 20, 30))}"
        if choice < 0.7:
            return f"/api/{segment}?country={rng.choice(COUNTRIES)}&page={rng.randint(1, 3)}"
        # each kind by a filter of its own in a country (organisations have no social area: that is a 422)
        own = f"area={rng.choice(AREAS)}" if segment == "projects" else f"type={rng.choice(TYPES)}"
        return f"/api/{segment}?{own}&country={rng.choice(COUNTRIES)}&page={rng.randint(1, 2)}"

    def query(count: int) -> str:
        return quote(" ".join(rng.choice(words) for _ in range(count)))

    record_ids = [("organisations", i) for i in organisations] + [("projects", i) for i in projects]
    # content pages only where this build serves them (the content site may not be there yet)
    served = [segment for segment in ("stories", "events", "funding", "resources", "case-studies")
              if requests.get(f"{url}/{segment}", timeout=30).status_code == 200]
    if not served:
        say("content pages: none served by this build (/stories, /events, …): not measured")
    mix = {
        "api list (filters, pages)": distinct(list_path),
        "api record": distinct(lambda: "/api/%s/%d" % rng.choice(record_ids)),
        "record page": distinct(lambda: "%s/%s/%d" % (rng.choice(LANGUAGES), *rng.choice(record_ids))),
        "api search (facets)": distinct(lambda: f"/api/search?q={query(rng.choice((1, 1, 2)))}"),
        "search page": distinct(lambda: f"{rng.choice(LANGUAGES)}/search?q={query(rng.choice((1, 2)))}"),
        "api suggest": distinct(lambda: f"/api/suggest?q={quote(rng.choice(words)[:rng.randint(2, 5)])}"),
        "home page": distinct(lambda: f"{rng.choice(LANGUAGES)}/"),
        "cluster page": distinct(lambda: f"{rng.choice(LANGUAGES)}/clusters/{rng.choice(list(vocab.CLUSTERS))}"),
        "content pages": distinct(lambda: f"{rng.choice(LANGUAGES)}/{rng.choice(served)}") if served else [],
    }
    sources = [name for name in ("api list (filters, pages)", "api record", "record page", "api search (facets)",
                                 "search page", "home page", "cluster page", "content pages") if mix.get(name)]
    mix[REPEATED] = [path for name in sources for path in mix[name][:REPEATED_PATHS // len(sources)]]
    mix[POPULAR] = list(mix[REPEATED])
    return {name: paths for name, paths in mix.items() if paths}


def wrk(url: str, paths: list[str], connections: int, duration: int, folder: Path,
        etags: list[str] | None = None, distinct: bool = False) -> dict:
    """`paths` in turn for `duration` seconds; `distinct`: each request made unlike any other of any run."""
    run = uuid.uuid4().hex[:6]
    script = folder / f"mix-{run}.lua"
    script.write_text(LUA % {"paths": ", ".join(json.dumps(path) for path in paths),
                             "etags": ", ".join(json.dumps(etag) for etag in etags or ()), "threads": WRK_THREADS,
                             "distinct": "true" if distinct else "false", "run": run})
    run = subprocess.run(["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{duration}s",
                          "--timeout", "10s", "-s", str(script), url], capture_output=True, text=True,
                         timeout=duration + 60)
    line = next((line for line in run.stdout.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{run.stdout}\n{run.stderr}")
    result = json.loads(line[len("RESULT "):])
    seconds = result["duration_us"] / 1e6
    return {"rps": result["requests"] / seconds, "p50": result["p50_us"] / 1000, "p99": result["p99_us"] / 1000,
            "errors": result["status_errors"] + result["socket_errors"], "requests": result["requests"]}


# The floors of bench/floors.py: key → (label, path). Each is measured before the first route and after each
# route, and a route's ratio is to the mean of the two runs around it: on a shared machine, whose speed changed
# by 1.5 × within half an hour, floors measured once before all routes made ratios move by ±0.3 between runs.
FLOORS = {"bare": ('floor: @http "ok"', "/ok"), "rpc": ("floor: @http → RPC", "/rpc"),
          "platform": ("floor: @http → the platform's RPC", "/rpc")}


def floor_rows(around: list[dict[str, dict]]) -> list[str]:
    """The floors' rows: the median of their runs (and the range of req/s), each to the others as measured in the
    same round, and its CPU per request (and the RPC floor's to it)."""
    rows = []
    for key, (label, _path) in FLOORS.items():
        runs = [measured[key] for measured in around]
        rps = [run["rps"] for run in runs]
        ratios = [statistics.median(measured[key]["rps"] / measured[other]["rps"] for measured in around)
                  for other in FLOORS]
        by_cpu = statistics.median(measured["rpc"]["cpu_ms"] / measured[key]["cpu_ms"] for measured in around)
        rows.append(f"| {label} ({len(runs)} runs; req/s median, min–max) | 1 | {statistics.median(rps):,.0f} "
                    f"({min(rps):,.0f}–{max(rps):,.0f}) | {statistics.median(run['p50'] for run in runs):.1f} | "
                    f"{statistics.median(run['p99'] for run in runs):.1f} | {sum(run['errors'] for run in runs)} | "
                    + " | ".join(f"{ratio:.2f}" for ratio in ratios)
                    + f" | {statistics.median(run['cpu_ms'] for run in runs):.2f} | {by_cpu:.2f} |")
    return rows


def etags_of(url: str, paths: list[str]) -> list[str]:
    """Each answer's ETag, asked just before the run so that the gateway still holds it as fresh."""
    return [requests.get(url + path, timeout=30).headers.get("ETag", "") for path in paths]


# --- memory ----------------------------------------------------------------------------------------------------

SERVICES = ("content", "directory", "gateway", "moderation", "newsletter", "search")


def service_of(command: str) -> str | None:
    """The service a process's command line runs (`nameko run … services.search.service:…` → "search")."""
    match = re.search(r"(?:services\.(\w+)|(gateway))\.service:", command)
    return (match.group(1) or match.group(2)) if match else None


def running_commands():
    """(pid, command line) of every process whose command line can be read."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue


def platform_processes(marker: str) -> dict[int, str]:
    """pid → a short name (a service's, "launcher", or the program's) of every process carrying `marker` in its
    environment."""
    found = {}
    for pid, command in running_commands():
        try:
            if marker.encode() not in Path(f"/proc/{pid}/environ").read_bytes():
                continue
        except OSError:
            continue
        if service := service_of(command):
            found[pid] = service
        elif "dsi.cli run" in command:
            found[pid] = "launcher"
        else:
            found[pid] = Path(command.split()[-1]).name if command else "?"
    return found


def service_rss(marker: str) -> dict[str, int]:
    """KiB of resident memory per service of the platform."""
    found: dict[str, int] = {}
    for pid, name in platform_processes(marker).items():
        if name not in SERVICES:
            continue
        try:
            rss = int(re.search(r"VmRSS:\s+(\d+)", (Path("/proc") / str(pid) / "status").read_text()).group(1))
        except (OSError, AttributeError):
            continue
        found[name] = found.get(name, 0) + rss
    return dict(sorted(found.items()))


def print_rss(label: str, rss: dict[str, int]) -> None:
    say(f"RSS {label}: " + ", ".join(f"{name} {kib / 1024:.0f} MiB" for name, kib in rss.items()))


# --- main ------------------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=0, help="generated records in place of the real data")
    parser.add_argument("--built-in-words", action="store_true", help="generated records of the demo's 19 words "
                        "and nine cities (the worst case for search) instead of the export's words and places")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per route and concurrency")
    parser.add_argument("--soak", type=int, default=0, help="seconds of the whole mix at 16 connections")
    parser.add_argument("--routes", nargs="*", help="only the routes whose names start with these")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--postgres", metavar="URL", help="each service's database a fresh one on this PostgreSQL "
                        "server (e.g. postgresql://postgres@127.0.0.1:5432/postgres) instead of SQLite")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install -y wrk)")
    if default_data_path() is None:
        raise SystemExit("no DSI4EU export found (DSI_DATA or ../shared/data/dsi4eu-2017)")

    folder, vhost, processes, marker, port, url = scratch_run("load")
    databases = PostgresDatabases(args.postgres) if args.postgres else None
    env = platform_env(folder, vhost.uri, port, marker, databases.urls() if databases else None)
    try:
        say(f"machine: {os.uname().nodename}, {os.cpu_count()} CPUs, load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
            f"databases: {'PostgreSQL' if databases else 'SQLite'}")
        if args.records:
            generate_records(env, args.records, args.built_in_words)
        published = start_platform(processes, env, url, vhost, marker)
        say(f"platform ready: {published} published records, at {url}")
        floors = start_floors(processes, vhost.uri)
        mix = build_mix(url, random.Random(args.seed))
        if args.routes:
            mix = {name: paths for name, paths in mix.items() if name.startswith(tuple(args.routes))}
        print_rss("after start", service_rss(marker))

        cpu = CpuCount(marker, processes, bool(databases))
        for connections in args.connections:
            floor_run = lambda key: cpu.per_request(lambda: wrk(  # noqa: E731
                floors[key], [FLOORS[key][1]], connections, max(3, args.duration // 2), folder))
            measure_floors = lambda: {key: floor_run(key) for key in FLOORS}  # noqa: E731
            around = [measure_floors()]  # the floors before the first route, then after each
            say(f"\n-c{connections}, {args.duration} s per route, load average {os.getloadavg()[0]:.1f}")
            say("| route | distinct paths | req/s | p50 ms | p99 ms | non-2xx/errors | × @http floor | "
                "× @http→RPC floor | × platform RPC floor | CPU ms/request, all processes | × @http→RPC floor, "
                "by CPU |")
            say("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            for name, paths in mix.items():
                etags = None
                if name in (REPEATED, POPULAR):  # only answers a cache may keep: those that came with an ETag
                    kept = [(path, etag) for path, etag in zip(paths, etags_of(url, paths)) if etag]
                    paths = [path for path, _ in kept]
                    etags = [etag for _, etag in kept] if name == REPEATED else None
                got = cpu.per_request(lambda: wrk(url, paths, connections, args.duration, folder, etags,
                                                  distinct=name not in (REPEATED, POPULAR)))
                around.append(measure_floors())
                floor = {key: (around[-2][key]["rps"] + around[-1][key]["rps"]) / 2 for key in FLOORS}
                floor_cpu = (around[-2]["rpc"]["cpu_ms"] + around[-1]["rpc"]["cpu_ms"]) / 2
                say(f"| {name} | {len(paths)} | {got['rps']:,.0f} | {got['p50']:.1f} | {got['p99']:.1f} | "
                    f"{got['errors']} | {got['rps'] / floor['bare']:.2f} | {got['rps'] / floor['rpc']:.2f} | "
                    f"{got['rps'] / floor['platform']:.2f} | {got['cpu_ms']:.2f} | {floor_cpu / got['cpu_ms']:.2f} |")
            for row in floor_rows(around):
                say(row)
        print_rss(f"after the mix ({published} records)", service_rss(marker))

        if args.soak:
            soak(url, mix, args.soak, marker, folder)
    finally:
        processes.stop_all()
        vhost.delete()
        if databases:
            databases.drop()
        shutil.rmtree(folder, ignore_errors=True)


def soak(url: str, mix: dict[str, list[str]], seconds: int, marker: str, folder: Path) -> None:
    """The whole mix at 16 connections for `seconds`, every service's RSS sampled every 30 s (or 10 times)."""
    paths = [path for name, route in mix.items() if name not in (REPEATED, POPULAR) for path in route]
    random.Random(0).shuffle(paths)
    samples = [(0.0, service_rss(marker))]
    result = {}
    runner = threading.Thread(target=lambda: result.update(wrk(url, paths, 16, seconds, folder, distinct=True)))
    started = time.monotonic()
    runner.start()
    interval = min(30.0, seconds / 10)
    while runner.is_alive():
        runner.join(timeout=interval)
        samples.append((time.monotonic() - started, service_rss(marker)))
    say(f"\nsoak: {seconds} s of the whole mix at -c16: {result['rps']:,.0f} req/s, p50 {result['p50']:.1f} ms, "
        f"p99 {result['p99']:.1f} ms, {result['errors']} non-2xx/errors")
    services = sorted(samples[0][1])
    say("| s | " + " | ".join(f"{name} MiB" for name in services) + " |")
    say("| --- | " + " | ".join("---" for _ in services) + " |")
    for elapsed, rss in samples:
        say(f"| {elapsed:.0f} | " + " | ".join(f"{rss.get(name, 0) / 1024:.0f}" for name in services) + " |")
    first, last = samples[1][1] if len(samples) > 2 else samples[0][1], samples[-1][1]
    say("growth after the first sample: " + ", ".join(
        f"{name} {100 * (last.get(name, 0) - first[name]) / first[name]:+.1f} %" for name in services if first[name]))


if __name__ == "__main__":
    main()
