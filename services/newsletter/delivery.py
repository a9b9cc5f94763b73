"""The send queue protocol shared by transactional mails and edition recipients, and the loop that drains it.

A row moves queued → claimed → sending → sent (or back to queued for a retry, or to failed). Each step is
its own short transaction, and no transaction stays open while we talk to the SMTP server:

- *claim*: an instance takes a small batch in one UPDATE … RETURNING (PostgreSQL skips rows another
  instance is claiming). A claim older than the lease is free again: the rows of a crashed instance are
  taken over;
- *sending* is committed once the server holds the body, just before the final dot that completes the
  message, and only if the claim is still ours: two instances never both send one row. A crash before that
  commit leaves the row claimed (sent later by whoever takes it over; the server dropped the unfinished
  message); a crash after it leaves the row `sending`, and such a row is never sent again (it ends
  `unconfirmed`): the promise is "never twice". So is a message whose answer never came;
- *sent* is committed when the server accepts (together with the next row's *sending*, to save a commit).

A sender runs its claims, look-ups and marks on one connection of its own in autocommit mode, both marks of a
message in one statement (`mark`): one round trip to the database per message, where BEGIN, SET LOCAL
synchronous_commit, two UPDATEs and COMMIT made five.

SMTP has no way to ask a server whether it got a message, so no protocol is exactly-once across every
possible crash. Here a copy is lost only if the process dies in the instant between that commit and one
five-byte write; every other crash leaves each row sent exactly once.
"""
import functools
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import eventlet
from sqlalchemy import DateTime, Integer, and_, bindparam, case, func, null, or_, select, update

from dsi import metrics
from dsi.clock import utcnow

from .models import CLAIMABLE
from .smtp import Abandoned, Connection, Pacer, PermanentFailure, TemporaryFailure, Unconfirmed

log = logging.getLogger(__name__)

QUEUED, CLAIMED, SENDING, SENT = "queued", "claimed", "sending", "sent"
FAILED, SKIPPED, UNCONFIRMED = "failed", "skipped", "unconfirmed"


@dataclass(frozen=True)
class Policy:
    concurrency: int = 4  # SMTP connections per instance
    batch: int = 20  # rows one connection claims at a time
    lease: float = 60.0  # seconds after which a claimed row is free for others
    max_attempts: int = 5
    backoff: float = 30.0  # first retry delay in seconds; doubles with every attempt


@dataclass
class Job:
    id: int
    attempts: int
    to: str
    message: bytes | None  # None: not to be sent (e.g. the subscriber left meanwhile); the row ends skipped


@dataclass
class Outcome:
    sent: int = 0
    retried: int = 0
    failed: list = field(default_factory=list)  # ids of rows given up after temporary failures
    bounced: list = field(default_factory=list)  # ids of rows the server refused for good (5xx)

    def add(self, other: "Outcome") -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed.extend(other.failed)
        self.bounced.extend(other.bounced)


def claim(session, model, owner: str, limit: int, lease: float, scope=()) -> list[tuple[int, int]]:
    """Take up to `limit` due rows for `owner`; returns (id, attempts) of each."""
    now = utcnow()
    # CLAIMABLE, the claim index's predicate in its very words: SQLite uses a partial index only then
    due = and_(*scope, CLAIMABLE, or_(
        and_(model.state == QUEUED, model.next_attempt_at <= now),
        and_(model.state == CLAIMED, model.claimed_at < now - timedelta(seconds=lease)),
    ))
    # Materialised once: as a plain subquery PostgreSQL may run it again per row and exceed the limit.
    # FOR UPDATE re-checks `due` on the newest version of a row changed meanwhile, and the lock keeps it so
    # until we commit (SQLite runs the statement alone), so the UPDATE takes the candidates by primary key and
    # tests nothing more: with `due` repeated there, PostgreSQL planned a join against every claimable row
    # (tens of ms a claim on 10,000 rows).
    candidates = (
        select(model.id).where(due).order_by(model.next_attempt_at, model.id).limit(limit)  # the oldest due first
        .with_for_update(skip_locked=True)
        .cte("candidates").prefix_with("MATERIALIZED")
    )
    statement = (
        update(model)
        .where(model.id.in_(select(candidates.c.id)))
        .values(state=CLAIMED, claimed_by=owner, claimed_at=now)
        .returning(model.id, model.attempts)
        .execution_options(synchronize_session=False)
    )
    return sorted(tuple(row) for row in session.execute(statement))


