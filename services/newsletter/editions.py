"""The monthly digest: the read model of published records, editions and their lifecycle, and what each
recipient's copy contains. Plain functions over a session; callers commit.

Edition states: draft → scheduled → running → finished, and paused / cancelled. The `month` column is unique:
whichever instance's timer plans an edition first wins, the others' inserts fail and change nothing."""
import logging
import re
from datetime import date, datetime, timedelta, timezone

from babel.dates import format_date
from sqlalchemy import DateTime, Integer, String, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from dsi.errors import Conflict, InvalidInput, NotFound
from dsi import kinds
from dsi.clock import parse_iso, utcnow
from dsi.sanitise import plain_text

from . import composing, delivery, mails
from .i18n import LANGUAGES, Phrases
from .models import Edition, PublishedRecord, Recipient, Subscriber, stamp
from .schemas import EditionChange, parse
from .subscribers import CONFIRMED, Links

log = logging.getLogger(__name__)

DRAFT, SCHEDULED, RUNNING, PAUSED, FINISHED, CANCELLED = (
    "draft", "scheduled", "running", "paused", "finished", "cancelled")
STATES = (DRAFT, SCHEDULED, RUNNING, PAUSED, FINISHED, CANCELLED)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
SECTION_LIMIT = 100  # items shown per section in a mail; the archive page shows them all


# --- the read model ----------------------------------------------------------------------------------------

def apply_published(session, event: dict) -> bool:
    """Hold the record's newest public version; an older or repeated version changes nothing."""
    record = event["payload"]["record"]
    row = session.get(PublishedRecord, record["id"])
    if row is not None and row.version >= record["version"]:
        return False
    if row is None:
        row = PublishedRecord(id=record["id"])
        session.add(row)
    row.kind = record["kind"]
    row.version = record["version"]
    row.public = True
    row.name = record.get("name") or ""
    row.summary = plain_text(record.get("short_description"))[:300]
    row.place = ", ".join(part for part in (record.get("city"), record.get("country_name")) if part)[:300]
    row.social_areas = [area["value"] for area in record.get("social_areas") or [] if area]
    row.published_at = parse_iso(record.get("published_at")) or parse_iso(event.get("occurred_at")) or utcnow()
    return True


def apply_unpublished(session, event: dict) -> bool:
    payload = event["payload"]
    row = session.get(PublishedRecord, payload["id"])
    if row is not None and row.version >= payload["version"]:
        return False
    if row is None:  # remember the version, so that an older `published` arriving late stays ignored
        row = PublishedRecord(id=payload["id"], kind=payload.get("kind", ""))
        session.add(row)
    row.version = payload["version"]
    row.public = False
    return True


# --- months and their records ------------------------------------------------------------------------------

def parse_month(month: str) -> tuple[datetime, datetime]:
    """The first instant of `month` (YYYY-MM) and of the month after, in UTC."""
    match = MONTH.match(month or "")
    if not match:
        raise InvalidInput("A month is written YYYY-MM.", {"month": "expected YYYY-MM, like 2026-10"})
    year, number = int(match[1]), int(match[2])
    start = datetime(year, number, 1, tzinfo=timezone.utc)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


def previous_month(now: datetime) -> str:
    last = now.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def month_label(month: str, language: str) -> str:
    start, _ = parse_month(month)
    label = format_date(date(start.year, start.month, 1), "LLLL y", locale=language)
    return label[:1].upper() + label[1:]


def month_items(session, month: str) -> list[dict]:
    """The month's newly published records that are still public, oldest first."""
    start, end = parse_month(month)
    rows = session.scalars(
        select(PublishedRecord)
        .where(PublishedRecord.public.is_(True), PublishedRecord.published_at >= start,
               PublishedRecord.published_at < end)
        .order_by(PublishedRecord.published_at, PublishedRecord.id)
    )
    return [{"id": r.id, "kind": r.kind, "name": r.name, "summary": r.summary, "place": r.place,
             "social_areas": list(r.social_areas or [])} for r in rows]


