"""The directory's lifecycle on a real database (SQLite and PostgreSQL): submit, decide, edit, hide."""
import json
import random

import pytest
from sqlalchemy import select

from dsi import events, kinds, signing
from dsi.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.directory import demo, records
from services.directory.models import Record, RecordLink
from services.directory.schemas import list_item, public_record
from tests.factories import organisation_body, project_body
from tests.helpers import statements_run

URL = "http://dsi.test"


def decide(session, outbox, submission_id, event_type, **payload):
    event = {"id": f"evt-{submission_id}-{event_type}", "type": event_type,
             "payload": {"submission_id": submission_id, **payload}}
    records.apply_decision(session, outbox, event, URL)
    session.commit()


def confirm(session, outbox, submitted):
    records.confirm_email(session, outbox, submitted["id"], signing.sign(records.CONFIRM_TOKEN, submitted["id"]))
    session.commit()


def mails(sent_events) -> list[dict]:
    return [e["payload"] for e in sent_events() if e["type"] == events.MAIL_REQUESTED]


def test_submission_is_pending_until_approved(session, outbox, sent_events):
    submitted = records.submit(session, outbox, organisation_body(), URL)
    session.commit()
    assert submitted["state"] == "pending"
    record_id = submitted["record_id"]
    with pytest.raises(NotFound):
        records.get_published(session, "organisation", record_id)
    assert records.list_published(session, "organisation", {})["total"] == 0
    assert [e["type"] for e in sent_events()] == [events.SUBMISSION_RECEIVED, events.MAIL_REQUESTED]

    decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED, moderator="mod@example.org")
    public = records.get_published(session, "organisation", record_id)
    assert public["name"] == "Open Health Lab"
    assert public["organisation_type"]["value"] == "social-enterprise-charity-foundation-or-other-non-profit"
    assert "contact_email" not in public and "founder@example.org" not in str(public)
    published = [e for e in sent_events() if e["type"] == events.RECORD_PUBLISHED]
    assert published[-1]["payload"]["record"]["version"] == 1


def test_rejection_keeps_record_hidden_with_reason(session, outbox, sent_events):
    submitted = records.submit(session, outbox, project_body(), URL)
    session.commit()
    confirm(session, outbox, submitted)
    decide(session, outbox, submitted["id"], events.SUBMISSION_REJECTED, reason_code="spam", reason="Advertising")
    status = records.get_status(session, submitted["id"], submitted["status_token"])
    assert (status["state"], status["reason_code"], status["reason"]) == ("rejected", "spam", "Advertising")
    with pytest.raises(NotFound):
        records.get_published(session, "project", submitted["record_id"])
    mail = [e for e in sent_events() if e["type"] == events.MAIL_REQUESTED][-1]["payload"]
    assert mail["template"] == "submission_rejected" and mail["context"]["reason"] == "Advertising"
    assert mail["context"]["reason_label"] == "Spam or advertising"


def test_edit_of_published_record_waits_for_approval(session, outbox):
    submitted = records.submit(session, outbox, project_body(), URL)
    session.commit()
    decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)
    record_id = submitted["record_id"]
    token = records.edit_url(session.get(records.Record, record_id), URL).split("token=")[1]

    body = {k: v for k, v in project_body(name="Care Map 2").items() if k not in ("kind", "email")}
    revision = records.propose_edit(session, outbox, record_id, body, token, URL)
    session.commit()
    assert revision["action"] == "update" and revision["state"] == "pending"
    assert records.get_published(session, "project", record_id)["name"] == "Care Map"

    decide(session, outbox, revision["id"], events.SUBMISSION_APPROVED)
    public = records.get_published(session, "project", record_id)
    assert public["name"] == "Care Map 2" and public["version"] == 2


def test_rejected_edit_leaves_public_version(session, outbox):
    submitted = records.submit(session, outbox, project_body(), URL)
    session.commit()
    decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)
    token = records.edit_url(session.get(records.Record, submitted["record_id"]), URL).split("token=")[1]
    body = {k: v for k, v in project_body(name="Vandalised").items() if k not in ("kind", "email")}
    revision = records.propose_edit(session, outbox, submitted["record_id"], body, token, URL)
    session.commit()
    decide(session, outbox, revision["id"], events.SUBMISSION_REJECTED, reason_code="quality", reason="No")
    assert records.get_published(session, "project", submitted["record_id"])["name"] == "Care Map"


