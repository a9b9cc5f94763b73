"""The monthly digest: the read models of published records and content, editions and their lifecycle, and
what each recipient's copy contains. Plain functions over a session; callers commit.

An edition has four sections: the month's stories, the coming events, funding closing in the next 45 days
(content's items) and the directory's records created in the month. Content's sections show a reader the items
of their social areas (and those about no area in particular); the editor may drop or reorder any section's
items before sending starts, when what it presents is frozen.

Edition states: draft → scheduled → running → finished, and paused / cancelled. The `month` column is unique:
whichever instance's timer plans an edition first wins, the others' inserts fail and change nothing."""
import logging
import re
from datetime import date, datetime, timedelta, timezone

from babel.dates import format_date
from sqlalchemy import DateTime, Integer, String, func, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError

from dsi.errors import Conflict, InvalidInput, NotFound
from dsi import i18n, kinds
from dsi.clock import parse_iso, utcnow
from dsi.sanitise import plain_text
from dsi.validation import parse_id

from . import composing, delivery, mails
from .models import Edition, PublishedContent, PublishedRecord, Recipient, Subscriber, stamp
from .schemas import EditionArrangement, EditionChange, parse
from .subscribers import CONFIRMED, Links

log = logging.getLogger(__name__)

DRAFT, SCHEDULED, RUNNING, PAUSED, FINISHED, CANCELLED = (
    "draft", "scheduled", "running", "paused", "finished", "cancelled")
STATES = (DRAFT, SCHEDULED, RUNNING, PAUSED, FINISHED, CANCELLED)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
SECTION_LIMIT = 100  # items shown per section in a mail; the archive page shows them all
EVENTS_AHEAD = timedelta(days=60)  # "coming events": those starting within two months of the edition
FUNDING_AHEAD = timedelta(days=45)  # calls closing within 45 days
# section → the item kind it presents; "records" is the directory's (organisations and projects)
SECTIONS = {"stories": "story", "events": "event", "funding": "funding", "records": None}


# --- the read model ----------------------------------------------------------------------------------------

def _hold(session, model, thing: dict, public: bool, blank: dict | None = None, **fields) -> bool:
    """Overwrite the read-model row of `thing` (an id and a version) with its version, `public` and `fields`;
    False, changing nothing, when the row holds that version or a newer one already (a repeated or late event).
    A new row starts from `blank`."""
    row = session.get(model, thing["id"])
    if row is not None and row.version >= thing["version"]:
        return False
    if row is None:
        row = model(id=thing["id"], **(blank or {}))
        session.add(row)
    for name, value in {"version": thing["version"], "public": public, **fields}.items():
        setattr(row, name, value)
    return True


def _place(thing: dict) -> str:
    return ", ".join(part for part in (thing.get("city"), thing.get("country_name")) if part)[:300]


def _published_at(thing: dict, event: dict) -> datetime:
    return parse_iso(thing.get("published_at")) or parse_iso(event.get("occurred_at")) or utcnow()


def apply_published(session, event: dict) -> bool:
    """Hold the record's newest public version; an older or repeated version changes nothing."""
    record = event["payload"]["record"]
    return _hold(session, PublishedRecord, record, public=True, kind=record["kind"], name=record.get("name") or "",
                 summary=plain_text(record.get("short_description"))[:300], place=_place(record),
                 social_areas=[area["value"] for area in record.get("social_areas") or [] if area],
                 published_at=_published_at(record, event), created_at=parse_iso(record.get("created_at")))


def apply_unpublished(session, event: dict) -> bool:
    payload = event["payload"]
    # a new row remembers the version, so that an older `published` arriving late stays ignored
    return _hold(session, PublishedRecord, payload, public=False, blank={"kind": payload.get("kind", "")})


def apply_content_published(session, event: dict) -> bool:
    """Hold a content item's newest public version (content_published and content_updated)."""
    item = event["payload"]["item"]
    closes_on = None if item.get("rolling") or not item.get("closes_on") else date.fromisoformat(
        str(item["closes_on"])[:10])
    return _hold(
        session, PublishedContent, item, public=True, kind=item["kind"],
        title=(item.get("title") or item.get("name") or "")[:300], summary=plain_text(item.get("summary"))[:500],
        url=(item.get("url") or "")[:300], lang=item.get("lang") or "en",
        translations={lang: {"title": (t.get("title") or "")[:300], "summary": plain_text(t.get("summary"))[:500]}
                      for lang, t in (item.get("translations") or {}).items()},
        social_areas=[area["value"] if isinstance(area, dict) else area
                      for area in item.get("social_areas") or [] if area],
        place=_place(item), published_at=_published_at(item, event), starts_at=parse_iso(item.get("starts_at")),
        closes_on=closes_on)


