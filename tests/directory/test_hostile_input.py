"""Hostile input at the owner: ids past what a column holds, deep paging, bidi overrides and control characters,
websites that are no http(s) URL, forged and stale edit links, and logs without submitters' addresses. The RPCs
run in a real nameko container on SQLite and PostgreSQL."""
import logging

import pytest
from nameko.exceptions import RemoteError

from dsi import events, signing
from dsi.errors import Forbidden, InvalidInput
from dsi.schemas import normalise_website, parse_submission
from services.directory import records
from tests.factories import project_body

URL = "http://dsi.test"


def remote_type(call) -> str:
    """The name of the error an RPC answered with (dsi's errors arrive as themselves, others as RemoteError)."""
    try:
        call()
    except RemoteError as error:
        return error.exc_type
    except Exception as error:
        return type(error).__name__
    raise AssertionError("the call did not fail")


def test_huge_ids_and_deep_pages_are_clear_errors_not_driver_failures(directory):
    for record_id in (2**63, 2**64 + 5, 10**40, "9223372036854775808"):
        assert remote_type(lambda: directory.get_record("project", record_id)) == "NotFound"
        assert remote_type(lambda: directory.editable_record(record_id, "token")) == "NotFound"
    for record_id in (-1, 0):
        assert remote_type(lambda: directory.get_record("project", record_id)) == "NotFound"
    for record_id in ("1e3", "abc", 1.5, True, None):
        assert remote_type(lambda: directory.get_record("project", record_id)) == "InvalidInput"
    for page, per_page in ((1_000_000_000, 20), (10**30, 1), (0, 20), (1, 10**9), (101, 100), ("x", 20)):
        assert remote_type(lambda: directory.list_records("project", {}, page, per_page)) == "InvalidInput"
    assert remote_type(lambda: directory.export_published(2**64, 10)) == "InvalidInput"
    assert remote_type(lambda: directory.export_published(0, 10**9)) == "InvalidInput"
    assert directory.list_records("project", {}, 500, 20)["items"] == []  # the deepest page allowed answers
    assert directory.export_published(2**63 - 1, 10) == {"items": [], "next_after": None}


def test_submitters_addresses_stay_out_of_the_logs(directory, caplog):
    caplog.set_level(logging.DEBUG)
    body = project_body(email="secret.person@example.org", website="https://ht tp://bad url")
    assert remote_type(lambda: directory.submit(body)) == "InvalidInput"
    logging.getLogger("tests").exception("while handling %s", "someone@example.org",
                                         exc_info=ValueError("token=abc.def for other@example.org"))
    edit_link = signing.sign_ref(signing.RECORD_EDIT, 7, "1:published:x")
    status_link = signing.sign(signing.SUBMISSION_STATUS, "a-submission")
    logging.getLogger("tests").warning("links %s and %s", edit_link, status_link)
    assert caplog.records and "example.org" not in caplog.text
    assert "token=abc" not in caplog.text and "[email]" in caplog.text
    assert edit_link not in caplog.text and status_link not in caplog.text
    assert "links [token] and [token]" in caplog.text


def test_names_and_short_texts_are_inert():
    submission = parse_submission(project_body(
        name="\u202egnp.exe\u202c Care\u0000 Map\u2066", short_description="Nice\x1b[31m red\u200f text",
        long_description="line one\r\nline\x00 two\ttab", city="Gda\u2067ńsk", tags=["a\u202db"]))
    assert submission.name == "gnp.exe Care Map"
    assert submission.short_description == "Nice[31m red\u200f text"  # the escape goes; a plain RLM mark may stay
    assert submission.long_description == "line one\nline two\ttab"
    assert submission.city == "Gdańsk" and submission.tags == ["ab"]


@pytest.mark.parametrize("website", [
    "https://ht tp://bad url", "javascript:alert(1)", "ftp://example.org", "https://", "http://localhost",
    "https://exa mple.org", "https://user:pw@example.org", "data:text/html,hi", "https://example.org:99999",
    "https://\u202eexample.org",
])
def test_websites_must_be_http_urls(website):
    with pytest.raises(InvalidInput) as refused:
        parse_submission(project_body(website=website))
    assert "website" in refused.value.details


@pytest.mark.parametrize("kind", [[], {}, ["project"], 7, None, "spaceship"])
def test_a_kind_of_any_json_type_is_a_field_error(kind):
    with pytest.raises(InvalidInput) as refused:
        parse_submission({**project_body(), "kind": kind})
    assert "kind" in refused.value.details


def test_plain_websites_are_kept_and_completed():
    assert normalise_website("example.org/path?q=1") == "https://example.org/path?q=1"
    assert normalise_website("http://münchen.de") == "http://münchen.de"


def test_edit_links_name_only_the_record_and_stop_working_once_it_changed(session, outbox):
    submitted = records.submit(session, outbox, project_body(email="owner@example.org"), URL)
    session.commit()
    event = {"id": "evt-approve", "type": events.SUBMISSION_APPROVED,
             "payload": {"submission_id": submitted["id"]}}
    records.apply_decision(session, outbox, event, URL)
    session.commit()
    record = session.get(records.Record, submitted["record_id"])
    token = records.edit_token(record)
    assert token.split(".")[0] == str(record.id) and "owner" not in token and "example" not in token
    assert records.get_for_edit(session, record.id, token)["name"] == "Care Map"

    forged = signing.sign_ref(signing.RECORD_EDIT, record.id, "1:published:attacker@example.org")
    with pytest.raises(Forbidden):
        records.get_for_edit(session, record.id, forged)
    with pytest.raises(Forbidden):  # the old form of token, readable and unbound
        records.get_for_edit(session, record.id, signing.sign(signing.RECORD_EDIT,
                                                              {"record_id": record.id, "email": "owner@example.org"}))

    body = {k: v for k, v in project_body(name="Care Map 2").items() if k not in ("kind", "email")}
    revision = records.propose_edit(session, outbox, record.id, body, token, URL)
    session.commit()
    records.apply_decision(session, outbox, {"id": "evt-approve-2", "type": events.SUBMISSION_APPROVED,
                                             "payload": {"submission_id": revision["id"]}}, URL)
    session.commit()
    with pytest.raises(Forbidden):  # the record was published anew: the old link is stale
        records.get_for_edit(session, record.id, token)
    assert records.get_for_edit(session, record.id, records.edit_token(record))["name"] == "Care Map 2"