def test_edit_link_is_bound_to_its_record(session, outbox):
    first = records.submit(session, outbox, project_body(), URL)
    second = records.submit(session, outbox, project_body(name="Other"), URL)
    session.commit()
    token = records.edit_url(session.get(records.Record, first["record_id"]), URL).split("token=")[1]
    with pytest.raises(Forbidden):
        records.propose_edit(session, outbox, second["record_id"], {}, token, URL)
    with pytest.raises(Forbidden):
        records.propose_edit(session, outbox, first["record_id"], {}, "forged", URL)


def test_decision_applies_once(session, outbox, sent_events):
    submitted = records.submit(session, outbox, project_body(), URL)
    session.commit()
    decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)
    decide(session, outbox, submitted["id"], events.SUBMISSION_REJECTED, reason_code="late", reason="too late")
    assert records.get_status(session, submitted["id"], submitted["status_token"])["state"] == "approved"
    assert len([e for e in sent_events() if e["type"] == events.RECORD_PUBLISHED]) == 1


def test_withdraw_and_conflict(session, outbox):
    submitted = records.submit(session, outbox, project_body(), URL)
    session.commit()
    assert records.withdraw(session, outbox, submitted["id"], submitted["status_token"])["state"] == "withdrawn"
    session.commit()
    with pytest.raises(Conflict):
        records.withdraw(session, outbox, submitted["id"], submitted["status_token"])


def test_a_published_record_is_read_with_its_terms_and_links_in_one_statement(session, outbox):
    """One round trip per record page: its published links (by name, whatever order they were made in) come in
    the record's own statement, as the separate query for them gave them."""
    organisations = [records.submit(session, outbox, organisation_body(name=name), URL)
                     for name in ("Zeta Lab", "Alpha Lab")]  # made in the other order than their names'
    session.commit()
    project = records.submit(session, outbox, project_body(
        organisations=[{"id": org["record_id"], "role": "lead"} for org in organisations]), URL)
    session.commit()
    for submitted in (*organisations, project):
        decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)
    with statements_run(session.get_bind()) as statements:
        read = records.get_published(session, "project", project["record_id"])
    assert len(statements) == 1
    stored = session.get(Record, project["record_id"])
    assert read["organisations"] == records.links_of(session, stored) and \
        [org["name"] for org in read["organisations"]] == ["Alpha Lab", "Zeta Lab"]
    assert {org["role"] for org in read["organisations"]} == {"lead"}


def test_links_are_checked_and_shown_when_published(session, outbox):
    org = records.submit(session, outbox, organisation_body(), URL)
    session.commit()
    with pytest.raises(InvalidInput) as error:
        records.submit(session, outbox, project_body(organisations=[{"id": 99999, "role": "lead"}]), URL)
    assert "organisations" in error.value.details
    session.rollback()
    project = records.submit(session, outbox, project_body(organisations=[{"id": org["record_id"], "role": "lead"}]), URL)
    session.commit()
    decide(session, outbox, project["id"], events.SUBMISSION_APPROVED)
    assert records.get_published(session, "project", project["record_id"])["organisations"] == []  # org not public
    decide(session, outbox, org["id"], events.SUBMISSION_APPROVED)
    [link] = records.get_published(session, "project", project["record_id"])["organisations"]
    assert (link["id"], link["role"]) == (org["record_id"], "lead")
    [organisation] = records.list_published(session, "organisation", {})["items"]
    full = records.get_published(session, "organisation", org["record_id"])
    assert full["projects"][0]["id"] == project["record_id"]
    exported = {item["id"]: item for item in records.export_published(session)["items"]}
    assert exported[org["record_id"]]["projects"] == full["projects"]
    assert exported[project["record_id"]]["organisations"][0]["id"] == org["record_id"]
    # a list item is the full record without its long texts and links (those stay at /{id})
    assert organisation == {name: value for name, value in full.items()
                            if name not in ("long_description", "address", "projects")}
    [listed_project] = records.list_published(session, "project", {})["items"]
    assert listed_project == {name: value for name, value in exported[project["record_id"]].items()
                              if name not in ("long_description", "social_impact", "organisations")}


