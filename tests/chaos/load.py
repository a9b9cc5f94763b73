"""A steady load of submissions and searches against a platform while faults happen, and what became of it:
the chaos test and bench/chaos.py both drive it."""
import email
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from email import policy
from pathlib import Path

import eventlet
import requests
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from tests.factories import project_body
from tests.processes import ROOT, wait_for

# Every process of the platform, killed in turn (the gateway last: its clients retry while it restarts).
VICTIMS = ("directory", "moderation", "search", "newsletter", "content", "gateway")
SEARCH_WORDS = ("data", "health", "open", "city", "energy")  # a few requests, asked again and again
CLIENT_RETRY = 0.25  # seconds between a client's tries while the gateway does not accept connections


class Load:
    """Submissions (`per_second`) and searches (as many) from green threads, each as a patient client: it
    retries while the gateway does not accept connections (it is restarting), and takes any answer as final."""

    def __init__(self, url: str, per_second: float = 12):
        self.url, self.interval = url, 1 / per_second
        self.accepted: dict[str, dict] = {}  # submission id → answer
        self.refused: list[tuple[int, str]] = []
        self.searches = Counter()  # fresh, stale, failed
        self.pool = eventlet.GreenPool(200)
        self.running = False
        self.session = requests.Session()

    def start(self) -> None:
        self.running = True
        self.pool.spawn_n(self._pace, self._submit)
        self.pool.spawn_n(self._pace, self._search)

    def stop(self, seconds: float = 120) -> None:
        self.running = False
        with eventlet.Timeout(seconds, False):
            self.pool.waitall()

    def _pace(self, action) -> None:
        number = 0
        while self.running:
            number += 1
            self.pool.spawn_n(action, number)
            eventlet.sleep(self.interval)

    def _patiently(self, method: str, path: str, **kwargs):
        deadline = time.monotonic() + 90
        while True:
            try:
                return requests.request(method, self.url + path, timeout=30, **kwargs)
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                eventlet.sleep(CLIENT_RETRY)

    def _submit(self, number: int) -> None:
        body = project_body(name=f"Chaos project {number} {uuid.uuid4().hex[:6]}",
                            email=f"chaos-{number}-{uuid.uuid4().hex[:6]}@example.org")
        try:
            answer = self._patiently("POST", "/api/submissions", json=body)
        except requests.RequestException as error:
            self.refused.append((0, repr(error)))
            return
        if 200 <= answer.status_code < 300:
            self.accepted[answer.json()["id"]] = answer.json()
        else:
            self.refused.append((answer.status_code, answer.text[:300]))

    def _search(self, number: int) -> None:
        try:
            answer = self._patiently("GET", "/api/search", params={"q": SEARCH_WORDS[number % len(SEARCH_WORDS)]})
        except requests.RequestException:
            self.searches["failed"] += 1
            return
        if answer.status_code == 200:
            self.searches["stale" if answer.json().get("stale") else "fresh"] += 1
        else:
            self.searches["failed"] += 1

    @property
    def searches_answered(self) -> float:
        total = sum(self.searches.values())
        return (self.searches["fresh"] + self.searches["stale"]) / total if total else 0.0


def rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute(sql).fetchall()


def moderation_queue(folder: Path) -> Counter:
    """How often each submission id is in the moderation queue and its history of arrivals."""
    queued = Counter(row[0] for row in rows(folder / "moderation.db", "SELECT submission_id FROM queue_items"))
    return queued


def spool_waiting(folder: Path) -> int:
    path = folder / "spool" / "spool.db"
    if not path.exists():
        return 0
    return rows(path, "SELECT COUNT(*) FROM items WHERE state = 'waiting'")[0][0]


def mails(folder: Path) -> list:
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted((folder / "mail").glob("*.eml"))]


