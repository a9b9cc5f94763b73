"""Events and funding calls suggested by the public: the same contract as the directory's submissions (an
e-mailed confirmation link, status by token, withdraw) and the same moderation queue; approval publishes.

Plain functions over a SQLAlchemy session and an outbox; callers commit.
"""
import uuid

from sqlalchemy.orm import Session

from dsi import events, signing, vocab
from dsi.clock import iso, utcnow
from dsi.errors import Conflict, Forbidden, NotFound

from . import items
from .models import Suggestion
from .schemas import parse_suggestion

SUBMITTER = "submitter"
DECISIONS = {
    events.SUBMISSION_APPROVED: "approved",
    events.SUBMISSION_REJECTED: items.REJECTED,
    events.CHANGES_REQUESTED: items.CHANGES_REQUESTED,
}


def status_of(suggestion: Suggestion) -> dict:
    return {
        "id": suggestion.id,
        "submission_id": suggestion.id,
        "record_id": suggestion.item_id,
        "kind": suggestion.kind,
        "action": "create",
        "state": suggestion.state,
        "reason_code": suggestion.reason_code,
        "reason": suggestion.reason,
        "email_confirmed": suggestion.email_confirmed_at is not None,
        "submitted_at": iso(suggestion.created_at),
        "decided_at": iso(suggestion.decided_at),
    }


def submit(session: Session, outbox, body, public_url: str, submission_id: str | None = None) -> dict:
    """A suggestion enters as a pending item, invisible until a moderator approves it. A retried request with
    the same `submission_id` is answered with the first one's status."""
    if submission_id and (earlier := session.get(Suggestion, submission_id)) is not None:
        return status_of(earlier)
    fields = parse_suggestion(body)
    kind = fields.kind
    data = fields.model_dump(mode="json", exclude={"email", "kind", "slug"})
    item = items.create(session, outbox, kind, data, SUBMITTER, origin="suggestion", state=items.PENDING)
    suggestion = Suggestion(id=submission_id or str(uuid.uuid4()), item_id=item.id, kind=kind, data=data,
                            email=fields.email)
    session.add(suggestion)
    session.flush()
    outbox.add(session, events.SUBMISSION_RECEIVED, {
        "submission_id": suggestion.id,
        "record_id": item.id,
        "kind": kind,
        "action": "create",
        "name": fields.title,
        "country": getattr(fields, "country", None) or (fields.countries[0] if kind == "funding" and
                                                        fields.countries else None),
        "email": fields.email,
        "proposed": data,
        "published": None,
        "submitted_at": iso(suggestion.created_at),
    })
    links = signing.submission_links(suggestion.id, public_url)
    outbox.add(session, events.MAIL_REQUESTED, {
        "template": "submission_received",
        "to": fields.email,
        "language": "en",
        "context": {"name": fields.title, "kind": kind, "action": "create", **links},
    })
    return {**status_of(suggestion), "status_token": links["status_token"]}


def _get(session: Session, submission_id: str) -> Suggestion:
    suggestion = session.get(Suggestion, str(submission_id))
    if suggestion is None:
        raise NotFound("No such submission.")
    return suggestion


def _check(purpose: str, token: str, submission_id: str) -> None:
    if signing.unsign(purpose, token) != submission_id:
        raise Forbidden("This link is for another submission.")


def get_status(session: Session, submission_id: str, token: str) -> dict:
    _check(signing.SUBMISSION_STATUS, token, submission_id)
    return status_of(_get(session, submission_id))


def confirm_email(session: Session, submission_id: str, token: str) -> dict:
    _check(signing.SUBMISSION_CONFIRM, token, submission_id)
    suggestion = _get(session, submission_id)
    suggestion.email_confirmed_at = suggestion.email_confirmed_at or utcnow()
    return status_of(suggestion)


def withdraw(session: Session, outbox, submission_id: str, token: str) -> dict:
    _check(signing.SUBMISSION_STATUS, token, submission_id)
    suggestion = _get(session, submission_id)
    if suggestion.state != items.PENDING:
        raise Conflict(f"The submission is already {suggestion.state}.")
    suggestion.state = suggestion.item.state = items.WITHDRAWN
    suggestion.decided_at = utcnow()
    _decided(session, outbox, suggestion)
    return status_of(suggestion)


def apply_decision(session: Session, outbox, event: dict) -> None:
    """A moderator's decision on one of our suggestions; decisions on the directory's submissions (ids we do
    not know) and on suggestions already decided are ignored."""
    payload = event["payload"]
    suggestion = session.get(Suggestion, str(payload.get("submission_id")))
    if suggestion is None or suggestion.state != items.PENDING:
        return
    state = DECISIONS[event["type"]]
    suggestion.state = state
    suggestion.reason_code = payload.get("reason_code")
    suggestion.reason = payload.get("reason")
    suggestion.decided_at = utcnow()
    item = suggestion.item
    moderator = f"moderation:{payload.get('moderator') or 'moderator'}"
    if state == "approved":
        item.state = items.DRAFT  # then published like any item, with its revision and event
        items.transition(session, outbox, item.id, "publish", moderator)
    else:
        item.state = state
    _decided(session, outbox, suggestion)


def _decided(session: Session, outbox, suggestion: Suggestion) -> None:
    outbox.add(session, events.SUBMISSION_DECIDED, status_of(suggestion))
    if suggestion.state == items.WITHDRAWN:
        return
    outbox.add(session, events.MAIL_REQUESTED, {
        "template": f"submission_{suggestion.state}",
        "to": suggestion.email,
        "language": "en",
        "context": {**status_of(suggestion), "name": suggestion.data.get("title"), "edit_url": None,
                    "reason_label": vocab.reason_label(suggestion.reason_code)},
    })
