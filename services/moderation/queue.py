"""The review queue: submissions from the directory, moderators' decisions on them, and their history.

Plain functions over a SQLAlchemy session and an outbox (anything with `add(session, type, payload)`); nothing
here knows nameko. Callers commit.
"""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dsi import events, metrics
from dsi.clock import utcnow
from dsi.errors import Conflict, NotFound

from .diff import LINK_FIELDS, field_diff, name_links
from .models import HistoryEntry, QueueItem
from .schemas import APPROVE, REJECT, Decision, Filters, history_view, item_view

PENDING, APPROVED, REJECTED, CHANGES_REQUESTED, WITHDRAWN = (
    "pending", "approved", "rejected", "changes_requested", "withdrawn")
STATES = (PENDING, APPROVED, REJECTED, CHANGES_REQUESTED, WITHDRAWN)
OUTCOMES = {  # decision → (state, event the directory applies)
    APPROVE: (APPROVED, events.SUBMISSION_APPROVED),
    REJECT: (REJECTED, events.SUBMISSION_REJECTED),
    "request_changes": (CHANGES_REQUESTED, events.CHANGES_REQUESTED),
}
# Priority, highest first: a resubmission after a request for changes (its submitter already waited once), then an
# edit of a published record (the public sees an outdated version meanwhile), then a new record.
RESUBMISSION, EDIT, NEW = 2, 1, 0


def record_history(session: Session, actor: str, action: str, item: QueueItem | None = None, **values) -> None:
    if item is not None:
        values = {"submission_id": item.submission_id, "kind": item.kind, "record_id": item.record_id, **values}
    session.add(HistoryEntry(actor=actor, action=action, **values))


def priority_of(session: Session, record_id: int, action: str, kind: str | None = None) -> int:
    """A resubmission when the record's latest decided submission was sent back for changes."""
    latest = session.scalar(select(QueueItem.state).where(
        QueueItem.record_id == record_id, QueueItem.state.not_in((PENDING, WITHDRAWN)),
        *((QueueItem.kind == kind,) if kind else ()))  # content items and records number their ids apart
        .order_by(QueueItem.submitted_at.desc()).limit(1))
    if latest == CHANGES_REQUESTED:
        return RESUBMISSION
    return EDIT if action == "update" else NEW


def receive(session: Session, payload: dict) -> QueueItem:
    """A submission from the directory enters the queue (or fills in the entry a decision created first)."""
    priority = priority_of(session, payload["record_id"], payload["action"], payload.get("kind"))
    item = session.get(QueueItem, payload["submission_id"])
    arrived_first = item is None  # else the directory's decision on it overtook it: keep that state
    if arrived_first:
        item = QueueItem(submission_id=payload["submission_id"], state=PENDING)
        session.add(item)
    proposed = payload.get("proposed") or {}
    item.record_id = payload["record_id"]
    item.kind = payload["kind"]
    item.action = payload["action"]
    item.name = (payload.get("name") or proposed.get("name") or "")[:200]
    item.country = payload.get("country")
    item.email = payload.get("email") or ""
    item.email_confirmed = bool(item.email_confirmed or payload.get("email_confirmed"))
    item.proposed = proposed
    item.published = payload.get("published")
    names = {link["id"]: link.get("name") for link in payload.get("linked") or []}
    names.update({link["id"]: link.get("name") for field in LINK_FIELDS
                  for link in (item.published or {}).get(field) or [] if isinstance(link, dict)})
    item.diff = name_links(field_diff(item.published, proposed), names)
    item.priority = priority
    if payload.get("submitted_at"):
        item.submitted_at = datetime.fromisoformat(payload["submitted_at"])
    session.flush()
    record_history(session, "submitter", "submitted", item, from_state=None,
                   to_state=PENDING if arrived_first else item.state, diff=item.diff)
    return item


def directory_decided(session: Session, payload: dict) -> None:
    """The directory applied a decision, or the submitter withdrew: the directory's state is the truth."""
    item = session.get(QueueItem, payload["submission_id"])
    if item is None:  # overtook its submission_received; that one fills in the rest
        item = QueueItem(submission_id=payload["submission_id"], record_id=payload.get("record_id"),
                         kind=payload.get("kind"), action=payload.get("action"), state=payload["state"])
        session.add(item)
        session.flush()
        record_history(session, "directory", "applied", item, to_state=payload["state"])
        return
    before = item.state
    actor = "submitter" if payload["state"] == WITHDRAWN else "directory"
    if before != payload["state"]:
        item.state = payload["state"]
        item.reason_code = payload.get("reason_code")
        item.reason = payload.get("reason")
        item.decided_at = item.decided_at or utcnow()
        if payload["state"] == WITHDRAWN:
            item.decided_by = "submitter"
    session.flush()
    record_history(session, actor, "withdrawn" if payload["state"] == WITHDRAWN else "applied", item,
                   from_state=before, to_state=payload["state"], reason_code=payload.get("reason_code"),
                   reason=payload.get("reason"))


def confirmed(session: Session, payload: dict) -> None:
    """The submitter confirmed their address (perhaps before their submission reached the queue)."""
    item = session.get(QueueItem, payload["submission_id"])
    if item is None:  # overtook its submission_received, which fills in the rest
        item = QueueItem(submission_id=payload["submission_id"], state=PENDING)
        session.add(item)
    item.email_confirmed = True


def _get(session: Session, submission_id: str) -> QueueItem:
    item = session.get(QueueItem, submission_id)
    if item is None or item.kind is None:
        raise NotFound.because("no_queue_item")
    return item