def sections(items: list[dict], areas, t: Phrases, public_url: str, limit: int = SECTION_LIMIT) -> list[dict]:
    """Every item once: projects in the reader's areas first, then the other projects, then organisations."""
    wanted = set(areas or ())
    picked = [i for i in items if i["kind"] == "project" and wanted & set(i["social_areas"])]
    chosen = {i["id"] for i in picked}
    groups = [
        (t.for_you, picked),
        (t.new_projects, [i for i in items if i["kind"] == "project" and i["id"] not in chosen]),
        (t.new_organisations, [i for i in items if i["kind"] == "organisation"]),
    ]
    return [
        {"title": title, "more": max(0, len(group) - limit),
         "items": [{**i, "url": public_url + kinds.record_path(i["kind"], i["id"])} for i in group[:limit]]}
        for title, group in groups if group
    ]


def subject_of(edition: Edition, language: str) -> str:
    return edition.subject or Phrases(language)("edition_subject", month=month_label(edition.month, language))


def content(edition: Edition, items, language: str, areas, public_url: str, limit: int = SECTION_LIMIT) -> dict:
    t = Phrases(language)
    return {
        "t": t,
        "language": t.language,
        "month": edition.month,
        "subject": subject_of(edition, t.language),
        "intro_paragraphs": [p.strip() for p in re.split(r"\n\s*\n", edition.intro or "") if p.strip()],
        "sections": sections(items, areas, t, public_url, limit),
    }


# --- editions ----------------------------------------------------------------------------------------------

def view(edition: Edition) -> dict:
    return {
        "id": edition.id, "month": edition.month, "state": edition.state, "subject": edition.subject,
        "intro": edition.intro, "scheduled_at": stamp(edition.scheduled_at), "started_at": stamp(edition.started_at),
        "finished_at": stamp(edition.finished_at), "paused_reason": edition.paused_reason,
        "items": len(edition.items) if edition.items is not None else None,
    }


def get(session, edition_id: int) -> Edition:
    edition = session.get(Edition, int(edition_id))
    if edition is None:
        raise NotFound(f"No edition {edition_id}.")
    return edition


def create(session, month: str, now: datetime | None = None) -> Edition:
    start, _ = parse_month(month)
    if start > (now or utcnow()):
        raise InvalidInput("That month has not begun.", {"month": "expected this month or an earlier one"})
    edition = Edition(month=month, state=DRAFT)
    try:
        with session.begin_nested():
            session.add(edition)
    except IntegrityError:
        raise Conflict(f"The edition of {month} exists already.")
    return edition


def plan_month(session, now: datetime, delay_hours: float) -> Edition | None:
    """The timer's job on every instance: schedule last month's edition once, if the month had news. Editors
    have `delay_hours` from the start of the month (or from now, if later) to preview, edit or reschedule it."""
    month = previous_month(now)
    if session.scalar(select(Edition.id).where(Edition.month == month)) is not None:
        return None
    if not month_items(session, month):
        return None
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    edition = Edition(month=month, state=SCHEDULED,
                      scheduled_at=max(now, first + timedelta(hours=delay_hours)))
    try:
        with session.begin_nested():
            session.add(edition)
    except IntegrityError:  # another instance planned it at the same moment
        return None
    log.info("planned the edition of %s for %s", month, edition.scheduled_at.isoformat())
    return edition


def change(session, edition_id: int, body) -> Edition:
    data = parse(EditionChange, body, "edition")
    edition = get(session, edition_id)
    if edition.state not in (DRAFT, SCHEDULED):
        raise Conflict(f"A {edition.state} edition cannot be changed.")
    for name in ("subject", "intro"):
        if getattr(data, name) is not None:
            setattr(edition, name, getattr(data, name))
    return edition


_MOVES = {  # action → (states it applies to, new state)
    "schedule": ((DRAFT, SCHEDULED), SCHEDULED),
    "unschedule": ((SCHEDULED,), DRAFT),
    "pause": ((SCHEDULED, RUNNING), PAUSED),
    "resume": ((PAUSED,), None),  # back to running, or to scheduled if it never started
    "cancel": ((DRAFT, SCHEDULED, RUNNING, PAUSED), CANCELLED),
}