def move(session, model, row_id: int, owner: str, states: tuple, **values) -> bool:
    """Change a row we hold in one of `states`; False if it is no longer ours."""
    statement = _move_statement(model, tuple(states), tuple(sorted(values)))
    parameters = {"row_id": row_id, "owner": owner, **{f"new_{name}": value for name, value in values.items()}}
    # On the session's connection, past the ORM: its bulk-update machinery cost more CPU than the statement
    # (nothing of the row is loaded in the session to keep in step)
    return session.connection().execute(statement, parameters).rowcount == 1


@functools.lru_cache(maxsize=64)
def _move_statement(model, states: tuple, names: tuple):
    """Built once per shape: building and hashing a statement costs more than running it on SQLite."""
    table = model.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.state.in_(states), table.c.claimed_by == bindparam("owner"))
        .values({name: bindparam(f"new_{name}") for name in names})
    )


def mark(connection, model, owner: str, sending: int | None = None, sent: int | None = None) -> bool:
    """In one statement, so one transaction even in autocommit: `sent` (the row the server accepted last, if
    any) becomes sent and `sending` (claimed) becomes sending if it is still ours; True if it did."""
    parameters = {"sending": sending, "sent": sent, "owner": owner, "now": utcnow()}
    statement = _mark_statement(model, connection.dialect.name == "postgresql")
    return sending in connection.execute(statement, parameters).scalars().all()


@functools.lru_cache(maxsize=8)
def _mark_statement(model, on_postgresql: bool):
    column = model.__table__.c
    this = column.id == bindparam("sending", type_=Integer)
    now = bindparam("now", type_=DateTime(timezone=True))
    returned = [column.id]
    if on_postgresql:
        # Its commit does not wait for the disk: a mark must outlive this process, which it does once the server
        # has it. A crash of the database server itself may lose the last marks (rows then sent again; WAL order
        # loses only the newest commits, never a claim under a mark that survived). RETURNING runs on every row
        # changed, before the commit, and set_config(…, true) ends with this statement's transaction: on a
        # connection a pooler (PgBouncer) shares, a SET would outlive it and reach other clients' commits.
        returned.append(func.set_config("synchronous_commit", "off", True))
    return (
        update(model.__table__)
        .where(column.claimed_by == bindparam("owner"), or_(
            and_(this, column.state == CLAIMED),
            and_(column.id == bindparam("sent", type_=Integer), column.state.in_((SENDING, UNCONFIRMED))),
        ))
        .values(state=case((this, SENDING), else_=SENT),
                claimed_at=case((this, now), else_=column.claimed_at),
                sent_at=case((this, column.sent_at), else_=now),
                last_error=case((this, column.last_error), else_=null()))
        .returning(*returned)
    )


def settle_stale(session, model, older_than: float, scope=()) -> int:
    """Rows left `sending` by a crashed instance may have been delivered: recorded unconfirmed, never resent."""
    statement = (
        update(model)
        .where(*scope, model.state == SENDING, model.claimed_at < utcnow() - timedelta(seconds=older_than))
        .values(state=UNCONFIRMED)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount


def count(session, model, state: str, scope=()) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*scope, model.state == state))


def counts(session, model, scope=()) -> dict[str, int]:
    rows = session.execute(select(model.state, func.count()).where(*scope).group_by(model.state))
    return {state: number for state, number in rows}


class Dispatcher:
    """Drains a queue with `policy.concurrency` SMTP connections, each claiming small batches.

    `prepare(session, claimed) -> list[Job]` turns claimed (id, attempts) into messages, one Job per row;
    `keep_going()` is asked before every claim and every send."""

    def __init__(self, sessions, model, owner: str, connect, pacer: Pacer, policy: Policy, scope=()):
        self.sessions = sessions  # a sessionmaker
        self.model = model
        self.owner = owner
        self.connect = connect  # () -> smtp.Connection
        self.pacer = pacer
        self.policy = policy
        self.scope = tuple(scope)
        self.errors = 0  # rows given up so far by this dispatcher: a keep_going() may watch it

    def run(self, prepare, keep_going=lambda: True) -> Outcome:
        pool = eventlet.GreenPool(self.policy.concurrency)
        threads = [pool.spawn(_Sender(self).drain, prepare, keep_going) for _ in range(self.policy.concurrency)]
        total = Outcome()
        for thread in threads:
            total.add(thread.wait())
        for result, count in (("sent", total.sent), ("deferred", total.retried), ("failed", len(total.failed)),
                              ("bounced", len(total.bounced))):
            if count:
                metrics.NEWSLETTER_MESSAGES.labels(result).inc(count)
        return total


