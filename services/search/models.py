"""What the index holds: one document per public record, built from the directory's public record.

Both backends store this same shape. An unpublished record leaves a tombstone (`live` false, its version
kept) so that an older `record_published` arriving late cannot bring it back.
"""
from datetime import datetime

from dsi import kinds, vocab
from dsi.sanitise import plain_text

KINDS = kinds.names()
# Facets, in the order pages show them; each is a list of slugs (or codes) on a document.
FACETS = ("kind", "country", "social_areas", "technologies", "dsi_focus", "organisation_type", "organisation_size")
TERM_FACETS = ("social_areas", "technologies", "dsi_focus")  # lists of {value, label} on a public record
CHOICE_FACETS = ("organisation_type", "organisation_size")  # a single {value, label} on a public record
# Shown in a result; stored with the document so a search never asks the directory.
MIN_START_YEAR, MAX_START_YEAR = 1800, 2100  # outside: not a real start, a typing slip
ITEM_FIELDS = ("id", "kind", "name", "short_description", "country", "country_name", "city", "latitude", "longitude")


def document(record: dict) -> dict:
    """The indexed document of a public record."""
    facets = {"kind": [record["kind"]], "country": [record["country"]] if record.get("country") else []}
    labels = []
    for facet in TERM_FACETS:
        terms = record.get(facet) or []
        facets[facet] = [term["value"] for term in terms]
        labels += [term["label"] for term in terms]
    for facet in CHOICE_FACETS:
        term = record.get(facet)
        facets[facet] = [term["value"]] if term else []
        labels += [term["label"]] if term else []
    if record.get("status"):
        labels.append(record["status"]["label"])
    linked = record.get("projects") or record.get("organisations") or []
    description = "\n".join(filter(None, (
        record.get("short_description") or "",  # plain text already; only the long fields are HTML
        plain_text(record.get("long_description")),
        plain_text(record.get("social_impact")),
    )))
    extra = " \n".join(filter(None, [
        record.get("city"), record.get("country_name"), record.get("address"),
        *record.get("tags", []), *record.get("network_tags", []), *labels, *(link["name"] for link in linked),
    ]))
    return {
        "id": int(record["id"]),
        "version": int(record["version"]),
        "live": True,
        "name": record["name"],
        "description": description,
        "extra": extra,
        "facets": facets,
        "name_sort": sort_key(record["name"], int(record["id"])),
        "newest": newest_key(record.get("published_at") or record.get("created_at"), int(record["id"])),
        "latitude": record.get("latitude"),
        "longitude": record.get("longitude"),
        "item": {field: record.get(field) for field in ITEM_FIELDS},
        # for the map's panel and the network: never searched, only shown and counted
        "links": [{"id": int(link["id"]), "kind": link["kind"], "name": link["name"], "role": link.get("role")}
                  for link in linked],
        "start_year": start_year(record.get("start_date")),
    }


def start_year(start_date: str | None) -> int | None:
    """The year a record started, for the groupings' timeline; none for the export's "unknown" dates."""
    if not start_date:
        return None
    year = int(start_date[:4])
    return year if MIN_START_YEAR <= year <= MAX_START_YEAR else None


def tombstone(record_id: int, version: int) -> dict:
    return {"id": int(record_id), "version": int(version), "live": False}


def sort_key(name: str, record_id: int) -> str:
    """Name order that ignores case and accents; the id breaks ties so that pages never overlap."""
    return f"{vocab.slugify(name).replace('-', ' ')}\x00{record_id:010d}"


def newest_key(timestamp: str | None, record_id: int) -> int:
    """Publication time in seconds, with the id as the last digits: a total order, newest first when descending.
    Ids stay below 10**7 for this to hold."""
    seconds = int(datetime.fromisoformat(timestamp).timestamp()) if timestamp else 0
    return seconds * 10_000_000 + record_id % 10_000_000
