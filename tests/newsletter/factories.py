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