def test_list_filters_or_within_and_across(session, outbox):
    bodies = [
        project_body(name="Alpha", country="ES", social_areas=["Health and care"]),
        project_body(name="Beta", country="PL", social_areas=["Digital democracy"]),
        project_body(name="Gamma", country="PL", social_areas=["Health and care"], technologies=["Big data"]),
    ]
    for body in bodies:
        submitted = records.submit(session, outbox, body, URL)
        session.commit()
        decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)

    def names(**filters):
        return [item["name"] for item in records.list_published(session, "project", filters)["items"]]

    assert names(country=["pl"]) == ["Beta", "Gamma"]
    assert names(area=["health-and-care", "digital-democracy"]) == ["Alpha", "Beta", "Gamma"]
    assert names(area=["health-and-care"], country=["PL"]) == ["Gamma"]
    assert names(technology=["big-data"]) == ["Gamma"]
    page = records.list_published(session, "project", {}, page=2, per_page=2)
    assert (page["total"], [i["name"] for i in page["items"]]) == (3, ["Gamma"])
    with pytest.raises(InvalidInput):
        records.list_published(session, "project", {"colour": ["red"]})


def test_a_filter_of_another_kind_is_refused_not_answered_empty(session):
    """Organisations have no social area: "none matched" would be untrue of the question, so it is refused as an
    unknown filter is, naming the kind's own filters (the registry's, as the API document lists them)."""
    for kind, name, value in [("organisation", "area", "health-and-care"),
                              ("project", "type", "academia-research-organisation")]:
        with pytest.raises(InvalidInput) as refused:
            records.list_published(session, kind, {name: [value]})
        own = [each for each, _ in kinds.get(kind).api_filters]
        assert refused.value.message == f"{kinds.get(kind).label} have no filter {name!r}."
        assert refused.value.details == {name: f"the filters of {kinds.get(kind).plural} are {', '.join(own)}"}
        assert name not in own and {"country", "tag"} <= set(own)


def test_a_filter_value_no_record_can_hold_is_refused_and_a_label_is_read_as_its_slug(session, outbox):
    """A typo in a filter's value would answer "none matched": it is refused, naming the filter, as the search
    refuses it. A vocabulary's label or 2017 name means its slug, and a country code is read in any case."""
    submitted = records.submit(session, outbox, project_body(country="PL", social_areas=["Health and care"]), URL)
    session.commit()
    decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)
    for kind, name, value in [("project", "country", "ZZ"), ("project", "area", "health"),
                              ("project", "technology", "telepathy"), ("project", "focus", "nonsense"),
                              ("organisation", "type", "guild")]:
        with pytest.raises(InvalidInput) as refused:
            records.list_published(session, kind, {name: ["PL" if name == "country" else "", value]})
        assert value in refused.value.message and name in refused.value.details
    assert records.list_published(session, "project", {"area": ["Health and care"], "country": ["pl"]})["total"] == 1
    assert records.list_published(session, "project", {"tag": ["anything at all"]})["total"] == 0


FILTERED_LISTS = [
    ("project", {}), ("organisation", {}), ("project", {"country": ["es", "PL"]}),
    ("organisation", {"type": ["for-profit-business", "academia-research-organisation"]}),
    ("project", {"area": ["health-and-care"]}), ("project", {"technology": ["open-data", "big-data"]}),
    ("project", {"area": ["health-and-care", "skills-and-learning"], "focus": ["open-data", "open-knowledge"],
                 "country": ["ES", "IT", "DE"]}),
    ("organisation", {"country": ["DE", "FR"], "type": ["for-profit-business"], "tag": ["demo"]}),
]


@pytest.mark.parametrize("kind, filters", FILTERED_LISTS)
def test_a_lists_total_is_the_number_of_items_over_all_its_pages(session, outbox, kind, filters):
    demo.load_demo(session, outbox, 60, random.Random(14))
    records.submit(session, outbox, project_body(country="ES", social_areas=["Health and care"]), URL)  # pending
    session.commit()
    whole = records.list_published(session, kind, filters, 1, 100)
    pages, listed = [records.list_published(session, kind, filters, 1, 7)], []
    while pages[-1]["items"]:
        listed += pages[-1]["items"]
        pages.append(records.list_published(session, kind, filters, len(pages) + 1, 7))
    assert 0 < whole["total"] < 60 or not filters
    assert {page["total"] for page in pages} == {whole["total"]} == {len(listed)}  # past the end too
    assert listed == whole["items"]
    assert [item["name"].lower() for item in listed] == sorted(item["name"].lower() for item in listed)
    for item in listed:  # each item is what the record's own page shows, but the long texts and links
        full = records.get_published(session, kind, item["id"])
        assert item == {name: value for name, value in full.items()
                        if name not in ("long_description", "social_impact", "address", "projects", "organisations")}


