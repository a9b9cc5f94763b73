"""Events as iCalendar (RFC 5545): one VEVENT per event with a stable UID, DTSTART in the event's own IANA time
zone (with its VTIMEZONE) or as a DATE for an all-day event, and the URL of the event's page."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from dsi.clock import utcnow

from .models import Item
from .rendering import text_of

PRODID = "-//DSI network//content service//EN"


def uid(item: Item, host: str) -> str:
    """Stable across edits, slug changes and exports: the item's id on this platform's host."""
    return f"content-event-{item.id}@{host}"


def _event(item: Item, public_url: str, host: str) -> icalendar.Event:
    source = item.source or {}
    zone = ZoneInfo(source.get("timezone") or "UTC")
    start = datetime.fromisoformat(source["start"])
    end = datetime.fromisoformat(source["end"]) if source.get("end") else None
    event = icalendar.Event()
    event.add("uid", uid(item, host))
    event.add("dtstamp", utcnow())
    event.add("summary", item.title)
    if source.get("all_day"):
        event.add("dtstart", start.date())
        event.add("dtend", (end or start).date() + timedelta(days=1))  # DTEND of a DATE is exclusive
    else:
        event.add("dtstart", start.replace(tzinfo=zone))
        if end:
            event.add("dtend", end.replace(tzinfo=zone))
    description = item.summary or text_of(item.body_html)
    if description:
        event.add("description", description[:2000])
    place = ", ".join(part for part in (source.get("venue"), source.get("city")) if part)
    if source.get("attendance") == "online":
        place = place or "Online"
    if place:
        event.add("location", place)
    if source.get("latitude") is not None:
        event.add("geo", (source["latitude"], source["longitude"]))
    event.add("url", f"{public_url}/events/{item.slug}")
    event.add("sequence", max(item.version - 1, 0))
    if item.updated_at:
        event.add("last-modified", item.updated_at if item.updated_at.tzinfo else item.updated_at.replace(
            tzinfo=ZoneInfo("UTC")))
    return event


def calendar(events: list[Item], public_url: str, name: str = "DSI events") -> bytes:
    """A VCALENDAR of `events` (those without a start are left out: nothing is invented)."""
    host = public_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for item in events:
        if (item.source or {}).get("start"):
            cal.add_component(_event(item, public_url, host))
    cal.add_missing_timezones()
    return cal.to_ical()
