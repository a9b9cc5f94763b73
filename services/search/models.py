"""What the index holds: one document per public record of the directory and per published item of content.

Both backends store this same shape. An unpublished record or item leaves a tombstone (`live` false, its
version kept) so that an older `record_published` / `content_published` arriving late cannot bring it back.

The two owners number their things independently, so a document's key (`id` in the index) is the record's id
for the directory and CONTENT_KEY + the item's id for content; results show the owner's own id and `url`.
"""
from datetime import datetime

from dsi import kinds, vocab
from dsi.sanitise import plain_text

KINDS = kinds.names()
CONTENT_KINDS = kinds.names("content")
CONTENT_KEY = 1 << 40  # above any record id the directory will reach; below 2**53, exact in JSON and ES longs
# Facets, in the order pages show them; each is a list of slugs (or codes) on a document. Those that make sense
# across owners (kind, country, social areas, cluster) are set on content's items too.
FACETS = ("kind", "country", "social_areas", "cluster", "technologies", "dsi_focus", "organisation_type",
          "organisation_size")
TERM_FACETS = ("social_areas", "technologies", "dsi_focus")  # lists of {value, label} on a public record
CHOICE_FACETS = ("organisation_type", "organisation_size")  # a single {value, label} on a public record
MIN_START_YEAR, MAX_START_YEAR = 1800, 2100  # outside: not a real start, a typing slip
# Shown in a result; stored with the document so a search never asks the directory.
ITEM_FIELDS = ("id", "kind", "name", "url", "short_description", "country", "country_name", "city", "latitude",
               "longitude")


def document(record: dict) -> dict:
    """The indexed document of a public record."""
    facets = {"kind": [record["kind"]], "country": [record["country"]] if record.get("country") else [],
              "cluster": []}
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
        "item": {**{field: record.get(field) for field in ITEM_FIELDS},
                 "url": kinds.record_path(record["kind"], record["id"])},
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


def content_key(item_id: int) -> int:
    return CONTENT_KEY + int(item_id)


def is_content_key(key: int) -> bool:
    return key >= CONTENT_KEY


def content_document(item: dict) -> dict:
    """The indexed document of a published content item (as `content_published` carries it): its title, its
    summary and body as the description (a story is found by the words of its body), its translations and the
    kind's own searchable fields (registry: dsi/kinds.py) as extra text."""
    kind = kinds.BY_NAME[item["kind"]]
    key = content_key(item["id"])
    cluster = item.get("cluster")
    cluster = cluster.get("value") if isinstance(cluster, dict) else cluster
    areas = [_value(term) for term in item.get("social_areas") or []]
    country = item.get("country")
    countries = [country] if country else [] if item.get("europe_wide") else list(item.get("countries") or [])
    description = "\n".join(filter(None, (item.get("summary") or "", item.get("body_text") or "")))
    own_fields = [field for field in kind.searchable if field not in kinds.CONTENT_TEXT]
    translated = [text for translation in (item.get("translations") or {}).values()
                  for text in (translation.get("title"), translation.get("summary"), translation.get("body_text"))]
    labels = [term["label"] for term in item.get("social_areas") or [] if isinstance(term, dict)]
    extra = " \n".join(filter(None, [*(_texts(item.get(field)) for field in own_fields), *translated, *labels,
                                     item.get("country_name")]))
    name = item.get("title") or item.get("name") or ""
    return {
        "id": key,
        "version": int(item["version"]),
        "live": True,
        "name": name,
        "description": description,
        "extra": extra,
        "facets": {"kind": [item["kind"]], "country": [code.upper() for code in countries],
                   "social_areas": [area for area in areas if area], "cluster": [cluster] if cluster else [],
                   "technologies": [], "dsi_focus": [], "organisation_type": [], "organisation_size": []},
        "name_sort": sort_key(name, key),
        "newest": newest_key(item.get("published_at"), key),
        "latitude": item.get("latitude"),
        "longitude": item.get("longitude"),
        "item": {"id": item["id"], "kind": item["kind"], "name": name, "slug": item.get("slug"),
                 "url": item.get("url") or kind.path(item.get("slug")), "lang": item.get("lang"),
                 "short_description": item.get("summary") or "", "country": country,
                 "country_name": item.get("country_name"), "city": item.get("city"),
                 "latitude": item.get("latitude"), "longitude": item.get("longitude"),
                 **{field: item.get(field) for field in ("starts_at", "timezone", "closes_on", "rolling")
                    if item.get(field) is not None}},
    }


def content_tombstone(item_id: int, version: int) -> dict:
    return tombstone(content_key(item_id), version)


def _value(term) -> str | None:
    return term.get("value") if isinstance(term, dict) else term


def _texts(value) -> str:
    """The words of a field of any shape (text, a term, a list of names or of {name, …})."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, dict):
        return " ".join(_texts(value.get(key)) for key in ("label", "name", "title") if value.get(key))
    if isinstance(value, (list, tuple)):
        return " ".join(filter(None, (_texts(each) for each in value)))
    return str(value)


def sort_key(name: str, record_id: int) -> str:
    """Name order that ignores case and accents; the id breaks ties so that pages never overlap."""
    return f"{vocab.slugify(name).replace('-', ' ')}\x00{record_id:010d}"


def newest_key(timestamp: str | None, record_id: int) -> int:
    """Publication time in seconds, with the id as the last digits: a total order, newest first when descending.
    Ids stay below 10**7 for this to hold."""
    seconds = int(datetime.fromisoformat(timestamp).timestamp()) if timestamp else 0
    return seconds * 10_000_000 + record_id % 10_000_000
