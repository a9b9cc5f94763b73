"""The review queue's domain on SQLite and PostgreSQL: intake, diff, decisions, locking, history, filters."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi import events
from dsi.clock import iso, utcnow
from dsi.errors import Conflict, InvalidInput
from services.moderation import queue
from services.moderation.models import HistoryEntry
from services.moderation.schemas import Decision, Filters, parse

from tests.moderation.factories import received


def decision(kind="approve", version=1, **values):
    return parse(Decision, {"decision": kind, "version": version, **values})


def test_a_new_submission_enters_the_queue_with_every_field_as_a_change(session):
    item = queue.receive(session, received())
    session.commit()
    shown = queue.show(session, item.submission_id)
    assert shown["state"] == "pending" and shown["action"] == "create" and shown["version"] == 1
    assert {change["field"] for change in shown["diff"]} == {"name", "short_description", "country", "tags",
                                                              "long_description"}
    assert [entry["action"] for entry in shown["history"]] == ["submitted"]


def test_an_edit_shows_only_the_fields_it_changes(session):
    published = {"id": 7, "kind": "project", "name": "Care Map", "short_description": "A map.",
                 "long_description": "<p>Mapping care</p>", "status": {"value": "live", "label": "Live"},
                 "social_areas": [{"value": "health-and-care", "label": "Health and care"}],
                 "organisations": [{"id": 3, "kind": "organisation", "name": "Waag", "role": "lead"}],
                 "tags": [], "version": 2}
    proposed = {"name": "Care Map", "short_description": "A map of care.", "long_description": "<p>Mapping care</p>",
                "status": "live", "social_areas": ["health-and-care", "science"],
                "organisations": [{"id": 3, "role": "lead"}], "tags": []}
    item = queue.receive(session, received(kind="project", action="update", proposed=proposed, published=published))
    assert item.priority == queue.EDIT
    assert item.diff == [
        {"field": "short_description", "before": "A map.", "after": "A map of care."},
        {"field": "social_areas", "before": ["health-and-care"], "after": ["health-and-care", "science"]},
    ]


def test_approve_publishes_an_event_and_history(session, outbox, sent_events):
    item = queue.receive(session, received())
    result = queue.decide(session, outbox, "mod@example.org", item.submission_id, decision())
    session.commit()
    assert result["state"] == "approved" and result["decided_by"] == "mod@example.org"
    [event] = sent_events()
    assert event["type"] == events.SUBMISSION_APPROVED and event["producer"] == events.MODERATION
    assert event["payload"] == {"submission_id": item.submission_id, "record_id": 7, "kind": "organisation",
                                "moderator": "mod@example.org", "reason_code": None, "reason": None}
    steps = queue.show(session, item.submission_id)["history"]
    assert [(s["actor"], s["action"], s["from_state"], s["to_state"]) for s in steps] == [
        ("submitter", "submitted", None, "pending"), ("mod@example.org", "approve", "pending", "approved")]


@pytest.mark.parametrize("kind", ["reject", "request_changes"])
def test_reject_and_request_changes_need_a_reason(kind):
    with pytest.raises(InvalidInput) as refused:
        parse(Decision, {"decision": kind, "version": 1})
    assert set(refused.value.details) == {"reason_code"}
    code = "spam" if kind == "reject" else "incomplete"
    with pytest.raises(InvalidInput) as refused:
        parse(Decision, {"decision": kind, "version": 1, "reason_code": code, "reason": ""})
    assert set(refused.value.details) == {"reason"}


def test_reject_carries_the_reason(session, outbox, sent_events):
    item = queue.receive(session, received())
    queue.decide(session, outbox, "mod@example.org", item.submission_id,
                 decision("reject", reason_code="not_dsi", reason="This is a shop."))
    session.commit()
    [event] = sent_events()
    assert event["type"] == events.SUBMISSION_REJECTED
    assert (event["payload"]["reason_code"], event["payload"]["reason"]) == ("not_dsi", "This is a shop.")


def test_a_stale_version_is_a_conflict_and_changes_nothing(session, outbox, sent_events):
    item = queue.receive(session, received())
    session.commit()
    queue.decide(session, outbox, "first@example.org", item.submission_id, decision())
    session.commit()
    with pytest.raises(Conflict) as conflict:
        queue.decide(session, outbox, "second@example.org", item.submission_id,
                     decision("reject", reason_code="spam", reason="spam"))
    assert "first@example.org" in conflict.value.message
    session.rollback()
    assert queue.show(session, item.submission_id)["state"] == "approved"
    assert len(sent_events()) == 1


def test_two_sessions_racing_on_one_version_one_wins(moderation_db, outbox):
    """Both moderators read version 1; the database lets only one UPDATE … WHERE version = 1 through."""
    with Session(moderation_db) as setup:
        submission_id = queue.receive(setup, received()).submission_id
        setup.commit()
    first, second = Session(moderation_db), Session(moderation_db)
    try:
        first_item = queue._get(first, submission_id)
        second_item = queue._get(second, submission_id)
        assert first_item.version == second_item.version == 1
        queue.decide(first, outbox, "first@example.org", submission_id, decision())
        first.commit()
        with pytest.raises(Conflict):
            queue.decide(second, outbox, "second@example.org", submission_id,
                         decision("reject", reason_code="spam", reason="spam"))
    finally:
        first.close()
        second.close()
    with Session(moderation_db) as check:
        shown = queue.show(check, submission_id)
        assert (shown["state"], shown["decided_by"]) == ("approved", "first@example.org")
        assert [s["action"] for s in shown["history"]] == ["submitted", "approve"]


def test_directory_outcomes_and_withdrawal_are_recorded(session, outbox):
    item = queue.receive(session, received())
    queue.decide(session, outbox, "mod@example.org", item.submission_id,
                 decision("request_changes", reason_code="incomplete", reason="Add a website."))
    queue.directory_decided(session, {"submission_id": item.submission_id, "state": "changes_requested",
                                      "reason_code": "incomplete", "reason": "Add a website."})
    resubmitted = queue.receive(session, received(submission_id="b" * 36))
    assert resubmitted.priority == queue.RESUBMISSION
    queue.directory_decided(session, {"submission_id": resubmitted.submission_id, "state": "withdrawn"})
    session.commit()
    shown = queue.show(session, resubmitted.submission_id)
    assert shown["state"] == "withdrawn"
    assert [(s["actor"], s["action"]) for s in shown["history"]] == [("submitter", "submitted"),
                                                                       ("submitter", "withdrawn")]
    assert [other["submission_id"] for other in shown["related"]] == [item.submission_id]


def test_a_decision_that_overtakes_its_submission_keeps_its_state(session):
    payload = received()
    queue.directory_decided(session, {"submission_id": payload["submission_id"], "record_id": 7,
                                      "kind": "organisation", "action": "create", "state": "withdrawn"})
    item = queue.receive(session, payload)
    assert item.state == "withdrawn" and item.name == "Open Health Lab"


def test_history_is_append_only(session):
    queue.receive(session, received())
    session.commit()
    entry = session.scalars(select(HistoryEntry)).first()
    entry.reason = "rewritten"
    with pytest.raises(RuntimeError):
        session.flush()
    session.rollback()
    session.delete(session.scalars(select(HistoryEntry)).first())
    with pytest.raises(RuntimeError):
        session.flush()


def test_list_filters_sorts_pages_and_counts(session, outbox):
    old = iso(utcnow() - timedelta(days=10))
    a = queue.receive(session, received(name="Alpha", country="ES", submitted_at=old))
    b = queue.receive(session, received(name="Beta", country="PL", kind="project"))
    c = queue.receive(session, received(name="Gamma", country="PL", action="update", published={"name": "G"}))
    queue.decide(session, outbox, "mod@example.org", b.submission_id, decision())
    session.commit()

    def names(**filters):
        return [item["name"] for item in queue.list_items(session, parse(Filters, filters))["items"]]

    listing = queue.list_items(session, Filters())
    assert listing["counts"]["pending"] == 2 and listing["counts"]["approved"] == 1 and listing["total"] == 2
    assert names() == ["Gamma", "Alpha"]  # an edit of a public record first
    assert names(sort="oldest") == ["Alpha", "Gamma"]
    assert names(sort="newest") == ["Gamma", "Alpha"]
    assert sorted(names(country="pl", state="all")) == ["Beta", "Gamma"]
    assert names(kind="project", state="approved") == ["Beta"]
    assert names(older_than_days=7) == ["Alpha"]
    assert names(q="alp") == ["Alpha"]
    assert names(per_page=1, page=2, sort="oldest") == ["Gamma"]
    with pytest.raises(InvalidInput) as refused:
        parse(Filters, {"sort": "random", "per_page": 1000})
    assert set(refused.value.details) == {"sort", "per_page"}
    assert {c.submission_id, a.submission_id} == {item["submission_id"] for item in
                                                 queue.list_items(session, Filters())["items"]}


def test_linked_records_show_by_name_with_their_role(session):
    """The directory names the records a proposal links to; the published version names its own links."""
    published = {"id": 7, "kind": "project", "name": "Care Map",
                 "organisations": [{"id": 3, "kind": "organisation", "name": "Waag", "role": "lead"}]}
    proposed = {"name": "Care Map", "organisations": [{"id": 3, "role": "partner"}, {"id": 9, "role": "lead"}]}
    item = queue.receive(session, received(kind="project", action="update", published=published, proposed=proposed,
                                           linked=[{"id": 3, "name": "Waag"}, {"id": 9, "name": "Fab Lab Barcelona"}]))
    session.commit()
    [change] = queue.show(session, item.submission_id)["diff"]
    assert change["before"] == [{"id": 3, "role": "lead", "name": "Waag"}]
    assert change["after"] == [{"id": 3, "role": "partner", "name": "Waag"},
                               {"id": 9, "role": "lead", "name": "Fab Lab Barcelona"}]


def test_the_queue_knows_whether_the_address_is_confirmed(session):
    unconfirmed = queue.receive(session, received())
    early = received()
    queue.confirmed(session, {"submission_id": early["submission_id"]})  # overtook its submission
    session.commit()
    assert queue.show(session, unconfirmed.submission_id)["email_confirmed"] is False
    queue.confirmed(session, {"submission_id": unconfirmed.submission_id})
    queue.receive(session, early)
    session.commit()
    assert queue.show(session, unconfirmed.submission_id)["email_confirmed"] is True
    assert queue.show(session, early["submission_id"])["email_confirmed"] is True
    assert queue.show(session, early["submission_id"])["history"][0]["to_state"] == "pending"


def test_bulk_results_are_named_by_their_records(session):
    first, second = queue.receive(session, received(name="Care Map")), queue.receive(session, received())
    session.commit()
    assert queue.names(session, [first.submission_id, second.submission_id, "unknown"]) == {
        first.submission_id: "Care Map", second.submission_id: "Open Health Lab"}
    assert queue.names(session, []) == {}


def test_a_project_and_the_organisation_proposed_with_it_show_each_other(session):
    email = "lead@example.org"
    new_org = queue.receive(session, received(record_id=21, name="Kraków Care Co-op", email=email,
                                              proposed={"name": "Kraków Care Co-op"}))
    someone_elses = queue.receive(session, received(record_id=22, email="other@example.org"))
    project = queue.receive(session, received(
        record_id=30, kind="project", name="Care Map", email=email,
        proposed={"name": "Care Map", "organisations": [{"id": 21, "role": "partner"}, {"id": 22, "role": "partner"},
                                                        {"id": 3, "role": "lead"}]}))
    alone = queue.receive(session, received(record_id=40, email=email))
    session.commit()
    assert [other["name"] for other in queue.show(session, project.submission_id)["together"]] == [
        "Kraków Care Co-op"]
    assert [other["name"] for other in queue.show(session, new_org.submission_id)["together"]] == ["Care Map"]
    assert queue.show(session, someone_elses.submission_id)["together"] == []
    assert queue.show(session, alone.submission_id)["together"] == []