def mails_made_twice(folder: Path) -> list[tuple]:
    """Transactional mails the newsletter service stored more often than the directory holds submissions from that
    address (an event applied twice). A client that resends after the gateway died before answering makes a second
    submission, with its own id and its own mail: that is counted as a submission, not as a duplicate."""
    submissions = dict(rows(folder / "directory.db", "SELECT email, COUNT(*) FROM submissions GROUP BY email"))
    made = rows(folder / "newsletter.db", 'SELECT "to", subject, COUNT(*) FROM mails GROUP BY "to", subject '
                                         "HAVING COUNT(*) > 1")
    return [(to, subject, count) for to, subject, count in made if count > submissions.get(to, 0)]


def copies_sent_twice(folder: Path) -> list[tuple[str, str]]:
    """(recipient, subject) pairs the SMTP sink received more than once. A mail is sent, then marked sent: a
    sender SIGKILLed between the two sends it again when it comes back (at least once, never lost)."""
    sent = Counter((str(m["To"]), str(m["Subject"])) for m in mails(folder))
    return [pair for pair, count in sent.items() if count > 1]


def kill_and_wait(platform, victim: str, seconds: float = 120) -> float:
    """SIGKILL one instance of `victim`; seconds until it answers again (the gateway: /healthz)."""
    pids = platform.pids(victim) if victim != "gateway" else gateway_pids(platform)
    pid = pids[0]
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: pid not in (platform.pids(victim) if victim != "gateway" else gateway_pids(platform)), 10)
    if victim == "gateway":
        answered = wait_for(platform.healthy, seconds, step=0.1)
    else:
        answered = wait_for(lambda: answers_over_rpc(platform, victim), seconds, step=0.1)
    assert answered, f"{victim} did not answer again:\n{platform.output()[-3000:]}"
    return time.monotonic() - killed_at


def answers_over_rpc(platform, service: str, timeout: float = 15.0) -> bool:
    """The service's health RPC answers, asked from this process: unlike `dsi ping` (a new Python process each
    time, a second or more of the figure on a busy machine) it measures the service, not the asking. The call
    waits in the service's queue behind what the load sent meanwhile, so it is given time: with a short timeout
    a busy machine's backlog outlasts every try, and each try leaves one more call in the queue."""
    try:
        with ClusterRpcProxy({"AMQP_URI": platform.env["AMQP_URI"]}, timeout=timeout) as cluster:
            getattr(cluster, service).health()
        return True
    except (RpcTimeout, UnknownService, RemoteError, OSError):  # no answer in time, or not ready yet
        return False


def gateway_pids(platform) -> list[int]:
    from tests.processes import command_line, processes_marked

    return [pid for pid in processes_marked(platform.marker) if "gateway.service:" in command_line(pid)]


def dsi(platform, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dsi.cli", *args], cwd=ROOT, env=platform.env, input=stdin,
                          capture_output=True, text=True, timeout=120)


class Approver:
    """A moderator approving submissions one by one while the faults happen, through the moderation RPCs (as the
    console does), retrying each until its decision is taken."""

    def __init__(self, platform, load: Load, email: str, password: str):
        self.platform, self.load, self.email, self.password = platform, load, email, password
        self.approved: list[str] = []
        self.running = False

    def start(self, interval: float = 2.0) -> None:
        self.running = True
        eventlet.spawn_n(self._run, interval)

    def stop(self) -> None:
        self.running = False

    def _run(self, interval: float) -> None:
        from nameko.standalone.rpc import ClusterRpcProxy

        cookie = None
        while self.running:
            eventlet.sleep(interval)
            waiting = [item for item in self.load.accepted if item not in self.approved]
            if not waiting:
                continue
            try:
                with ClusterRpcProxy({"AMQP_URI": self.platform.env["AMQP_URI"]}, timeout=5) as cluster:
                    cookie = cookie or cluster.moderation.login(self.email, self.password)["session"]
                    self.approve(cluster, cookie, waiting[0])
            except Exception:  # a fault is happening: try again at the next tick
                continue

    def approve(self, cluster, cookie: str, submission_id: str) -> None:
        item = cluster.moderation.show(cookie, submission_id)
        if item["state"] == "pending":
            cluster.moderation.decide(cookie, submission_id, {"decision": "approve", "version": item["version"]})
        self.approved.append(submission_id)
