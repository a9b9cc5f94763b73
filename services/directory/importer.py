"""Import of the original platform's open-data export (DSI4EU, 2017) as published records.

The export is messy: "" and "1970-01-01" stand for unknown, descriptions hold HTML, free text is mixed into the
vocabularies, and social areas carry their 2017 names. Vocabulary values are mapped to today's slugs; free text
is kept as tags; HTML is sanitised. Records are keyed by their old id: a re-run adds no duplicates and repairs what
an earlier import derived (short description, dates) on records nobody has edited since.
"""
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi import countries, vocab
from dsi.errors import InvalidInput
from dsi.sanitise import plain_text
from dsi.schemas import website_or_blank

from . import records
from .models import Record, RecordLink, Submission

SOURCE = "dsi4eu-2017"
PLACEHOLDER_DATES = {"", "1970-01-01", "0000-00-00"}


def import_key(kind: str, legacy_id) -> str:
    return f"{SOURCE}:{kind}:{legacy_id}"


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _date(value) -> date | None:
    text = _text(value)[:10]
    if text in PLACEHOLDER_DATES:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _coordinate(value, limit: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -limit <= number <= limit else None


SUMMARY_LENGTH = 300
MIN_SENTENCE_WORDS = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _whole_sentence(sentence: str, may_lack_stop: bool) -> bool:
    """A sentence that stands on its own: it opens with a capital or a digit, has a few words, and ends with a
    full stop (the author's own short description may omit it)."""
    return (bool(sentence) and (sentence[0].isupper() or sentence[0].isdigit())
            and len(sentence.split()) >= MIN_SENTENCE_WORDS
            and (may_lack_stop or sentence[-1] in ".!?"))


def _leading_sentences(text: str, may_lack_stop: bool) -> str:
    """The whole sentences at the start of `text` that fit in SUMMARY_LENGTH; "" when the first does not."""
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > SUMMARY_LENGTH or not _whole_sentence(sentence, may_lack_stop and candidate == text):
            break
        kept = candidate
    return kept


def _summary(short: str, long_html: str) -> str:
    """The short description from whole sentences: the author's own, else the opening of the long description;
    empty rather than a fragment ("publications for details.", "Prototype") or a sentence cut in the middle."""
    return _leading_sentences(plain_text(short), may_lack_stop=True) or \
        _leading_sentences(plain_text(long_html), may_lack_stop=False)


def _names(items) -> list[str]:
    return [_text(item.get("name") if isinstance(item, dict) else item) for item in items or []]


def _sort_terms(values: list[str], vocabularies: dict[str, dict]) -> tuple[dict[str, list[str]], list[str]]:
    """Split free-text values into known vocabulary slugs (by facet) and leftover tags."""
    known: dict[str, list[str]] = {facet: [] for facet in vocabularies}
    tags = []
    for value in values:
        for facet, vocabulary in vocabularies.items():
            slug = vocab.to_slug(vocabulary, value) if value else None
            if slug:
                known[facet].append(slug)
                break
        else:
            if value and not value.isdigit():  # bare numbers are ids that leaked into the export
                tags.append(value[:60])
    return known, tags


def _common(item: dict, name_key: str) -> dict:
    long_html = item.get("long_description") or ""
    latitude = _coordinate(item.get("latitude"), 90)
    longitude = _coordinate(item.get("longitude"), 180)
    if latitude is None or longitude is None:
        latitude = longitude = None
    return {
        "name": _text(item.get(name_key))[:200],
        "website": website_or_blank(_text(item.get("website")))[:500],
        "short_description": _summary(_text(item.get("short_description")), long_html),
        "long_description": long_html,
        "country": countries.code_for(_text(item.get("country"))),
        "city": _text(item.get("region"))[:200],
        "latitude": latitude,
        "longitude": longitude,
    }


def organisation_fields(item: dict) -> dict:
    organisation_type = item.get("organisation_type")
    type_name = _text(organisation_type.get("name")) if isinstance(organisation_type, dict) else ""
    return {
        **_common(item, "organisation_name"),
        "address": _text(item.get("address"))[:500],
        "organisation_type": vocab.to_slug(vocab.ORGANISATION_TYPES, type_name) if type_name else None,
        "organisation_size": vocab.to_slug(vocab.ORGANISATION_SIZES, _text(item.get("organisation_size")) or "?"),
        "start_date": _date(item.get("startDate")),
        "tags": [tag[:60] for tag in _names(item.get("tags")) if tag],
        "network_tags": [tag[:60] for tag in _names(item.get("networkTags")) if tag],
    }


def project_fields(item: dict) -> dict:
    areas, area_tags = _sort_terms(_names(item.get("support_tags")), {"social_areas": vocab.SOCIAL_AREAS})
    known, tech_tags = _sort_terms(
        _names(item.get("technology")), {"technologies": vocab.TECHNOLOGIES, "social_areas": vocab.SOCIAL_AREAS}
    )
    focus, focus_tags = _sort_terms(_names(item.get("focus")), {"dsi_focus": vocab.DSI_FOCUS})
    end = _date(item.get("end_date"))
    return {
        **_common(item, "project_name"),
        "social_impact": item.get("social_impact") or "",
        "status": "closed" if end and end < date.today() else "live",
        "start_date": _date(item.get("start_date")),
        "end_date": end,
        "social_areas": areas["social_areas"] + known["social_areas"],
        "technologies": known["technologies"],
        "dsi_focus": focus["dsi_focus"],
        "tags": [tag[:60] for tag in _names(item.get("who_we_help_tags")) if tag] + area_tags + tech_tags + focus_tags,
    }


def _created(value, undated: datetime) -> datetime:
    """The record's creation date in the export; `undated` for the 1970 placeholder."""
    day = _date(value)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if day else undated


def _undated(exported: dict[str, list[dict]]) -> datetime:
    """When the undated records were created: before the export's first dated record (the old platform recorded
    creation dates only from then on, and the undated records carry the lower ids)."""
    days = [day for kind, (_file, _id, _fields, created_key, _links) in KINDS.items()
            for item in exported[kind] if isinstance(item, dict) and (day := _date(item.get(created_key)))]
    first = min(days, default=date(2016, 1, 1))
    return datetime(first.year, first.month, first.day, tzinfo=timezone.utc) - timedelta(days=1)


KINDS = {
    "organisation": ("organisations.json", "organisation_id", organisation_fields, "created", "linked_project_ids"),
    "project": ("projects.json", "project_id", project_fields, "creation_date", "linked_organisation_ids"),
}


def read_export(path: Path) -> dict[str, list[dict]]:
    path = Path(path)
    exported = {}
    for kind, (filename, *_rest) in KINDS.items():
        file = path / filename
        if not file.is_file():
            raise InvalidInput(f"{file} not found: expected the DSI4EU export (organisations.json, projects.json).")
        try:
            exported[kind] = json.loads(file.read_text(encoding="utf-8"))
        except ValueError as error:
            raise InvalidInput(f"{file} is not valid JSON: {error}")
        if not isinstance(exported[kind], list):
            raise InvalidInput(f"{file} should hold a JSON list of records.")
    return exported


def import_dsi4eu(session: Session, outbox, path: Path) -> dict:
    """Import the export at `path`; returns a summary: counts per kind, the records repaired, and the reasons for
    skipped records."""
    exported = read_export(path)
    undated = _undated(exported)
    existing = dict(session.execute(
        select(Record.import_key, Record.id).where(Record.import_key.like(f"{SOURCE}:%"))
    ).tuples().all())
    summary = {"imported": Counter(), "already_imported": Counter(), "repaired": Counter(), "skipped": Counter(),
               "links": 0}
    created: list[Record] = []
    repairs: dict[str, tuple[dict, datetime]] = {}
    links: list[tuple[str, str]] = []  # (organisation key, project key)
    for kind, (_file, id_key, to_fields, created_key, links_key) in KINDS.items():
        seen = set()
        for item in exported[kind]:
            if not isinstance(item, dict) or item.get(id_key) in (None, ""):
                summary["skipped"][f"{kind}: no id"] += 1
                continue
            key = import_key(kind, item[id_key])
            if key in seen:
                summary["skipped"][f"{kind}: duplicate id"] += 1
                continue
            seen.add(key)
            for other in item.get(links_key) or []:
                other_key = import_key("project" if kind == "organisation" else "organisation", other)
                links.append((key, other_key) if kind == "organisation" else (other_key, key))
            fields = to_fields(item)
            created_at = _created(item.get(created_key), undated)
            if key in existing:
                summary["already_imported"][kind] += 1
                repairs[key] = (fields, created_at)
                continue
            if len(fields["name"]) < 1:
                summary["skipped"][f"{kind}: no name"] += 1
                continue
            # Published on the old platform when created there: "newest first" orders by that date.
            record = Record(kind=kind, status=records.PUBLISHED, name=fields["name"], import_key=key,
                            created_at=created_at, published_at=created_at, version=0)
            records.apply_fields(session, record, fields)
            session.add(record)
            created.append(record)
            summary["imported"][kind] += 1
    session.flush()
    repaired = _repair(session, {existing[key]: repair for key, repair in repairs.items()})
    for record in repaired:
        summary["repaired"][record.kind] += 1
    ids = {**existing, **{record.import_key: record.id for record in created}}
    new_ids = {record.id for record in created}
    pairs = {(ids[org], ids[project]) for org, project in links if org in ids and project in ids}
    for organisation_id, project_id in sorted(pairs):
        if organisation_id in new_ids or project_id in new_ids:
            session.merge(RecordLink(organisation_id=organisation_id, project_id=project_id, role="partner"))
            summary["links"] += 1
    session.flush()
    for record in created + repaired:
        if record.status == records.PUBLISHED:
            records.publish(session, outbox, record)
    return summary


def _repair(session: Session, repairs: dict[int, tuple[dict, datetime]]) -> list[Record]:
    """Bring what the import derives (creation and publication date, short description) of already imported
    records up to this importer; a record its owner edited since (an approved update) keeps its text."""
    if not repairs:
        return []
    edited = set(session.scalars(select(Submission.record_id).where(
        Submission.record_id.in_(repairs), Submission.action == "update", Submission.state == records.APPROVED)))
    changed = []
    for record in session.scalars(select(Record).where(Record.id.in_(repairs))):
        fields, created_at = repairs[record.id]
        wanted = {"created_at": created_at, "published_at": created_at}
        if record.id not in edited:
            wanted["short_description"] = fields["short_description"]
        if any(_differs(getattr(record, name), value) for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(record, name, value)
            changed.append(record)
    return changed


def _differs(current, wanted) -> bool:
    if isinstance(current, datetime) and current.tzinfo is None:  # SQLite hands back naive UTC
        current = current.replace(tzinfo=timezone.utc)
    return current != wanted


def format_summary(summary: dict) -> str:
    imported = ", ".join(f"{count} {kind}s" for kind, count in summary["imported"].items())
    lines = [
        f"imported: {imported or 'nothing new'}",
        f"links between organisations and projects: {summary['links']}",
    ]
    if summary["already_imported"]:
        lines.append("already there: " + ", ".join(
            f"{count} {kind}s" for kind, count in summary["already_imported"].items()))
    if summary["repaired"]:
        lines.append("repaired (description, dates): " + ", ".join(
            f"{count} {kind}s" for kind, count in summary["repaired"].items()))
    for reason, count in sorted(summary["skipped"].items()):
        lines.append(f"skipped {count} ({reason})")
    return "\n".join(lines)

