"""The gateway's durable spool: kept on disk before the answer, forwarded once per item, across restarts and
between processes sharing the folder."""
import multiprocessing
import sqlite3

import pytest

from gateway.spool import DELIVERED, REJECTED, WAITING, Rejected, Relay, Spool


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


class Owner:
    """An owner that applies each id once (as the directory does with submission_id) and can be unreachable."""

    def __init__(self):
        self.applied, self.calls, self.reachable = {}, 0, True

    def __call__(self, item_id, body):
        self.calls += 1
        if not self.reachable:
            raise ConnectionError("broker down")
        if body.get("name") == "":
            raise Rejected("name is required")
        self.applied.setdefault(item_id, body)
        return {"submission_id": item_id}


@pytest.fixture
def clock():
    return Clock()


def test_an_item_is_on_disk_when_add_returns_and_survives_a_restart(tmp_path, clock):
    item = Spool(tmp_path, clock).add("submission", {"name": "Open Data Lab"})
    # Another connection, as a restarted gateway would open, sees the committed row.
    with sqlite3.connect(tmp_path / "spool.db") as connection:
        assert connection.execute("SELECT kind, state FROM items WHERE id = ?", (item.id,)).fetchone() == (
            "submission", WAITING)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    restarted = Spool(tmp_path, clock)
    assert restarted.status(item.id, item.token)["state"] == WAITING
    assert restarted.status(item.id, "wrong token") is None
    assert restarted.status("no such id", item.token) is None


def test_the_relay_forwards_each_item_once_when_the_owner_can_be_reached(tmp_path, clock):
    spool, owner = Spool(tmp_path, clock), Owner()
    first, second = spool.add("submission", {"name": "A"}), spool.add("submission", {"name": "B"})
    owner.reachable = False
    assert Relay(spool, {"submission": owner}).run_once() == {DELIVERED: 0, REJECTED: 0, WAITING: 2}
    assert Relay(spool, {"submission": owner}).run_once() == {DELIVERED: 0, REJECTED: 0, WAITING: 0}  # not due
    assert spool.status(first.id, first.token)["attempts"] == 1

    owner.reachable = True
    clock.now += 1  # the first retry comes after one second, then two, four… up to a minute
    assert Relay(spool, {"submission": owner}).run_once()[DELIVERED] == 2
    assert Relay(spool, {"submission": owner}).run_once()[DELIVERED] == 0
    assert set(owner.applied) == {first.id, second.id}
    status = spool.status(second.id, second.token)
    assert status["state"] == DELIVERED and status["result"] == {"submission_id": second.id}


def test_a_relay_that_died_after_delivering_sends_the_same_id_again_and_the_owner_applies_it_once(tmp_path, clock):
    spool, owner = Spool(tmp_path, clock), Owner()
    item = spool.add("submission", {"name": "A"})
    [claimed] = spool.claim("relay-that-dies", lease=30)
    owner(claimed.id, claimed.body)  # delivered; the process dies before marking it
    assert Relay(spool, {"submission": owner}, "other").run_once()[DELIVERED] == 0  # leased to the dead relay
    clock.now += 31
    assert Relay(spool, {"submission": owner}, "other").run_once()[DELIVERED] == 1
    assert owner.calls == 2 and list(owner.applied) == [item.id]
    assert spool.delivered(item.id, "relay-that-dies") is False  # a late mark of the lost lease changes nothing


def test_an_item_the_owner_refuses_for_good_is_not_retried(tmp_path, clock):
    spool, owner = Spool(tmp_path, clock), Owner()
    item = spool.add("submission", {"name": ""})
    assert Relay(spool, {"submission": owner}).run_once()[REJECTED] == 1
    clock.now += 3600
    assert Relay(spool, {"submission": owner}).run_once() == {DELIVERED: 0, REJECTED: 0, WAITING: 0}
    assert spool.status(item.id, item.token)["state"] == REJECTED


def test_kinds_keep_their_own_delivery_and_the_same_id_is_kept_once(tmp_path, clock):
    spool = Spool(tmp_path, clock)
    signups, reports = Owner(), Owner()
    once = spool.add("newsletter_signup", {"email": "a@example.org"}, item_id="fixed-id", token="t1")
    again = spool.add("newsletter_signup", {"email": "other@example.org"}, item_id="fixed-id", token="t2")
    assert again == once and again.body == {"email": "a@example.org"}
    spool.add("report", {"record_id": 3})
    spool.add("unknown_kind", {})
    result = Relay(spool, {"newsletter_signup": signups, "report": reports}).run_once()
    assert result == {DELIVERED: 2, REJECTED: 0, WAITING: 1}
    assert list(signups.applied) == ["fixed-id"] and len(reports.applied) == 1
    assert spool.counts() == {WAITING: 1, DELIVERED: 2, REJECTED: 0}
    clock.now += 10
    assert spool.purge(older_than=5) == 2
    assert spool.counts() == {WAITING: 1, DELIVERED: 0, REJECTED: 0}


def _claim_all(folder, worker, results):
    spool = Spool(folder)
    claimed = []
    while batch := spool.claim(worker, limit=7, lease=600):
        claimed.extend(item.id for item in batch)
    results.put(claimed)


def test_processes_sharing_a_spool_folder_never_claim_the_same_item(tmp_path):
    spool = Spool(tmp_path)
    ids = {spool.add("submission", {"n": n}).id for n in range(200)}
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_claim_all, args=(tmp_path, f"gateway-{n}", results)) for n in range(3)]
    for worker in workers:
        worker.start()
    claimed = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    every = [item for batch in claimed for item in batch]
    assert len(every) == len(set(every)) and set(every) == ids
