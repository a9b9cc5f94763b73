"""Reports of published records by the public, and what moderators do about them.

One report per reporter per record; the reporter is an HMAC of the client's address keyed by the record, so the
table can neither reveal an address nor link one reporter's reports across records. Once `threshold` distinct
reporters have open reports on a record, it is hidden until a moderator restores or removes it.
"""
import hashlib
import hmac

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from dsi import events, kinds
from dsi.clock import utcnow
from dsi.errors import Conflict, InvalidInput, NotFound

from .models import HistoryEntry, Report, ReportCase
from .queue import record_history
from .schemas import ReportIn, case_view, history_view, parse

# open: reported, still public; hidden: reports reached the threshold; removed: a moderator took it down;
# closed: a moderator restored it or dismissed the reports.
OPEN, HIDDEN, REMOVED, CLOSED = "open", "hidden", "removed", "closed"
CASE_STATES = (OPEN, HIDDEN, REMOVED, CLOSED)
ACTIONS = {  # moderator action → states it applies to
    "restore": (HIDDEN,),
    "remove": (OPEN, HIDDEN),
    "dismiss": (OPEN,),
}


def reporter_key(secret: str, kind: str, record_id: int, identity: str) -> str:
    return hmac.new(secret.encode(), f"{kind}:{record_id}:{identity}".encode(), hashlib.sha256).hexdigest()


def report(session: Session, outbox, kind: str, record_id: int, name: str, reporter: str, body: dict,
           threshold: int) -> dict:
    """Store one report; `reporter` is already keyed (see reporter_key). Hides the record at the threshold."""
    kinds.get(kind)
    data = parse(ReportIn, body)
    case = session.scalar(select(ReportCase).where(ReportCase.kind == kind, ReportCase.record_id == record_id))
    if case is None:
        case = ReportCase(kind=kind, record_id=record_id, name=name[:200], state=OPEN, open_reports=0)
        session.add(case)
    elif case.state in (HIDDEN, REMOVED):
        raise Conflict.because("record_hidden")
    try:
        session.flush()
        if session.scalar(select(Report.id).where(Report.case_id == case.id, Report.reporter == reporter)):
            raise Conflict.because("already_reported")
        session.add(Report(case_id=case.id, reporter=reporter, reason_code=data.reason_code, text=data.text))
        case.state = OPEN
        case.name = name[:200] or case.name
        case.open_reports += 1
        case.updated_at = utcnow()
        session.flush()
    except (IntegrityError, StaleDataError):  # a concurrent report of the same record or by the same reporter
        session.rollback()
        raise Conflict.because("report_collided")
    record_history(session, "public", "reported", kind=kind, record_id=record_id, reason_code=data.reason_code,
                   reason=data.text or None)
    if case.open_reports >= threshold:
        case.state = HIDDEN
        outbox.add(session, events.RECORD_HIDDEN, {"record_id": record_id, "kind": kind, "reason_code": "reported"})
        record_history(session, "system", "hidden", kind=kind, record_id=record_id, from_state=OPEN,
                       to_state=HIDDEN, reason=f"{case.open_reports} people reported it")
    return {"kind": kind, "record_id": record_id, "received": True}


def _case(session: Session, kind: str, record_id: int) -> ReportCase:
    case = session.scalar(select(ReportCase).where(ReportCase.kind == kind, ReportCase.record_id == record_id))
    if case is None:
        raise NotFound.because("not_reported")
    return case


def resolve(session: Session, outbox, actor: str, kind: str, record_id: int, action: str, version: int,
            reason: str = "") -> dict:
    """A moderator restores a hidden record, removes a reported one, or dismisses the reports."""
    if action not in ACTIONS:
        raise InvalidInput("Unknown action.", {"action": f"expected one of {', '.join(ACTIONS)}"})
    case = _case(session, kind, record_id)
    if case.version != version or case.state not in ACTIONS[action]:
        raise Conflict(f"This report case is {case.state} and changed since you opened it; reload it.",
                       {"state": case.state, "version": case.version}, "case_changed")
    before = case.state
    case.state = REMOVED if action == "remove" else CLOSED
    case.open_reports = 0
    case.updated_at = utcnow()
    for open_report in session.scalars(select(Report).where(Report.case_id == case.id, Report.resolved_at.is_(None))):
        open_report.resolved_at = case.updated_at
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Conflict.because("handled_meanwhile")
    if action == "restore":
        outbox.add(session, events.RECORD_RESTORED, {"record_id": record_id, "kind": kind})
    elif action == "remove" and before == OPEN:  # a hidden record already is out of public view
        outbox.add(session, events.RECORD_HIDDEN, {"record_id": record_id, "kind": kind, "reason_code": "removed"})
    record_history(session, actor, {"restore": "restored", "remove": "removed", "dismiss": "dismissed"}[action],
                   kind=kind, record_id=record_id, from_state=before, to_state=case.state, reason=reason or None)
    return case_view(case)


def list_cases(session: Session, state: str = "active", page: int = 1, per_page: int = 25) -> dict:
    """Reported records, those needing attention first (hidden, then open), most reported first."""
    states = (HIDDEN, OPEN) if state == "active" else (state,)
    if any(value not in CASE_STATES for value in states):
        raise InvalidInput("Unknown state.", {"state": f"expected active or one of {', '.join(CASE_STATES)}"})
    counts = dict(session.execute(select(ReportCase.state, func.count()).group_by(ReportCase.state)).all())
    query = select(ReportCase).where(ReportCase.state.in_(states))
    cases = session.scalars(query.order_by((ReportCase.state == HIDDEN).desc(), ReportCase.open_reports.desc(),
                                           ReportCase.updated_at).limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [case_view(case) for case in cases], "total": sum(counts.get(s, 0) for s in states),
            "page": page, "per_page": per_page, "counts": {s: counts.get(s, 0) for s in CASE_STATES}}


def show_case(session: Session, kind: str, record_id: int) -> dict:
    case = _case(session, kind, record_id)
    reports = session.scalars(select(Report).where(Report.case_id == case.id).order_by(Report.id)).all()
    history = session.scalars(select(HistoryEntry).where(
        HistoryEntry.kind == kind, HistoryEntry.record_id == record_id, HistoryEntry.submission_id.is_(None))
        .order_by(HistoryEntry.id)).all()
    return {**case_view(case, reports), "history": [history_view(entry) for entry in history]}
