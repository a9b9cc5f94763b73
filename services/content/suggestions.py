"""Events and funding calls suggested by the public: the same contract as the directory's submissions (an
e-mailed confirmation link, status by token, withdraw) and the same moderation queue; approval publishes.
A suggestion sent back for changes is mailed a signed edit link: it opens the form filled in, and sending it
again enters moderation as a new submission of the same item (a resubmission, to the moderators).

Plain functions over a SQLAlchemy session and an outbox; callers commit.
"""
import uuid

from sqlalchemy.orm import Session

from dsi import events, i18n, kinds, signing, vocab
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
    data = fields.model_dump(mode="json", exclude={"email", "kind", "slug", "language"})
    item = items.create(session, outbox, fields.kind, data, SUBMITTER, origin="suggestion", state=items.PENDING)
    suggestion = Suggestion(id=submission_id or str(uuid.uuid4()), item_id=item.id, kind=fields.kind, data=data,
                            email=fields.email, language=fields.language)
    return _to_moderation(session, outbox, suggestion, fields, public_url)


def _to_moderation(session: Session, outbox, suggestion: Suggestion, fields, public_url: str) -> dict:
    """Queue a (re)submitted suggestion for the moderators and mail the suggester its links."""
    kind = suggestion.kind
    session.add(suggestion)
    session.flush()
    outbox.add(session, events.SUBMISSION_RECEIVED, {
        "submission_id": suggestion.id,
        "record_id": suggestion.item_id,
        "kind": kind,
        "action": "create",
        "name": fields.title,
        "country": getattr(fields, "country", None) or (fields.countries[0] if kind == "funding" and
                                                        fields.countries else None),
        "email": fields.email,
        "proposed": suggestion.data,
        "published": None,
        "submitted_at": iso(suggestion.created_at),
    })
    links = signing.submission_links(suggestion.id, public_url, suggestion.language)
    outbox.add(session, events.MAIL_REQUESTED, {
        "template": "submission_received",
        "to": fields.email,
        "language": suggestion.language,
        "context": {"name": fields.title, "kind": kind, "action": "create", **links},
    })
    return {**status_of(suggestion), "status_token": links["status_token"]}


def _edit_binding(suggestion: Suggestion) -> str:
    """An edit link works while its suggestion waits for changes: once sent again (its item back in moderation),
    or decided anew, it stops."""
    return f"{suggestion.state}:{suggestion.item.state}:{iso(suggestion.decided_at)}"


def edit_url(suggestion: Suggestion, public_url: str) -> str:
    token = signing.sign_ref(signing.SUGGESTION_EDIT, suggestion.id, _edit_binding(suggestion))
    return f"{public_url}{i18n.localised(suggestion.language, f'/suggestions/{suggestion.id}/edit')}?token={token}"


def _editable(session: Session, submission_id: str, token: str) -> Suggestion:
    suggestion = signing.open_ref(signing.SUGGESTION_EDIT, token, submission_id,
                                  lambda ref: session.get(Suggestion, ref), _edit_binding, "suggestion")
    if suggestion.state != items.CHANGES_REQUESTED:  # a binding includes the state: only a forged old link
        raise Forbidden.because("suggestion_not_waiting")
    return suggestion


def for_editing(session: Session, submission_id: str, token: str) -> dict:
    """What the suggester sent, and why the moderators sent it back, to fill in the form again."""
    suggestion = _editable(session, submission_id, token)
    return {"kind": suggestion.kind, "fields": {**suggestion.data, "email": suggestion.email},
            "reason_code": suggestion.reason_code, "reason": suggestion.reason,
            "reason_label": vocab.reason_label(suggestion.reason_code)}


def resubmit(session: Session, outbox, submission_id: str, token: str, body, public_url: str) -> dict:
    """The suggester's corrected suggestion goes back to moderation as a new submission of the same item. The
    address stays the one the link was mailed to (and confirmed, if it was); the link stops working."""
    suggestion = _editable(session, submission_id, token)
    body = {**body, "kind": suggestion.kind, "email": suggestion.email} if isinstance(body, dict) else body
    fields = parse_suggestion(body)
    data = fields.model_dump(mode="json", exclude={"email", "kind", "slug", "language"})
    item = items.update(session, outbox, suggestion.item_id, data, SUBMITTER, action="resubmitted")
    item.state = items.PENDING
    again = Suggestion(id=str(uuid.uuid4()), item_id=item.id, kind=suggestion.kind, data=data,
                       email=suggestion.email, email_confirmed_at=suggestion.email_confirmed_at,
                       language=fields.language if "language" in body else suggestion.language)
    return _to_moderation(session, outbox, again, fields, public_url)


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


def confirm_email(session: Session, outbox, submission_id: str, token: str) -> dict:
    _check(signing.SUBMISSION_CONFIRM, token, submission_id)
    suggestion = _get(session, submission_id)
    if suggestion.email_confirmed_at is None:  # moderators see that the decision can be mailed
        suggestion.email_confirmed_at = utcnow()
        outbox.add(session, events.SUBMISSION_CONFIRMED, status_of(suggestion))
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


def apply_decision(session: Session, outbox, event: dict, public_url: str) -> None:
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
    _decided(session, outbox, suggestion, public_url)


def _decided(session: Session, outbox, suggestion: Suggestion, public_url: str | None = None) -> None:
    outbox.add(session, events.SUBMISSION_DECIDED, status_of(suggestion))
    if suggestion.state == items.WITHDRAWN or suggestion.email_confirmed_at is None:
        return  # a decision is mailed only to an address its owner confirmed
    page = kinds.get(suggestion.kind).path(suggestion.item.slug) if suggestion.state == "approved" else None
    outbox.add(session, events.MAIL_REQUESTED, {
        "template": f"submission_{suggestion.state}",
        "to": suggestion.email,
        "language": suggestion.language,
        "context": {**status_of(suggestion), "name": suggestion.data.get("title"),
                    "edit_url": edit_url(suggestion, public_url) if suggestion.state == items.CHANGES_REQUESTED
                    else None,
                    "record_url": f"{public_url}{i18n.localised(suggestion.language, page)}" if page else None,
                    "reason_label": vocab.reason_label(suggestion.reason_code)},
    })
