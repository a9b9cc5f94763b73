"""Events and rows for newsletter tests."""
import uuid
from dsi.messaging import utcnow

from dsi import events
from services.newsletter.models import Subscriber


def published(record_id: int, version: int = 1, *, kind: str = "project", name: str | None = None,
              published_at: str = "2026-10-15T10:00:00+00:00", areas=("health-and-care",)) -> dict:
    record = {
        "id": record_id, "kind": kind, "name": name or f"{kind.title()} {record_id}", "version": version,
        "short_description": f"<p>What {kind} {record_id} does &amp; why.</p>", "city": "Barcelona",
        "country": "ES", "country_name": "Spain", "published_at": published_at,
    }
    if kind == "project":
        record["social_areas"] = [{"value": slug, "label": slug} for slug in areas]
    return events.envelope(events.DIRECTORY, events.RECORD_PUBLISHED, {"record": record})


def unpublished(record_id: int, version: int, kind: str = "project") -> dict:
    return events.envelope(events.DIRECTORY, events.RECORD_UNPUBLISHED,
                           {"id": record_id, "kind": kind, "version": version, "reason": "hidden"})


def subscriber(email: str, state: str = "confirmed", language: str = "en", areas=()) -> Subscriber:
    return Subscriber(email=email, state=state, language=language, social_areas=list(areas), key=uuid.uuid4().hex,
                      confirmed_at=utcnow() if state == "confirmed" else None)


def content_published(item_id: int, version: int = 1, *, kind: str = "story", title: str | None = None,
                      published_at: str = "2026-10-15T10:00:00+00:00", areas=(), event_type=None,
                      **fields) -> dict:
    """content_published as content sends it (services/content/views.py `event_item`), the fields that matter."""
    title = title or f"{kind.title()} {item_id}"
    slug = title.lower().replace(" ", "-")
    segment = {"story": "stories", "event": "events", "funding": "funding"}[kind]
    item = {"id": item_id, "kind": kind, "name": title, "title": title, "slug": slug, "url": f"/{segment}/{slug}",
            "lang": "en", "summary": f"About {title}.", "version": version, "published_at": published_at,
            "social_areas": [{"value": slug, "label": slug} for slug in areas], "translations": {},
            "body_text": "", **fields}
    return events.envelope(events.CONTENT, event_type or events.CONTENT_PUBLISHED, {"item": item})


def content_unpublished(item_id: int, version: int, kind: str = "story") -> dict:
    return events.envelope(events.CONTENT, events.CONTENT_UNPUBLISHED,
                           {"id": item_id, "kind": kind, "slug": f"item-{item_id}", "version": version,
                            "reason": "unpublished"})
