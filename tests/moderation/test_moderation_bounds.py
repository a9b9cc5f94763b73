"""Bounds at the owner, on SQLite and PostgreSQL: record and staff ids past what a column holds, versions and
paging out of range, and names or reasons carrying bidi overrides or control characters."""
import pytest

from dsi.errors import InvalidInput, NotFound
from dsi.validation import parse_id, parse_paging
from services.moderation import accounts, reports
from services.moderation.schemas import Decision, ReportIn, StaffIn, parse

from tests.moderation.conftest import PASSWORD


def test_huge_ids_name_nothing(session):
    with pytest.raises(NotFound):
        reports.show_case(session, "project", parse_id(2**63, "record_id"))
    with pytest.raises(NotFound):
        accounts.set_active(session, parse_id("99999999999999999999", "staff_id"), False, "a@example.org")
    assert parse_id("42") == 42
    with pytest.raises(InvalidInput):
        accounts.set_active(session, parse_id("1 or 1=1", "staff_id"), False, "a@example.org")


def test_report_pages_are_bounded(session):
    for page, per_page in ((10**9, 25), (1, 1000)):
        with pytest.raises(InvalidInput):
            reports.list_cases(session, "active", *parse_paging(page, per_page))
    assert reports.list_cases(session, "active", *parse_paging(400, 25))["items"] == []


def test_versions_and_texts_are_bounded_and_inert():
    with pytest.raises(InvalidInput):
        parse(Decision, {"decision": "approve", "version": 2**63})
    report = parse(ReportIn, {"reason_code": "spam", "text": "see\u202e moc.evil\x00 site"})
    assert report.text == "see moc.evil site"
    staff = parse(StaffIn, {"email": "a@example.org", "role": "editor", "password": PASSWORD, "name": "A\u2066dmin"})
    assert staff.name == "Admin"