def apply_content_unpublished(session, event: dict) -> bool:
    payload = event["payload"]
    return _hold(session, PublishedContent, payload, public=False,
                 blank={"kind": payload.get("kind", ""), "translations": {}, "social_areas": []})


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
    """The month's new records that are still public, oldest first: created in the month (records imported
    from the original keep their original creation dates), or, for a record without one, first published."""
    start, end = parse_month(month)
    created = func.coalesce(PublishedRecord.created_at, PublishedRecord.published_at)
    rows = session.scalars(
        select(PublishedRecord)
        .where(PublishedRecord.public.is_(True), created >= start, created < end)
        .order_by(created, PublishedRecord.id)
    )
    return [{"id": r.id, "kind": r.kind, "name": r.name, "summary": r.summary, "place": r.place,
             "social_areas": list(r.social_areas or []), "section": "records"} for r in rows]


def content_items(session, month: str, now: datetime) -> list[dict]:
    """Content's part of an edition, each section in its natural order: the month's stories (oldest first),
    events starting from `now` within EVENTS_AHEAD (soonest first), and calls closing from today within
    FUNDING_AHEAD (soonest first; rolling calls have no closing date and are not news)."""
    start, end = parse_month(month)
    public = PublishedContent.public.is_(True)
    queries = {
        "stories": select(PublishedContent).where(
            public, PublishedContent.kind == "story", PublishedContent.published_at >= start,
            PublishedContent.published_at < end).order_by(PublishedContent.published_at, PublishedContent.id),
        "events": select(PublishedContent).where(
            public, PublishedContent.kind == "event", PublishedContent.starts_at >= now,
            PublishedContent.starts_at < now + EVENTS_AHEAD).order_by(PublishedContent.starts_at,
                                                                      PublishedContent.id),
        "funding": select(PublishedContent).where(
            public, PublishedContent.kind == "funding", PublishedContent.closes_on >= now.date(),
            PublishedContent.closes_on <= (now + FUNDING_AHEAD).date()).order_by(PublishedContent.closes_on,
                                                                               PublishedContent.id),
    }
    found = []
    for section, query in queries.items():
        for row in session.scalars(query):
            found.append({"id": row.id, "kind": row.kind, "name": row.title, "summary": row.summary,
                          "place": row.place, "social_areas": list(row.social_areas or []), "section": section,
                          "path": row.url, "lang": row.lang, "translations": dict(row.translations or {}),
                          "starts_at": stamp(row.starts_at),
                          "closes_on": row.closes_on.isoformat() if row.closes_on else None})
    return found


def candidates(session, edition: Edition, now: datetime) -> list[dict]:
    """Everything the edition could present, section by section: content's, then the month's new records."""
    return content_items(session, edition.month, now) + month_items(session, edition.month)


def arranged(items: list[dict], arrangement: dict | None) -> list[dict]:
    """`items` as the editor arranged them: a section the editor arranged shows the ids they kept, in their
    order; the other sections show all their items."""
    arrangement = arrangement or {}
    result = []
    for section in SECTIONS:
        mine = [item for item in items if _section(item) == section]
        if section in arrangement:
            by_id = {item["id"]: item for item in mine}
            mine = [by_id[item_id] for item_id in arrangement[section] if item_id in by_id]
        result += mine
    return result


def edition_items(session, edition: Edition, now: datetime) -> list[dict]:
    return arranged(candidates(session, edition, now), edition.arrangement)


def _section(item: dict) -> str:
    return item.get("section") or "records"  # editions frozen before sections held records only


SHOWN = ("id", "kind", "name", "summary", "place", "social_areas", "url")  # an item as mails and the archive show it


def _shown(item: dict, language: str, public_url: str) -> dict:
    """A content item for a reader: in their language when translated, with its date in front of its place."""
    translation = (item.get("translations") or {}).get(language) if language != item.get("lang") else None
    if translation and translation.get("title"):
        item = {**item, "name": translation["title"], "summary": translation.get("summary") or item["summary"]}
    when = item.get("starts_at") or item.get("closes_on")
    if when:
        day = format_date(parse_iso(when) if "T" in when else date.fromisoformat(when), "long", locale=language)
        item = {**item, "place": " · ".join(filter(None, (day, item.get("place"))))}
    return {**{name: item.get(name) for name in SHOWN}, "url": public_url + item["path"]}


def sections(items: list[dict], areas, language: str, public_url: str, limit: int = SECTION_LIMIT) -> list[dict]:
    """Content's sections, filtered by the reader's areas (an item about no area is for everyone), in the
    reader's language where translated; then every record once: projects in the reader's areas first, then
    the other projects, then organisations."""
    wanted = set(areas or ())

    def for_reader(item):
        return not wanted or not item["social_areas"] or bool(wanted & set(item["social_areas"]))

    language = i18n.language(language)
    groups = []
    for section, title in (("stories", i18n.gettext(language, "Stories of the month")),
                           ("events", i18n.gettext(language, "Coming events")),
                           ("funding", i18n.gettext(language, "Funding closing soon"))):
        groups.append((title, [_shown(i, language, public_url) for i in items
                               if _section(i) == section and for_reader(i)]))
    records = [{**{name: i.get(name) for name in SHOWN}, "url": public_url + kinds.record_path(i["kind"], i["id"])}
               for i in items if _section(i) == "records"]
    picked = [i for i in records if i["kind"] == "project" and wanted & set(i["social_areas"])]
    chosen = {i["id"] for i in picked}
    groups += [
        (i18n.gettext(language, "Picked for your interests"), picked),
        (i18n.gettext(language, "New projects"),
         [i for i in records if i["kind"] == "project" and i["id"] not in chosen]),
        (i18n.gettext(language, "New organisations"), [i for i in records if i["kind"] == "organisation"]),
    ]
    return [{"title": title, "more": max(0, len(group) - limit), "items": group[:limit]}
            for title, group in groups if group]


