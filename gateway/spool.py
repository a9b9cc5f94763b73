"""A durable local spool: what a visitor sent is kept on the gateway's disk when its owner cannot take it now.

A submission (or a newsletter sign-up, or a report) that the broker or its owner cannot take is appended here,
committed and fsync'd, before the gateway answers 202 `queued` with the item's status token; the visitor's
request is never refused. A `Relay` later forwards each item to its owner under the item's own id, which the
owner treats as an idempotency key (the directory's `submit(body, submission_id=…)`): an item forwarded twice
(the gateway died after the owner took it, before it was marked delivered) takes effect once.

Storage: one SQLite file, SPOOL_DIR/spool.db, in WAL mode with synchronous=FULL, so a commit is on disk when
`add` returns and survives a crash or a restart of the gateway. Several gateway processes may share one spool
folder on the same host (SQLite's locks serialise them; a relay claims items under a lease, so two relays never
forward the same item at the same time, and the lease of a relay that died runs out and another takes over), or
each may have its own folder (each relays its own items). Not on a network filesystem: its locks are unreliable.
For docker-compose and Kubernetes the folder is a volume that outlives the container (see docs).
"""
import hmac
import json
import os
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

WAITING, DELIVERED, REJECTED = "waiting", "delivered", "rejected"
MAX_RETRY_DELAY = 60.0  # seconds between tries of an item whose owner does not answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    token TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting',
    received_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    claimed_by TEXT,
    claimed_until REAL,
    finished_at REAL,
    result TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS items_due ON items (state, due_at);
