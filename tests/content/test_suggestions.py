"""Suggestions of events and funding from the public: the directory's submission contract, moderation's
decisions (on our submissions only), approval publishes."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from dsi import events, signing
from dsi.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.content import listing, suggestions
from services.content.models import Item

URL = "https://dsi.test"


def event_body(**overrides):
    start = (datetime.now() + timedelta(days=12)).replace(microsecond=0, second=0)
    return {"kind": "event", "email": "Someone@Example.org", "title": "Community hack day",
            "summary": "A day of building.", "body": "Join us: [site](https://hack.test) <script>x()</script>",
            "start": start.isoformat(), "timezone": "Europe/Madrid", "attendance": "in_person",
            "city": "Barcelona", "country": "ES", "free": True, **overrides}


def decision(event_type, submission_id, **payload):
    return {"id": f"evt-{submission_id}-{event_type}", "type": event_type,
            "payload": {"submission_id": submission_id, "moderator": "mod@dsi.test", **payload}}


def test_submit_queues_it_invisibly_and_mails_the_links(session, outbox, sent_events):
    status = suggestions.submit(session, outbox, event_body(), URL)
    session.commit()
    assert status["state"] == "pending" and status["kind"] == "event"
    assert listing.list_published(session, "event")["total"] == 0
    received, mail = sent_events()
    assert received["type"] == events.SUBMISSION_RECEIVED
    assert received["payload"] | {"kind": "event", "action": "create", "name": "Community hack day",
                                  "country": "ES", "email": "someone@example.org"} == received["payload"]
    assert mail["type"] == events.MAIL_REQUESTED and mail["payload"]["template"] == "submission_received"
    assert mail["payload"]["context"]["confirm_url"].startswith(f"{URL}/submissions/{status['id']}/confirm?token=")
    item = session.get(Item, status["record_id"])
    assert 'rel="nofollow ugc noopener noreferrer"' in item.body_html and "<script" not in item.body_html


def test_approval_publishes_and_tells_the_submitter_in_their_language(session, outbox, sent_events):
    status = suggestions.submit(session, outbox, event_body(language="pl"), URL)
    received = sent_events()[-1]["payload"]
    assert received["language"] == "pl"
    assert received["context"]["confirm_url"].startswith(f"{URL}/pl/submissions/{status['id']}/confirm?token=")
    suggestions.confirm_email(session, outbox, status["id"], signing.sign(signing.SUBMISSION_CONFIRM, status["id"]))
    assert sent_events()[-1]["type"] == events.SUBMISSION_CONFIRMED  # the console shows the address confirmed
    suggestions.apply_decision(session, outbox, decision(events.SUBMISSION_APPROVED, status["id"]), URL)
    session.commit()
    [published] = listing.list_published(session, "event")["items"]
    assert published["name"] == "Community hack day"
    kinds = [e["type"] for e in sent_events()][3:]
    assert kinds == [events.CONTENT_PUBLISHED, events.SUBMISSION_DECIDED, events.MAIL_REQUESTED]
    decided = sent_events()[4]["payload"]
    assert decided["state"] == "approved" and decided["submission_id"] == status["id"]
    mail = sent_events()[5]["payload"]
    assert (mail["template"], mail["language"]) == ("submission_approved", "pl")
    assert mail["context"]["record_url"] == f"{URL}/pl/events/{published['slug']}"  # the published page, in Polish


def test_decisions_go_only_to_confirmed_addresses(session, outbox, sent_events):
    status = suggestions.submit(session, outbox, event_body(), URL)
    suggestions.apply_decision(session, outbox, decision(events.SUBMISSION_REJECTED, status["id"],
                                                         reason_code="spam", reason="Ads."), URL)
    session.commit()
    assert [e["type"] for e in sent_events()][-1] == events.SUBMISSION_DECIDED  # and no mail


def test_rejection_keeps_it_private(session, outbox, sent_events):
    status = suggestions.submit(session, outbox, {
        "kind": "funding", "email": "funder@example.org", "title": "Free money", "rolling": True,
        "funding_types": ["Grant funding"], "countries": ["FR"], "apply_url": "apply.test"}, URL)
    suggestions.confirm_email(session, outbox, status["id"], signing.sign(signing.SUBMISSION_CONFIRM, status["id"]))
    suggestions.apply_decision(session, outbox, decision(events.SUBMISSION_REJECTED, status["id"],
                                                         reason_code="spam", reason="Advertising"), URL)
    session.commit()
    assert listing.list_published(session, "funding")["total"] == 0
    token = signing.sign(signing.SUBMISSION_STATUS, status["id"])
    assert suggestions.get_status(session, status["id"], token)["state"] == "rejected"
    assert sent_events()[-1]["payload"]["context"]["reason_label"] == "Spam or advertising"


def test_decisions_on_other_services_submissions_are_ignored(session, outbox, sent_events):
    suggestions.apply_decision(session, outbox, decision(events.SUBMISSION_APPROVED, "a-directory-submission"), URL)
    assert sent_events() == []


def test_status_confirm_and_withdraw_by_token(session, outbox, sent_events):
    status = suggestions.submit(session, outbox, event_body(), URL)
    with pytest.raises(Forbidden):
        suggestions.get_status(session, status["id"], "forged")
    confirm = signing.sign(signing.SUBMISSION_CONFIRM, status["id"])
    assert suggestions.confirm_email(session, outbox, status["id"], confirm)["email_confirmed"] is True
    with pytest.raises(Forbidden):  # a confirm token does not open the status page
        suggestions.get_status(session, status["id"], confirm)
    withdrawn = suggestions.withdraw(session, outbox, status["id"], status["status_token"])
    assert withdrawn["state"] == "withdrawn"
    assert sent_events()[-1]["type"] == events.SUBMISSION_DECIDED
    with pytest.raises(Conflict):
        suggestions.withdraw(session, outbox, status["id"], status["status_token"])
    suggestions.apply_decision(session, outbox, decision(events.SUBMISSION_APPROVED, status["id"]), URL)
    assert listing.list_published(session, "event")["total"] == 0  # a late approval changes nothing
    other = signing.sign(signing.SUBMISSION_STATUS, "unknown")
    with pytest.raises(NotFound):
        suggestions.get_status(session, "unknown", other)


def test_bad_suggestions_are_refused_per_field(session, outbox):
    for body, field in ((event_body(kind="story"), "kind"), (event_body(email="nope"), "email"),
                        (event_body(start=None), "start"), (event_body(country="XX"), "country"),
                        ([], "_")):
        with pytest.raises(InvalidInput) as error:
            suggestions.submit(session, outbox, body, URL)
        assert field in error.value.details
    assert session.scalars(select(Item)).all() == []


def test_a_retried_submission_is_stored_once(session, outbox):
    first = suggestions.submit(session, outbox, event_body(), URL, submission_id="2b9f6c1e-0000-4000-8000-00000000abcd")
    again = suggestions.submit(session, outbox, event_body(), URL, submission_id=first["id"])
    assert again["id"] == first["id"] and len(session.scalars(select(Item)).all()) == 1


def test_changes_requested_mails_an_edit_link_and_sending_again_goes_back_to_moderation(
        session, outbox, sent_events):
    status = suggestions.submit(session, outbox, event_body(title="Hack day"), URL)
    suggestions.confirm_email(session, outbox, status["id"], signing.sign(signing.SUBMISSION_CONFIRM, status["id"]))
    suggestions.apply_decision(session, outbox, decision(events.CHANGES_REQUESTED, status["id"],
                                                         reason_code="incomplete", reason="Which venue?"), URL)
    session.commit()
    mail = sent_events()[-1]["payload"]
    assert mail["template"] == "submission_changes_requested"
    edit_url = mail["context"]["edit_url"]
    assert edit_url.startswith(f"{URL}/suggestions/{status['id']}/edit?token=")
    token = edit_url.split("token=")[1]

    opened = suggestions.for_editing(session, status["id"], token)
    assert opened["kind"] == "event" and opened["reason"] == "Which venue?"
    assert opened["fields"]["title"] == "Hack day" and opened["fields"]["email"] == "someone@example.org"
    with pytest.raises(Forbidden):
        suggestions.for_editing(session, status["id"], token[:-2] + "xx")  # forged
    with pytest.raises(Forbidden):
        suggestions.for_editing(session, "another-id", token)

    again = suggestions.resubmit(session, outbox, status["id"], token,
                                 {**opened["fields"], "venue": "Sala Fabra", "email": "thief@evil.test"}, URL)
    session.commit()
    assert again["state"] == "pending" and again["id"] != status["id"] and again["email_confirmed"]
    assert again["record_id"] == status["record_id"]
    item = session.get(Item, status["record_id"])
    assert item.state == "pending" and item.source["venue"] == "Sala Fabra"
    assert listing.list_published(session, "event")["total"] == 0  # still waiting for a moderator
    received, mail = sent_events()[-2:]
    assert received["type"] == events.SUBMISSION_RECEIVED and received["payload"]["submission_id"] == again["id"]
    assert received["payload"]["record_id"] == status["record_id"]
    assert received["payload"]["email"] == mail["payload"]["to"] == "someone@example.org"  # not the body's
    with pytest.raises(Forbidden):  # the link was for that round of changes; it is spent
        suggestions.resubmit(session, outbox, status["id"], token, opened["fields"], URL)

    suggestions.apply_decision(session, outbox, decision(events.SUBMISSION_APPROVED, again["id"]), URL)
    session.commit()
    assert [i["name"] for i in listing.list_published(session, "event")["items"]] == ["Hack day"]


def test_an_edit_link_opens_only_a_suggestion_waiting_for_changes(session, outbox):
    status = suggestions.submit(session, outbox, event_body(), URL)
    pending = session.get(suggestions.Suggestion, status["id"])
    token = signing.sign_ref(signing.SUGGESTION_EDIT, status["id"], suggestions._edit_binding(pending))
    with pytest.raises(Forbidden):
        suggestions.for_editing(session, status["id"], token)
