"""`dsi import-editorial PATH`: the original platform's editorial texts (data/editorial: manifest.json and
plain-text files) as content items.

Only what the texts say is used (the manifest records it): an item whose date the text does not give arrives as
a draft for an editor to complete, never with an invented value. Each item has an import key, so a second run
changes nothing.
"""
import json
import re
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi import vocab
from dsi.errors import InvalidInput

from . import items
from .models import Item

IMPORTER = "import:editorial"
_PRINTED_DATE = re.compile(r"^\d{1,2}(st|nd|rd|th)? [A-Z][a-z]+ \d{4}$")


def _paragraphs(text: str) -> list[str]:
    return [block.strip() for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if block.strip()]


def _body_after_title(paragraphs: list[str], title: str) -> list[str]:
    """The paragraphs after the title line (and any label printed above it)."""
    for index, paragraph in enumerate(paragraphs):
        if paragraph.splitlines()[0].strip() == title.strip():
            return paragraphs[index + 1:]
    return paragraphs


def _markdown(paragraphs: list[str]) -> str:
    lines = []
    for paragraph in paragraphs:  # the texts mark list items with a bullet
        lines.append("\n".join(re.sub(r"^\s*•\s*", "- ", line) for line in paragraph.splitlines()))
    return "\n\n".join(lines)


def _cluster(label: str | None) -> str | None:
    slug = vocab.to_slug(vocab.SOCIAL_AREAS, label) if label else None
    return slug if slug in vocab.CLUSTERS else None


def _story(entry: dict, folder: Path) -> tuple[dict, bool]:
    paragraphs = _body_after_title(_paragraphs((folder / entry["file"]).read_text("utf-8")), entry["title"])
    standfirst = ""
    if paragraphs and _PRINTED_DATE.match(paragraphs[0]):
        paragraphs = paragraphs[1:]  # the date as printed: the manifest has it as ISO
        if paragraphs and len(paragraphs[0]) <= 300:
            standfirst, paragraphs = paragraphs[0], paragraphs[1:]
    fields = {
        "title": entry["title"], "lang": entry.get("language") or "en", "summary": standfirst,
        "body": _markdown(paragraphs), "category": entry.get("category") or "blog",
        "authors": [entry["author"]] if entry.get("author") else [],
        "cluster": _cluster(entry.get("cluster")),
        "social_areas": [area for area in (vocab.to_slug(vocab.SOCIAL_AREAS, label)
                                           for label in entry.get("social_areas") or []) if area],
        "published_on": entry.get("published"),
        "translations": {},
    }
    for lang, file_name in (entry.get("translations") or {}).items():
        translated = _paragraphs((folder / file_name).read_text("utf-8"))
        title = entry.get(f"title_{lang}") or translated[0].splitlines()[0]
        fields["translations"][lang] = {"title": title, "body": _markdown(_body_after_title(translated, title))}
    return fields, bool(entry.get("published"))


def _event(entry: dict, folder: Path) -> tuple[dict, bool]:
    paragraphs = _body_after_title(_paragraphs((folder / entry["file"]).read_text("utf-8")), entry["title"])
    place = entry.get("place") or ""
    parts = [part.strip() for part in place.split(",")]
    fields = {
        "title": entry["title"], "lang": entry.get("language") or "en", "body": _markdown(paragraphs),
        "summary": paragraphs[0][:1000] if paragraphs else "",
        "timezone": entry.get("timezone") or "Europe/Brussels", "attendance": "in_person",
        "venue": ", ".join(parts[:-2]) if len(parts) > 2 else place, "city": parts[-2] if len(parts) > 2 else "",
        "country": entry.get("country"), "free": entry.get("price") == "free",
        "price": "" if entry.get("price") == "free" else (entry.get("price") or ""),
        "start": entry.get("start"),  # null in the text: the event stays a draft until an editor dates it
        "cluster": _cluster(entry.get("cluster")),
    }
    return fields, bool(entry.get("start"))


def _resource(entry: dict, folder: Path) -> tuple[dict, bool]:
    paragraphs = _body_after_title(_paragraphs((folder / entry["file"]).read_text("utf-8")), entry["title"])
    published = entry.get("published")
    fields = {
        "title": entry["title"], "lang": entry.get("language") or "en", "body": _markdown(paragraphs),
        "resource_type": entry.get("resource_type") or "other", "publisher": entry.get("publisher") or "",
        "resource_url": entry.get("url") or "", "cluster": _cluster(entry.get("cluster")),
        "year": date.fromisoformat(published).year if published else None,
    }
    return fields, bool(published)


READERS = {"story": _story, "event": _event, "resource": _resource}


def import_editorial(session: Session, outbox, folder: Path) -> dict:
    """Import every manifest entry once; returns counts of what was published, left as draft, or known."""
    manifest_path = Path(folder) / "manifest.json"
    if not manifest_path.exists():
        raise InvalidInput(f"No manifest.json in {folder}.", {"path": "expected the editorial folder"})
    manifest = json.loads(manifest_path.read_text("utf-8"))
    summary = {"published": 0, "drafts": 0, "unchanged": 0}
    for entry in manifest.get("items", []):
        key = f"editorial:{entry['file']}"
        if session.scalar(select(Item.id).where(Item.import_key == key)) is not None:
            summary["unchanged"] += 1
            continue
        reader = READERS.get(entry.get("kind"))
        if reader is None:
            raise InvalidInput(f"Unknown kind {entry.get('kind')!r} in the manifest.", {"kind": entry.get("kind")})
        fields, dated = reader(entry, Path(folder))
        item = items.create(session, outbox, entry["kind"], fields, IMPORTER, origin="import", import_key=key)
        if dated:
            items.transition(session, outbox, item.id, "publish", IMPORTER)
            summary["published"] += 1
        else:
            summary["drafts"] += 1
    return summary


def format_summary(summary: dict) -> str:
    return (f"editorial: {summary['published']} published, {summary['drafts']} drafts for an editor to complete, "
            f"{summary['unchanged']} already imported")