def test_html_is_sanitised(session, outbox):
    body = project_body(long_description='<p onclick="x()">Hi<script>alert(1)</script> <a href="javascript:alert(1)">x</a>'
                                         ' <a href="https://ok.example">ok</a></p>')
    submitted = records.submit(session, outbox, body, URL)
    session.commit()
    decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)
    html = records.get_published(session, "project", submitted["record_id"])["long_description"]
    assert "script" not in html and "javascript" not in html and "onclick" not in html
    assert 'href="https://ok.example"' in html


def test_mails_are_in_the_submitters_language_and_link_to_its_pages(session, outbox, sent_events):
    submitted = records.submit(session, outbox, {**project_body(), "language": "pl"}, URL)
    session.commit()
    received = mails(sent_events)[-1]
    assert received["language"] == "pl"
    assert received["context"]["status_url"].startswith(f"{URL}/pl/submissions/{submitted['id']}?token=")
    assert received["context"]["confirm_url"].startswith(f"{URL}/pl/submissions/{submitted['id']}/confirm?token=")
    confirm(session, outbox, submitted)
    decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)
    approved = mails(sent_events)[-1]
    assert (approved["template"], approved["language"]) == ("submission_approved", "pl")
    assert approved["context"]["record_url"] == f"{URL}/pl/projects/{submitted['record_id']}"  # the published page
    assert approved["context"]["edit_url"].startswith(f"{URL}/pl/records/{submitted['record_id']}/edit?token=")
    edit_token = approved["context"]["edit_url"].split("token=")[1]
    body = {k: v for k, v in project_body(name="Renamed").items() if k not in ("kind", "email")}
    edit = records.propose_edit(session, outbox, submitted["record_id"], body, edit_token, URL, "de")
    session.commit()
    assert mails(sent_events)[-1]["language"] == "de" and "/de/submissions/" in mails(sent_events)[-1][
        "context"]["status_url"]
    assert edit["state"] == "pending"


def test_decisions_are_mailed_only_to_confirmed_addresses(session, outbox, sent_events):
    submitted = records.submit(session, outbox, organisation_body(), URL)
    session.commit()
    decide(session, outbox, submitted["id"], events.SUBMISSION_REJECTED, reason_code="spam", reason="Advertising")
    assert [mail["template"] for mail in mails(sent_events)] == ["submission_received"]
    assert records.get_status(session, submitted["id"], submitted["status_token"])["state"] == "rejected"


def test_an_unknown_language_is_refused():
    with pytest.raises(InvalidInput) as refused:
        records.parse_submission({**organisation_body(), "language": "xx"})
    assert "language" in refused.value.details


def test_a_project_proposes_new_organisations_reviewed_beside_it(session, outbox, sent_events):
    existing = records.submit(session, outbox, organisation_body(name="Waag Society"), URL)
    session.commit()
    decide(session, outbox, existing["id"], events.SUBMISSION_APPROVED)
    found = records.published_by_name(session, "organisation", ["waag society", "Nobody Yet"])
    assert found == {"waag society": {"id": existing["record_id"], "name": "Waag Society"}}
    accented = records.submit(session, outbox, organisation_body(name="Ökoland Verein"), URL)
    session.commit()
    decide(session, outbox, accented["id"], events.SUBMISSION_APPROVED)
    assert records.published_by_name(session, "organisation", ["Ökoland Verein"])["Ökoland Verein"]["id"] == \
        accented["record_id"]  # as picked from the type-ahead, on SQLite as on PostgreSQL

    submitted = records.submit(session, outbox, project_body(
        organisations=[{"id": existing["record_id"]}], new_organisations=["Kraków Care Co-op"]), URL)
    session.commit()
    received = [e["payload"] for e in sent_events() if e["type"] == events.SUBMISSION_RECEIVED][-2:]
    assert [(item["kind"], item["name"]) for item in received] == [
        ("organisation", "Kraków Care Co-op"), ("project", "Care Map")]
    new_org_id = received[0]["record_id"]
    assert {link["id"] for link in received[1]["proposed"]["organisations"]} == {existing["record_id"], new_org_id}
    assert [mail["context"]["name"] for mail in mails(sent_events)][-1] == "Care Map"  # one mail, the project's
    assert sum(mail["context"]["name"] == "Kraków Care Co-op" for mail in mails(sent_events)) == 0
    status = records.get_status(session, submitted["id"], submitted["status_token"])
    assert status["proposed_organisations"] == [{"name": "Kraków Care Co-op", "state": "pending"}]

    confirm(session, outbox, submitted)  # confirming the project confirms the organisation proposed with it
    decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)
    project = records.get_published(session, "project", submitted["record_id"])
    assert [org["name"] for org in project["organisations"]] == ["Waag Society"]  # the new one is not public yet

    decide(session, outbox, received[0]["submission_id"], events.SUBMISSION_APPROVED)
    project = records.get_published(session, "project", submitted["record_id"])
    assert [org["name"] for org in project["organisations"]] == ["Kraków Care Co-op", "Waag Society"]
    republished = [e["payload"]["record"] for e in sent_events() if e["type"] == events.RECORD_PUBLISHED][-1]
    assert republished["id"] == submitted["record_id"] and len(republished["organisations"]) == 2
    assert mails(sent_events)[-1]["template"] == "submission_approved"  # its address was confirmed


