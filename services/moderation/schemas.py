"""What crosses the wire: moderators' decisions, reports and staff forms in, queue items and history out."""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dsi import vocab
from dsi.clock import iso
from dsi.schemas import Email, LongText, Text
from dsi.validation import MAX_ID, parse_model

from .models import HistoryEntry, QueueItem, ReportCase, Staff

APPROVE, REJECT, REQUEST_CHANGES = "approve", "reject", "request_changes"
ROLES = ("moderator", "editor", "admin")
REASONS = {REJECT: vocab.REJECT_REASONS, REQUEST_CHANGES: vocab.CHANGES_REASONS}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Decision(Strict):
    """A moderator's decision on one version of a queue item; reject and request_changes need a reason."""

    decision: Literal["approve", "reject", "request_changes"]
    reason_code: str | None = None
    reason: LongText = Field(default="", max_length=5000)
    version: int = Field(ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _reason_when_required(self):
        allowed = REASONS.get(self.decision)
        if allowed is None:
            self.reason_code = self.reason_code or None
            return self
        if self.reason_code not in allowed:
            raise ValueError("reason_code: choose a reason from the list")
        if not self.reason:
            raise ValueError("reason: explain the decision to the submitter")
        return self


class Filters(Strict):
    state: Literal["pending", "approved", "rejected", "changes_requested", "withdrawn", "all"] = "pending"
    kind: Literal["organisation", "project", "event", "funding"] | None = None  # event, funding: from content
    country: str | None = Field(default=None, max_length=2)
    older_than_days: int | None = Field(default=None, ge=0, le=3650)
    q: str | None = Field(default=None, max_length=200)
    sort: Literal["oldest", "newest", "priority"] = "priority"
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=25, ge=1, le=100)


class ReportIn(Strict):
    reason_code: str
    text: LongText = Field(default="", max_length=2000)

    @field_validator("reason_code")
    @classmethod
    def _known_reason(cls, value):
        if value not in vocab.REPORT_REASONS:
            raise ValueError(f"unknown value; choose one of {', '.join(vocab.REPORT_REASONS)}")
        return value


class StaffIn(Strict):
    email: Email
    name: Text = ""
    role: Literal["moderator", "editor", "admin"]
    password: str = Field(min_length=12, max_length=200)


def parse(model, body):
    """A validated model, or InvalidInput naming each bad field."""
    return parse_model(model, body, "Some fields are not valid.", not_object="Expected an object.")


def item_view(item: QueueItem, full: bool = False) -> dict:
    view = {
        "submission_id": item.submission_id,
        "record_id": item.record_id,
        "kind": item.kind,
        "action": item.action,
        "name": item.name,
        "country": item.country,
        "state": item.state,
        "priority": item.priority,
        "reason_code": item.reason_code,
        "reason": item.reason,
        "decided_by": item.decided_by,
        "submitted_at": iso(item.submitted_at),
        "decided_at": iso(item.decided_at),
        "changed_fields": [change["field"] for change in item.diff or []],
        "version": item.version,
    }
    if full:
        view.update({"email": item.email, "email_confirmed": bool(item.email_confirmed), "diff": item.diff or [],
                     "proposed": item.proposed, "published": item.published})
    return view


HISTORY_FIELDS = ("id", "submission_id", "kind", "record_id", "actor", "action", "from_state", "to_state",
                  "reason_code", "reason", "diff")


def history_view(entry: HistoryEntry) -> dict:
    return {**{name: getattr(entry, name) for name in HISTORY_FIELDS}, "at": iso(entry.at)}


def case_view(case: ReportCase, reports=()) -> dict:
    return {
        "kind": case.kind,
        "record_id": case.record_id,
        "name": case.name,
        "state": case.state,
        "open_reports": case.open_reports,
        "updated_at": iso(case.updated_at),
        "version": case.version,
        "reports": [{"reason_code": report.reason_code, "text": report.text, "created_at": iso(report.created_at),
                     "resolved": report.resolved_at is not None} for report in reports],
    }


def staff_view(staff: Staff) -> dict:
    return {"id": staff.id, "email": staff.email, "name": staff.name, "role": staff.role, "active": staff.active,
            "last_login_at": iso(staff.last_login_at), "created_at": iso(staff.created_at), "language": staff.language}