def subject_of(edition: Edition, language: str) -> str:
    """The editor's subject in `language`, else their default one, else the month's generated subject."""
    return ((edition.subjects or {}).get(language) or edition.subject
            or i18n.gettext(language, "DSI news: %(month)s") % {"month": month_label(edition.month, language)})


def intro_of(edition: Edition, language: str) -> str:
    return (edition.intros or {}).get(language) or edition.intro or ""


def content(edition: Edition, items, language: str, areas, public_url: str, limit: int = SECTION_LIMIT) -> dict:
    language = i18n.language(language)
    return {
        "language": language,
        "month": edition.month,
        "subject": subject_of(edition, language),
        "intro_paragraphs": [p.strip() for p in re.split(r"\n\s*\n", intro_of(edition, language)) if p.strip()],
        "sections": sections(items, areas, language, public_url, limit),
    }


# --- editions ----------------------------------------------------------------------------------------------

def view(edition: Edition) -> dict:
    return {
        "id": edition.id, "month": edition.month, "state": edition.state, "subject": edition.subject,
        "intro": edition.intro, "subjects": dict(edition.subjects or {}), "intros": dict(edition.intros or {}),
        "arrangement": dict(edition.arrangement or {}), "scheduled_at": stamp(edition.scheduled_at),
        "started_at": stamp(edition.started_at),
        "finished_at": stamp(edition.finished_at), "paused_reason": edition.paused_reason,
        "items": len(edition.items) if edition.items is not None else None,
    }


def get(session, edition_id: int) -> Edition:
    edition = session.get(Edition, parse_id(edition_id, "edition_id"))
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
    if not month_items(session, month) and not content_items(session, month, now):
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
    for name in ("subjects", "intros"):  # per language; an empty text removes that language's own
        if getattr(data, name) is not None:
            merged = {**(getattr(edition, name) or {}), **getattr(data, name)}
            setattr(edition, name, {lang: text for lang, text in merged.items() if text})
    return edition


def edition_candidates(session, edition_id: int, now: datetime | None = None) -> dict:
    """For the editor: each section's items, those the edition presents (in its order) and those dropped."""
    edition = get(session, edition_id)
    if edition.items is not None:  # frozen: what it presents is what it presented
        presented, everything = edition.items, edition.items
    else:
        everything = candidates(session, edition, now or utcnow())
        presented = arranged(everything, edition.arrangement)
    shown = {(_section(item), item["id"]) for item in presented}
    result = {}
    for section in SECTIONS:
        result[section] = {
            "arranged": section in (edition.arrangement or {}),
            "items": [_brief(item) for item in presented if _section(item) == section],
            "dropped": [_brief(item) for item in everything
                        if _section(item) == section and (section, item["id"]) not in shown],
        }
    return {"edition": view(edition), "sections": result}


def _brief(item: dict) -> dict:
    return {"id": item["id"], "kind": item["kind"], "name": item["name"],
            "url": item.get("path") or kinds.record_path(item["kind"], item["id"])}


def arrange(session, edition_id: int, body, now: datetime | None = None) -> Edition:
    """The editor's order of one or more sections ({section: [ids]}: the ids kept, in order; ids not listed
    are dropped), or `{section: null}` to show the section's items as the month has them again."""
    data = parse(EditionArrangement, body, "arrangement")
    edition = get(session, edition_id)
    if edition.state not in (DRAFT, SCHEDULED):
        raise Conflict(f"A {edition.state} edition cannot be changed.")
    known = {}
    for item in candidates(session, edition, now or utcnow()):
        known.setdefault(_section(item), set()).add(item["id"])
    arrangement = dict(edition.arrangement or {})
    for section, ids in data.sections.items():
        if ids is None:
            arrangement.pop(section, None)
            continue
        unknown = [item_id for item_id in ids if item_id not in known.get(section, set())]
        if unknown:
            raise InvalidInput(f"The {section} section has no item {unknown[0]}.",
                               {section: f"no item {unknown[0]} in this edition's {section}"})
        arrangement[section] = ids
    edition.arrangement = arrangement
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
        items = edition_items(session, edition, now)
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
    if started and session.get_bind().dialect.name == "postgresql":
        # The new rows counted before sending starts: until autovacuum gets to them (often not before a small
        # edition is over), PostgreSQL guesses and may read the whole table to look up a claimed batch.
        session.execute(text("ANALYZE recipients"))
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
        key = (i18n.language(language), tuple(sorted(areas or ())))
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
    items = edition.items if edition.items is not None else edition_items(session, edition, utcnow())
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
    return {**body, "id": edition.id, "sent_at": stamp(edition.finished_at)}