def decide(session: Session, outbox, actor: str, submission_id: str, decision: Decision) -> dict:
    """A moderator's decision on the version of the item they saw; a stale version is a Conflict."""
    item = _get(session, submission_id)
    if item.version != decision.version or item.state != PENDING:
        raise Conflict(_conflict_message(item), {"state": item.state, "version": item.version,
                                                 "decided_by": item.decided_by},
                       "decided_already" if item.state != PENDING else "changed_meanwhile")
    state, event_type = OUTCOMES[decision.decision]
    item.state = state
    item.reason_code = decision.reason_code
    item.reason = decision.reason or None
    item.decided_by = actor
    item.decided_at = utcnow()
    try:
        session.flush()  # UPDATE … WHERE version = the one read: a concurrent decision makes it match nothing
    except StaleDataError:
        session.rollback()
        raise Conflict.because("decided_meanwhile")
    record_history(session, actor, decision.decision, item, from_state=PENDING, to_state=state,
                   reason_code=item.reason_code, reason=item.reason)
    outbox.add(session, event_type, {
        "submission_id": item.submission_id, "record_id": item.record_id, "kind": item.kind, "moderator": actor,
        "reason_code": item.reason_code, "reason": item.reason,
    })
    return item_view(item)


def _conflict_message(item: QueueItem) -> str:
    if item.state != PENDING:
        by = f" by {item.decided_by}" if item.decided_by else ""
        return f"This submission is already {item.state.replace('_', ' ')}{by}; nothing was changed."
    return "This submission changed since you opened it; reload it and decide again."


def show(session: Session, submission_id: str) -> dict:
    """An item with its diff, its history, and the other submissions of the same record."""
    item = _get(session, submission_id)
    history = session.scalars(
        select(HistoryEntry).where(HistoryEntry.submission_id == submission_id).order_by(HistoryEntry.id)).all()
    related = session.scalars(
        select(QueueItem).where(QueueItem.record_id == item.record_id, QueueItem.kind == item.kind,
                                QueueItem.submission_id != submission_id)
        .order_by(QueueItem.submitted_at.desc()).limit(20)).all()
    return {**item_view(item, full=True), "history": [history_view(entry) for entry in history],
            "related": [item_view(other) for other in related],
            "together": [item_view(other) for other in submitted_together(session, item)]}


def submitted_together(session: Session, item: QueueItem) -> list[QueueItem]:
    """A new project and the new organisations its submitter proposed with it (same address, linked by the
    project's proposed `organisations`): moderators review them side by side."""
    if item.action != "create" or item.kind not in ("project", "organisation"):
        return []
    projects = [item] if item.kind == "project" else [
        project for project in session.scalars(select(QueueItem).where(
            QueueItem.kind == "project", QueueItem.action == "create", QueueItem.email == item.email)
            .order_by(QueueItem.submitted_at.desc()).limit(50))
        if item.record_id in _linked_ids(project)]
    organisation_ids = {record_id for project in projects for record_id in _linked_ids(project)}
    organisations = session.scalars(select(QueueItem).where(
        QueueItem.kind == "organisation", QueueItem.action == "create", QueueItem.email == item.email,
        QueueItem.record_id.in_(organisation_ids))).all() if organisation_ids else []
    return [other for other in (*projects, *organisations) if other.submission_id != item.submission_id]


def _linked_ids(project: QueueItem) -> set[int]:
    return {link.get("id") for link in (project.proposed or {}).get("organisations") or []}


def names(session: Session, submission_ids: list[str]) -> dict[str, str]:
    """The names of the records these submissions are about, by submission id (a bulk result names them)."""
    return dict(session.execute(select(QueueItem.submission_id, QueueItem.name).where(
        QueueItem.submission_id.in_(submission_ids))).all()) if submission_ids else {}


def list_items(session: Session, filters: Filters) -> dict:
    """A page of the queue, filtered, with the number of items in each state under the same filters."""
    query = select(QueueItem).where(QueueItem.kind.is_not(None))
    if filters.kind:
        query = query.where(QueueItem.kind == filters.kind)
    if filters.country:
        query = query.where(QueueItem.country == filters.country.upper())
    if filters.older_than_days is not None:
        query = query.where(QueueItem.submitted_at <= utcnow() - timedelta(days=filters.older_than_days))
    if filters.q:
        query = query.where(func.lower(QueueItem.name).contains(filters.q.lower()))
    matching = query.subquery()
    counts = dict(session.execute(
        select(matching.c.state, func.count()).group_by(matching.c.state)).all())
    if filters.state != "all":
        query = query.where(QueueItem.state == filters.state)
    total = counts.get(filters.state, 0) if filters.state != "all" else sum(counts.values())
    order = {
        "oldest": (QueueItem.submitted_at, QueueItem.submission_id),
        "newest": (QueueItem.submitted_at.desc(), QueueItem.submission_id),
        "priority": (QueueItem.priority.desc(), QueueItem.submitted_at, QueueItem.submission_id),
    }[filters.sort]
    items = session.scalars(query.order_by(*order).limit(filters.per_page)
                            .offset((filters.page - 1) * filters.per_page)).all()
    return {"items": [item_view(item) for item in items], "total": total, "page": filters.page,
            "per_page": filters.per_page, "counts": {state: counts.get(state, 0) for state in STATES}}


def measure(session: Session) -> None:
    """The queue's figures for Prometheus: how many wait for a moderator, and for how long the oldest has."""
    waiting, oldest = session.execute(select(func.count(), func.min(QueueItem.submitted_at)).where(
        QueueItem.state == PENDING)).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite keeps naive UTC
        oldest = oldest.replace(tzinfo=timezone.utc)
    metrics.MODERATION_QUEUE_LENGTH.set(waiting)
    metrics.MODERATION_OLDEST_PENDING_AGE.set(max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0)