def _autocommit(session):
    """The session's connection, held for a sender's drain, every statement its own transaction: each step of
    the protocol is one statement (a claim, a look-up, a mark), so BEGIN and COMMIT would only add round trips.
    SQLAlchemy restores the isolation level when the session gives the connection back to the pool."""
    return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


class _Sender:
    """One SMTP connection of a Dispatcher, its own database connection, and the success not committed yet."""

    def __init__(self, dispatcher: Dispatcher):
        self.d = dispatcher
        self.connection: Connection = dispatcher.connect()
        self.outcome = Outcome()
        self.unrecorded: int | None = None  # id of a row accepted by the server, not yet marked sent
        self.link = None  # the database connection of this sender's drain (see _autocommit)

    def drain(self, prepare, keep_going) -> Outcome:
        d = self.d
        with d.sessions() as session:
            self.link = _autocommit(session)
            try:
                while keep_going():
                    claimed = claim(session, d.model, d.owner, d.policy.batch, d.policy.lease, d.scope)
                    if not claimed:
                        break
                    jobs = prepare(session, claimed)
                    session.expunge_all()  # the next batch reads its rows afresh
                    self._skip([job for job in jobs if job.message is None])
                    jobs = [job for job in jobs if job.message is not None]
                    for index, job in enumerate(jobs):
                        if not keep_going():
                            self._release(jobs[index:])
                            break
                        self._send(job)
                    self._record_success()
            finally:
                try:
                    self._record_success()
                finally:
                    self.connection.close()
        return self.outcome

    def _send(self, job: Job) -> None:
        d = self.d
        d.pacer.wait()
        try:
            self.connection.send(job.to, job.message, lambda: self._start(job))
        except Abandoned:  # another instance took the row over after our lease ran out
            return
        except Unconfirmed as error:
            self._record_success()
            self._unconfirmed(job, str(error))
            return
        except TemporaryFailure as error:
            self._record_success()
            self._retry_or_fail(job, str(error))
            return
        except PermanentFailure as error:
            self._record_success()
            self._fail(job, str(error), permanent=True)
            return
        self.unrecorded = job.id
        self.outcome.sent += 1

    def _start(self, job: Job) -> bool:
        """The server holds the body and waits for its final dot: commit `sending` (and the previous success)."""
        ours = mark(self.link, self.d.model, self.d.owner, sending=job.id, sent=self.unrecorded)
        self.unrecorded = None
        return ours

    def _unconfirmed(self, job: Job, error: str) -> None:
        d = self.d
        with d.sessions.begin() as session:
            move(session, d.model, job.id, d.owner, (SENDING,), state=UNCONFIRMED, last_error=error[:500])
        log.warning("%s %s: %s; not sent again", d.model.__tablename__, job.id, error)

    def _record_success(self) -> None:
        if self.unrecorded is not None:
            mark(self.link, self.d.model, self.d.owner, sent=self.unrecorded)
            self.unrecorded = None

    def _skip(self, jobs) -> None:
        d = self.d
        with d.sessions.begin() as session:
            for job in jobs:
                move(session, d.model, job.id, d.owner, (CLAIMED,), state=SKIPPED)

    def _release(self, jobs) -> None:
        d = self.d
        with d.sessions.begin() as session:
            for job in jobs:
                move(session, d.model, job.id, d.owner, (CLAIMED,), state=QUEUED, claimed_by=None, claimed_at=None)

    def _fail(self, job: Job, error: str, permanent: bool = False) -> None:
        d = self.d
        with d.sessions.begin() as session:
            move(session, d.model, job.id, d.owner, (CLAIMED, SENDING, UNCONFIRMED),
                 state=FAILED, attempts=job.attempts + 1, last_error=error[:500])
        (self.outcome.bounced if permanent else self.outcome.failed).append(job.id)
        d.errors += 1

    def _retry_or_fail(self, job: Job, error: str) -> None:
        d = self.d
        if job.attempts + 1 >= d.policy.max_attempts:
            return self._fail(job, error)
        delay = d.policy.backoff * 2 ** job.attempts
        with d.sessions.begin() as session:
            move(session, d.model, job.id, d.owner, (CLAIMED, SENDING, UNCONFIRMED),
                 state=QUEUED, claimed_by=None, claimed_at=None, attempts=job.attempts + 1,
                 last_error=error[:500], next_attempt_at=utcnow() + timedelta(seconds=delay))
        self.outcome.retried += 1
        log.info("%s %s deferred %.0f s after a temporary failure", d.model.__tablename__, job.id, delay)
