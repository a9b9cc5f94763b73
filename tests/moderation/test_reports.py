"""Reports on published records: one per reporter, hidden at the threshold, restored or removed by a moderator."""
import pytest

from dsi import events
from dsi.errors import Conflict, InvalidInput
from services.moderation import reports

SECRET = "test-secret"


def send(session, outbox, reporter, threshold=3, record_id=5, **body):
    key = reports.reporter_key(SECRET, "project", record_id, reporter)
    return reports.report(session, outbox, "project", record_id, "Care Map", key,
                          {"reason_code": "spam", "text": "Selling pills", **body}, threshold)


def test_one_report_per_reporter_per_record(session, outbox):
    send(session, outbox, "203.0.113.9")
    with pytest.raises(Conflict):
        send(session, outbox, "203.0.113.9", reason_code="other")
    session.rollback()
    send(session, outbox, "203.0.113.9", record_id=6)  # another record: fine
    assert reports.reporter_key(SECRET, "project", 5, "203.0.113.9") != \
        reports.reporter_key(SECRET, "project", 6, "203.0.113.9")  # not linkable across records


def test_reason_code_is_checked(session, outbox):
    with pytest.raises(InvalidInput) as refused:
        send(session, outbox, "203.0.113.9", reason_code="dislike", text="x" * 3000)
    assert set(refused.value.details) == {"reason_code", "text"}


def test_the_threshold_hides_the_record_and_a_moderator_restores_it(session, outbox, sent_events):
    for address in ("198.51.100.1", "198.51.100.2"):
        send(session, outbox, address)
    session.commit()
    assert sent_events() == []
    assert reports.list_cases(session)["items"][0]["state"] == "open"
    send(session, outbox, "198.51.100.3")
    session.commit()
    [hidden] = sent_events()
    assert hidden["type"] == events.RECORD_HIDDEN
    assert hidden["payload"] == {"record_id": 5, "kind": "project", "reason_code": "reported"}
    case = reports.show_case(session, "project", 5)
    assert case["state"] == "hidden" and len(case["reports"]) == 3
    with pytest.raises(Conflict):  # a hidden record takes no more reports
        send(session, outbox, "198.51.100.4")
    session.rollback()

    with pytest.raises(Conflict):  # a stale version
        reports.resolve(session, outbox, "mod@example.org", "project", 5, "restore", case["version"] - 1)
    restored = reports.resolve(session, outbox, "mod@example.org", "project", 5, "restore", case["version"])
    session.commit()
    assert restored["state"] == "closed"
    assert sent_events()[-1]["type"] == events.RECORD_RESTORED
    assert sent_events()[-1]["payload"]["record_id"] == 5
    steps = [(s["actor"], s["action"]) for s in reports.show_case(session, "project", 5)["history"]]
    assert steps == [("public", "reported")] * 3 + [("system", "hidden"), ("mod@example.org", "restored")]

    # after a restore, counting starts again; the earlier reporters still cannot report twice
    with pytest.raises(Conflict):
        send(session, outbox, "198.51.100.1")
    session.rollback()
    send(session, outbox, "198.51.100.9")
    session.commit()
    assert reports.show_case(session, "project", 5)["open_reports"] == 1


def test_remove_takes_a_public_record_down(session, outbox, sent_events):
    send(session, outbox, "198.51.100.1")
    session.commit()
    case = reports.show_case(session, "project", 5)
    reports.resolve(session, outbox, "mod@example.org", "project", 5, "remove", case["version"], "Spam")
    session.commit()
    [event] = sent_events()
    assert event["type"] == events.RECORD_HIDDEN and event["payload"]["reason_code"] == "removed"
    assert reports.list_cases(session, "removed")["total"] == 1
    with pytest.raises(InvalidInput):
        reports.resolve(session, outbox, "mod@example.org", "project", 5, "explode", 1)