def test_withdrawing_a_project_withdraws_the_organisations_proposed_with_it(session, outbox):
    submitted = records.submit(session, outbox, project_body(new_organisations=["Fresh Org", "Other Org"]), URL)
    session.commit()
    records.withdraw(session, outbox, submitted["id"], submitted["status_token"])
    session.commit()
    status = records.get_status(session, submitted["id"], submitted["status_token"])
    assert status["state"] == "withdrawn"
    assert [org["state"] for org in status["proposed_organisations"]] == ["withdrawn", "withdrawn"]


def test_new_organisations_are_names(session, outbox):
    with pytest.raises(InvalidInput) as refused:
        records.submit(session, outbox, project_body(new_organisations=["x"]), URL)
    assert set(refused.value.details) == {"new_organisations.0"}
    with pytest.raises(InvalidInput) as refused:
        records.submit(session, outbox, project_body(new_organisations=[f"Org {n}" for n in range(11)]), URL)
    assert set(refused.value.details) == {"new_organisations"}


def _orm_public_view(session, record: Record) -> dict:
    """A published record's public view built the way the reads were before they became Core statements: the ORM
    record with its terms relationship, its published links by an ORM query (the reference the reads must match)."""
    own, other = ((RecordLink.organisation_id, RecordLink.project_id) if record.kind == "organisation"
                  else (RecordLink.project_id, RecordLink.organisation_id))
    links = [dict(row._mapping) for row in session.execute(
        select(Record.id, Record.kind, Record.name, RecordLink.role).join(RecordLink, other == Record.id)
        .where(own == record.id, Record.status == records.PUBLISHED).order_by(Record.name))]
    return public_record(record, links)


def test_the_reads_answer_as_the_orm_records_do(session, outbox):
    demo.load_demo(session, outbox, 60, random.Random(14))
    for body in (organisation_body(country="es"), project_body(country="ES", social_areas=["Health and care"])):
        submitted = records.submit(session, outbox, body, URL)  # one published by a moderator, one still pending
        session.commit()
    decide(session, outbox, submitted["id"], events.SUBMISSION_APPROVED)
    hidden = session.scalars(select(Record).where(Record.kind == "organisation")).first()
    records.set_visibility(session, outbox, {"type": events.RECORD_HIDDEN, "payload": {"record_id": hidden.id}})
    session.commit()
    session.expire_all()
    for record in session.scalars(select(Record).order_by(Record.id)).all():
        for kind in ("organisation", "project"):
            if record.status == records.PUBLISHED and record.kind == kind:  # as JSON: the keys' order too
                expected = json.dumps(_orm_public_view(session, record))
                assert json.dumps(records.get_published(session, kind, record.id)) == expected
                # the service reads on a bare connection
                assert json.dumps(records.get_published(session.connection(), kind, record.id)) == expected
            else:
                with pytest.raises(NotFound):
                    records.get_published(session, kind, record.id)
    for kind, filters in FILTERED_LISTS:
        listed = records.list_published(session, kind, filters, 1, 100)["items"]
        assert listed, (kind, filters)
        assert records.list_published(session.connection(), kind, filters, 1, 100)["items"] == listed
        for item in listed:
            record = session.get(Record, item["id"])
            terms = {}
            for term in record.terms:
                terms.setdefault(term.facet, []).append(term.value)
            assert json.dumps(item) == json.dumps(list_item(record, terms))
