"""Open data of the directory: published records as JSON or CSV (streamed page by page), RSS feeds of new
records and the sitemap. Plain generators over an `export(after_id)` function (the directory's
export_published), so nothing here knows nameko.
"""
import csv
import io
import json
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from dsi import kinds
from dsi.kinds import record_path
from dsi.sanitise import plain_text

from ..common import i18n

LICENCE = {
    "name": "CC BY-NC-SA 4.0",
    "url": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    "attribution": "DSI4EU / digitalsocial.eu contributors",
}
LICENCE_HEADERS = {"Link": f'<{LICENCE["url"]}>; rel="license"'}

COLUMNS = {kind.name: list(kind.csv_columns) for kind in kinds.KINDS}


def published(export, kind: str | None = None):
    """Every published record (of `kind`), fetching a page at a time."""
    after = 0
    while after is not None:
        page = export(after)
        for record in page["items"]:
            if kind is None or record["kind"] == kind:
                yield record
        after = page["next_after"]


def json_stream(records, public_url: str):
    """`{"licence": …, "items": [...]}`, written as the records arrive."""
    yield ('{"licence":' + json.dumps(LICENCE, ensure_ascii=False) + ',"items":[').encode()
    first = True
    for record in records:
        record = {**record, "url": public_url + record_path(record["kind"], record["id"])}
        yield (("" if first else ",") + json.dumps(record, ensure_ascii=False)).encode()
        first = False
    yield b"]}\n"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # a vocabulary term
        return value["label"]
    if isinstance(value, list):
        return "; ".join(_cell(item) for item in value)
    text = str(value)
    # a cell starting with these would run as a formula in a spreadsheet (CSV injection)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_row(kind: str, record: dict, public_url: str) -> list[str]:
    row = {**record, "url": public_url + record_path(kind, record["id"]),
           "long_description": plain_text(record.get("long_description")),
           "social_impact": plain_text(record.get("social_impact")),
           "projects": [str(link["id"]) for link in record.get("projects") or []],
           "organisations": [str(link["id"]) for link in record.get("organisations") or []]}
    return [_cell(row.get(column)) for column in COLUMNS[kind]]


def csv_stream(kind: str, records, public_url: str):
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> bytes:
        data = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return data

    yield "\ufeff".encode()  # so that spreadsheets open it as UTF-8
    writer.writerow(COLUMNS[kind])
    for number, record in enumerate(records, 1):
        writer.writerow(csv_row(kind, record, public_url))
        if number % 100 == 0:
            yield flush()
    yield flush()


def _rfc822(timestamp: str | None) -> str | None:
    return format_datetime(datetime.fromisoformat(timestamp)) if timestamp else None


def feed_text(text: str | None) -> str:
    """Text for a feed: tags removed until none is left (text that spells markup with entities is markup to a
    feed reader once unescaped), angle brackets dropped; the caller escapes it."""
    plain = text or ""
    for _ in range(5):
        stripped = plain_text(plain)
        if stripped == plain:
            break
        plain = stripped
    return plain.replace("<", "").replace(">", "")


def rss(title: str, link: str, feed_url: str, records: list[dict], public_url: str) -> str:
    """An RSS 2.0 feed of `records` (newest first)."""
    items = []
    for record in records:
        url = public_url + record_path(record["kind"], record["id"])
        published_at = _rfc822(record.get("published_at"))
        items.append(
            "<item>"
            f"<title>{escape(feed_text(record['name']))}</title>"
            f"<link>{escape(url)}</link>"
            f'<guid isPermaLink="true">{escape(url)}</guid>'
            f"<description>{escape(feed_text(record.get('short_description')))}</description>"
            + (f"<pubDate>{published_at}</pubDate>" if published_at else "")
            + "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(title)}</description><language>en</language>"
        f'<atom:link href="{escape(feed_url)}" rel="self" type="application/rss+xml"/>'
        f"<copyright>{escape(LICENCE['name'])}, {escape(LICENCE['attribution'])}</copyright>"
        + "".join(items)
        + "</channel></rss>\n"
    )


def _url_entry(public_url: str, path: str, lastmod: str | None = None) -> str:
    alternates = "".join(
        f'<xhtml:link rel="alternate" hreflang="{lang}" href="{escape(public_url + i18n.localised(lang, path))}"/>'
        for lang in i18n.LANGUAGES
    )
    modified = f"<lastmod>{lastmod[:10]}</lastmod>" if lastmod else ""
    return f"<url><loc>{escape(public_url + path)}</loc>{modified}{alternates}</url>"


def sitemap(public_url: str, pages: list[str], records):
    """The sitemap: the site's pages and every published directory record and content item, each with its
    translations. A content item whose page is already among `pages` (a cluster's) is listed once."""
    yield ('<?xml version="1.0" encoding="utf-8"?>\n'
           '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           'xmlns:xhtml="http://www.w3.org/1999/xhtml">').encode()
    for path in pages:
        yield _url_entry(public_url, path).encode()
    listed = set(pages)
    for record in records:
        by_slug = kinds.get(record["kind"]).owner == "content"
        path = record["url"] if by_slug else record_path(record["kind"], record["id"])
        if path not in listed:
            yield _url_entry(public_url, path, record.get("updated_at") or record.get("published_at")).encode()
    yield b"</urlset>\n"