def act(session, edition_id: int, action: str, at: datetime | None = None) -> Edition:
    """An editor's action; applied with a conditional UPDATE, so concurrent actions cannot cross."""
    if action not in _MOVES:
        raise InvalidInput(f"Unknown action {action!r}.", {"action": f"expected one of {', '.join(_MOVES)}"})
    edition = get(session, edition_id)
    allowed, target = _MOVES[action]
    if edition.state not in allowed:
        raise Conflict(f"A {edition.state} edition cannot {action}.")
    values = {"state": target or (RUNNING if edition.started_at else SCHEDULED)}
    if action == "schedule":
        values["scheduled_at"] = at or utcnow()
    if action in ("pause", "resume"):
        values["paused_reason"] = "paused by an editor" if action == "pause" else None
    done = session.execute(
        update(Edition).where(Edition.id == edition.id, Edition.state == edition.state).values(**values)
    ).rowcount
    if not done:
        raise Conflict("The edition changed meanwhile; look again.")
    session.refresh(edition)
    return edition


def start_due(session, now: datetime) -> list[int]:
    """Scheduled editions whose time has come start: their items are frozen and a checkpoint row is made for
    every confirmed subscriber, in the transaction that moves them to running (one instance wins)."""
    started = []
    for edition in session.scalars(select(Edition).where(Edition.state == SCHEDULED, Edition.scheduled_at <= now)):
        items = month_items(session, edition.month)
        moved = session.execute(
            update(Edition).where(Edition.id == edition.id, Edition.state == SCHEDULED)
            .values(state=RUNNING, started_at=now, items=items)
        ).rowcount
        if not moved:
            continue
        session.execute(insert(Recipient).from_select(
            ["edition_id", "subscriber_id", "state", "attempts", "next_attempt_at"],
            select(literal(edition.id, Integer), Subscriber.id, literal(delivery.QUEUED, String),
                   literal(0, Integer), literal(now, DateTime(timezone=True)))
            .where(Subscriber.state == CONFIRMED),
        ))
        started.append(edition.id)
        log.info("edition %s (%s) started", edition.id, edition.month)
    return started


def running(session) -> list[int]:
    return list(session.scalars(select(Edition.id).where(Edition.state == RUNNING).order_by(Edition.id)))


def progress(session, edition_id: int, max_errors: int, sending_grace: float) -> dict:
    """Settle what a crashed instance left, pause after too many errors, finish when nothing is left to send."""
    scope = (Recipient.edition_id == edition_id,)
    delivery.settle_stale(session, Recipient, sending_grace, scope)
    counts = delivery.counts(session, Recipient, scope)
    values = None
    if counts.get(delivery.FAILED, 0) >= max_errors:
        values = {"state": PAUSED, "paused_reason": f"paused after {counts[delivery.FAILED]} failed deliveries"}
    elif not any(counts.get(state) for state in (delivery.QUEUED, delivery.CLAIMED, delivery.SENDING)):
        values = {"state": FINISHED, "finished_at": utcnow()}
    if values:
        if session.execute(update(Edition).where(Edition.id == edition_id, Edition.state == RUNNING)
                           .values(**values)).rowcount:
            log.info("edition %s %s: %s", edition_id, values["state"], counts)
    return counts


def report(session, edition_id: int) -> dict:
    edition = get(session, edition_id)
    return {**view(edition), "recipients": delivery.counts(session, Recipient, (Recipient.edition_id == edition.id,))}


def overview(session) -> list[dict]:
    return [view(e) for e in session.scalars(select(Edition).order_by(Edition.month.desc()))]


# --- copies ------------------------------------------------------------------------------------------------

def campaign_headers(links: Links, unsubscribe_url: str) -> dict:
    host = links.public_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
    return {
        "List-Id": f"DSI network newsletter <newsletter.{host}>",
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058
        "List-Archive": f"<{links.archive}>",
    }


