"""Import of the original platform's open-data export (DSI4EU, 2017) as published records.

The export is messy: "" and "1970-01-01" stand for unknown, descriptions hold HTML, free text is mixed into the
vocabularies, and social areas carry their 2017 names. Vocabulary values are mapped to today's slugs; free text
is kept as tags; HTML is sanitised. Records are keyed by their old id, so a re-run skips what is already there.
"""
import json
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi import countries, vocab
from dsi.errors import InvalidInput
from dsi.clock import utcnow
from dsi.sanitise import plain_text
from dsi.schemas import website_or_blank

from . import records
from .models import Record, RecordLink

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


def _summary(short: str, long_html: str) -> str:
    """The short description, or the opening of the long one when the record has none (max 300 characters)."""
    text = plain_text(short) or plain_text(long_html)
    if len(text) <= 300:
        return text
    cut = text[:297].rsplit(" ", 1)[0]
    return cut + "…"


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


def _created(value) -> datetime:
    day = _date(value)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) if day else utcnow()


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
    """Import the export at `path`; returns a summary: counts per kind and the reasons for skipped records."""
    exported = read_export(path)
    existing = dict(session.execute(
        select(Record.import_key, Record.id).where(Record.import_key.like(f"{SOURCE}:%"))
    ).tuples().all())
    summary = {"imported": Counter(), "already_imported": Counter(), "skipped": Counter(), "links": 0}
    created: list[Record] = []
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
            if key in existing:
                summary["already_imported"][kind] += 1
                continue
            fields = to_fields(item)
            if len(fields["name"]) < 1:
                summary["skipped"][f"{kind}: no name"] += 1
                continue
            record = Record(kind=kind, status=records.PUBLISHED, name=fields["name"], import_key=key,
                            created_at=_created(item.get(created_key)), published_at=utcnow(), version=0)
            records.apply_fields(session, record, fields)
            session.add(record)
            created.append(record)
            summary["imported"][kind] += 1
    session.flush()
    ids = {**existing, **{record.import_key: record.id for record in created}}
    new_ids = {record.id for record in created}
    pairs = {(ids[org], ids[project]) for org, project in links if org in ids and project in ids}
    for organisation_id, project_id in sorted(pairs):
        if organisation_id in new_ids or project_id in new_ids:
            session.merge(RecordLink(organisation_id=organisation_id, project_id=project_id, role="partner"))
            summary["links"] += 1
    session.flush()
    for record in created:
        records.publish(session, outbox, record)
    return summary


def format_summary(summary: dict) -> str:
    imported = ", ".join(f"{count} {kind}s" for kind, count in summary["imported"].items())
    lines = [
        f"imported: {imported or 'nothing new'}",
        f"links between organisations and projects: {summary['links']}",
    ]
    if summary["already_imported"]:
        lines.append("already there (skipped): " + ", ".join(
            f"{count} {kind}s" for kind, count in summary["already_imported"].items()))
    for reason, count in sorted(summary["skipped"].items()):
        lines.append(f"skipped {count} ({reason})")
    return "\n".join(lines)