"""


@dataclass(frozen=True)
class Spooled:
    id: str
    kind: str
    token: str
    body: dict
    attempts: int = 0


class Rejected(Exception):
    """Raised by a delivery function when the owner refused the item for good (it will never take it)."""


class Spool:
    def __init__(self, folder: str | os.PathLike, clock: Callable[[], float] = time.time):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "spool.db"
        self.clock = clock
        with self._connect() as connection:
            connection.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: safe from any green thread or process; autocommit, with explicit transactions.
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")  # a commit returns once it is on disk
        connection.row_factory = sqlite3.Row
        return connection

    def add(self, kind: str, body: dict, item_id: str | None = None, token: str | None = None) -> Spooled:
        """Keep an item durably; returns once it is on disk. The same `item_id` twice keeps the first."""
        item = Spooled(item_id or str(uuid.uuid4()), kind, token or secrets.token_urlsafe(24), body)
        now = self.clock()
        connection = self._connect()
        try:
            connection.execute(
                "INSERT OR IGNORE INTO items (id, kind, body, token, received_at, due_at) VALUES (?, ?, ?, ?, ?, ?)",
                (item.id, kind, json.dumps(body, ensure_ascii=False), item.token, now, now))
            row = connection.execute("SELECT * FROM items WHERE id = ?", (item.id,)).fetchone()
        finally:
            connection.close()
        return _spooled(row)

    def status(self, item_id: str, token: str) -> dict | None:
        """What the visitor's status page shows; None for an unknown id or a wrong token."""
        connection = self._connect()
        try:
            row = connection.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        finally:
            connection.close()
        if row is None or not hmac.compare_digest(row["token"], token or ""):
            return None
        return {"id": row["id"], "kind": row["kind"], "state": row["state"], "received_at": row["received_at"],
                "attempts": row["attempts"], "result": json.loads(row["result"]) if row["result"] else None}

    def claim(self, worker: str, limit: int = 20, lease: float = 30.0) -> list[Spooled]:
        """Items due for delivery, oldest first, reserved for `worker` for `lease` seconds."""
        now = self.clock()
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")  # one claimer at a time, across processes
            rows = connection.execute(
                "SELECT * FROM items WHERE state = ? AND due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)"
                " ORDER BY received_at, id LIMIT ?", (WAITING, now, now, limit)).fetchall()
            connection.executemany("UPDATE items SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                                   [(worker, now + lease, row["id"]) for row in rows])
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()
        return [_spooled(row) for row in rows]

    def _finish(self, item_id: str, worker: str, sql: str, values: tuple) -> bool:
        connection = self._connect()
        try:
            cursor = connection.execute(f"{sql} WHERE id = ? AND claimed_by = ? AND state = ?",
                                        (*values, item_id, worker, WAITING))
            return cursor.rowcount == 1
        finally:
            connection.close()

    def delivered(self, item_id: str, worker: str, result=None) -> bool:
        return self._finish(item_id, worker, "UPDATE items SET state = ?, finished_at = ?, result = ?, "
                            "claimed_by = NULL, claimed_until = NULL",
                            (DELIVERED, self.clock(), json.dumps(result, ensure_ascii=False)))

    def rejected(self, item_id: str, worker: str, error: str) -> bool:
        return self._finish(item_id, worker, "UPDATE items SET state = ?, finished_at = ?, last_error = ?, "
                            "claimed_by = NULL, claimed_until = NULL", (REJECTED, self.clock(), error))

    def retry_later(self, item_id: str, worker: str, error: str) -> bool:
        """The owner could not be reached: try again after a pause that doubles with each attempt."""
        connection = self._connect()
        try:
            row = connection.execute("SELECT attempts FROM items WHERE id = ?", (item_id,)).fetchone()
        finally:
            connection.close()
        attempts = (row["attempts"] if row else 0) + 1
        delay = min(2.0 ** (attempts - 1), MAX_RETRY_DELAY)
        return self._finish(item_id, worker, "UPDATE items SET attempts = ?, due_at = ?, last_error = ?, "
                            "claimed_by = NULL, claimed_until = NULL", (attempts, self.clock() + delay, error))

    def counts(self) -> dict[str, int]:
        connection = self._connect()
        try:
            rows = connection.execute("SELECT state, COUNT(*) AS n FROM items GROUP BY state").fetchall()
        finally:
            connection.close()
        return {WAITING: 0, DELIVERED: 0, REJECTED: 0, **{row["state"]: row["n"] for row in rows}}

    def purge(self, older_than: float) -> int:
        """Forget finished items older than `older_than` seconds (their owners hold them now)."""
        connection = self._connect()
        try:
            return connection.execute("DELETE FROM items WHERE state != ? AND finished_at < ?",
                                      (WAITING, self.clock() - older_than)).rowcount
        finally:
            connection.close()


def _spooled(row) -> Spooled:
    return Spooled(row["id"], row["kind"], row["token"], json.loads(row["body"]), row["attempts"])


class Relay:
    """Forwards spooled items to their owners: `deliver[kind](item_id, body)` returns the owner's answer, raises
    `Rejected` when the owner refuses the item for good, or anything else when it cannot be reached now."""

    def __init__(self, spool: Spool, deliver: dict[str, Callable[[str, dict], object]], worker: str | None = None,
                 lease: float = 30.0):
        self.spool, self.deliver, self.lease = spool, deliver, lease
        self.worker = worker or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def run_once(self, limit: int = 20) -> dict[str, int]:
        """One pass over what is due; returns how many items were delivered, rejected and left for later."""
        done = {DELIVERED: 0, REJECTED: 0, WAITING: 0}
        for item in self.spool.claim(self.worker, limit, self.lease):
            deliver = self.deliver.get(item.kind)
            if deliver is None:
                self.spool.retry_later(item.id, self.worker, f"no delivery for {item.kind!r} in this gateway")
                done[WAITING] += 1
                continue
            try:
                result = deliver(item.id, item.body)
            except Rejected as error:
                self.spool.rejected(item.id, self.worker, str(error))
                done[REJECTED] += 1
            except Exception as error:  # the owner or the broker cannot be reached: keep it for later
                self.spool.retry_later(item.id, self.worker, repr(error))
                done[WAITING] += 1
            else:
                self.spool.delivered(item.id, self.worker, result)
                done[DELIVERED] += 1
        return done