class Copies:
    """The copies of one edition: a MessageTemplate per (language, interests), filled in per recipient."""

    def __init__(self, edition: Edition, links: Links, sender: str):
        self.edition = edition
        self.items = edition.items or []
        self.links = links
        self.sender = sender
        self.variants: dict[tuple, composing.MessageTemplate] = {}

    def variant(self, language: str, areas) -> composing.MessageTemplate:
        key = (language if language in LANGUAGES else "en", tuple(sorted(areas or ())))
        if key not in self.variants:
            personal = composing.PERSONAL
            context = {**content(self.edition, self.items, key[0], key[1], self.links.public_url),
                       "unsubscribe_url": personal["unsubscribe_url"],
                       "preferences_url": personal["preferences_url"], "archive_url": self.links.archive,
                       "edition_url": self.links.edition(self.edition.month)}
            rendered = composing.render("digest/edition", context)
            self.variants[key] = composing.MessageTemplate(
                rendered, self.sender, campaign_headers(self.links, personal["unsubscribe_url"]))
        return self.variants[key]

    def prepare(self, session, claimed) -> list[delivery.Job]:
        """The delivery loop's `prepare`: a subscriber who left since the edition started is skipped."""
        rows = {row.id: row for row in session.execute(
            select(Recipient.id, Subscriber.key, Subscriber.email, Subscriber.language, Subscriber.social_areas,
                   Subscriber.state)
            .join(Subscriber, Subscriber.id == Recipient.subscriber_id)
            .where(Recipient.id.in_([row_id for row_id, _ in claimed]))
        )}
        jobs = []
        for row_id, attempts in claimed:
            row = rows.get(row_id)
            if row is None or row.state != CONFIRMED:
                jobs.append(delivery.Job(row_id, attempts, "", None))
                continue
            message = self.variant(row.language, row.social_areas).fill(
                to=row.email,
                message_id=f"edition-{self.edition.id}.{row.key}",
                unsubscribe_url=self.links.unsubscribe(row),
                preferences_url=self.links.preferences(row),
            )
            jobs.append(delivery.Job(row_id, attempts, row.email, message))
        return jobs


def failed_subscribers(session, recipient_ids) -> list[int]:
    return list(session.scalars(select(Recipient.subscriber_id).where(Recipient.id.in_(list(recipient_ids)))))


def preview(session, edition_id: int, language: str, areas, links: Links) -> dict:
    edition = get(session, edition_id)
    items = edition.items if edition.items is not None else month_items(session, edition.month)
    context = {**content(edition, items, language, areas, links.public_url),
               "unsubscribe_url": links.archive, "preferences_url": links.archive, "archive_url": links.archive,
               "edition_url": links.edition(edition.month)}
    rendered = composing.render("digest/edition", context)
    return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html, "items": len(items)}


def send_test(session, edition_id: int, to: str, language: str, links: Links) -> dict:
    """A copy of the edition to an editor's address, sent through the transactional queue."""
    from .schemas import TestCopy

    address = parse(TestCopy, {"to": to}, "test address").to
    shown = preview(session, edition_id, language, [], links)
    mail = mails.store(session, f"edition-test-{edition_id}-{utcnow().timestamp()}", "edition_test", address,
                       composing.Rendered("[TEST] " + shown["subject"], shown["text"], shown["html"]))
    return {"queued": True, "mail_id": mail.id}


# --- the public archive ------------------------------------------------------------------------------------

def archive(session, page: int, per_page: int) -> dict:
    query = select(Edition).where(Edition.state == FINISHED)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    editions = session.scalars(query.order_by(Edition.month.desc()).limit(per_page).offset((page - 1) * per_page))
    return {
        "items": [{"id": e.id, "kind": "edition", "name": subject_of(e, "en"), "month": e.month,
                   "sent_at": stamp(e.finished_at), "records": len(e.items or [])}
                  for e in editions],
        "total": total, "page": page, "per_page": per_page,
    }


def archived(session, month: str, public_url: str) -> dict:
    parse_month(month)
    edition = session.scalar(select(Edition).where(Edition.month == month, Edition.state == FINISHED))
    if edition is None:
        raise NotFound(f"No edition of {month} has been sent.")
    body = content(edition, edition.items or [], "en", (), public_url, limit=10_000)
    body.pop("t")
    return {**body, "id": edition.id, "sent_at": stamp(edition.finished_at)}
