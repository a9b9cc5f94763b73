"""The calendar files parse back with icalendar: stable UIDs, DTSTART in the event's zone, URL to the page."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from services.content import ical, items, listing
from tests.content.conftest import EDITOR

URL = "https://dsi.test"


def parse(data: bytes) -> list:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def test_timed_and_all_day_events(session, outbox, make_item):
    start = (datetime.now() + timedelta(days=3)).replace(hour=17, minute=0, second=0, microsecond=0)
    timed = make_item("event", publish=True, title="Policy roundtable", start=start.isoformat(),
                      end=(start + timedelta(hours=2)).isoformat(), timezone="Europe/Brussels", venue="Room A5G",
                      city="Brussels")
    day = date.today() + timedelta(days=20)
    all_day = make_item("event", publish=True, title="Festival", start=day.isoformat() + "T00:00:00",
                        all_day=True, timezone="Europe/Rome")
    data = ical.calendar(listing.upcoming_events(session), URL)
    calendar = icalendar.Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Brussels"]
    first, second = parse(data)
    assert str(first["UID"]) == f"content-event-{timed.id}@dsi.test"
    assert first["DTSTART"].dt == start.replace(tzinfo=ZoneInfo("Europe/Brussels"))
    assert first["DTSTART"].params["TZID"] == "Europe/Brussels"
    assert str(first["URL"]) == f"{URL}/events/policy-roundtable"
    assert str(first["LOCATION"]) == "Room A5G, Brussels"
    assert second["DTSTART"].dt == day and second["DTEND"].dt == day + timedelta(days=1)
    assert str(second["UID"]) == f"content-event-{all_day.id}@dsi.test"


def test_uid_survives_edits_and_slug_changes(session, outbox, make_item):
    event = make_item("event", publish=True, title="Meetup")
    before = str(parse(ical.calendar([event], URL))[0]["UID"])
    items.update(session, outbox, event.id, {**event.source, "slug": "renamed-meetup", "title": "Renamed"}, EDITOR)
    after = parse(ical.calendar([event], URL))[0]
    assert str(after["UID"]) == before and str(after["URL"]).endswith("/events/renamed-meetup")


def test_feed_honours_filters_and_leaves_out_undated_events(session, outbox, make_item):
    make_item("event", publish=True, title="Online one", attendance="online")
    make_item("event", publish=True, title="On site", attendance="in_person")
    data = ical.calendar(listing.upcoming_events(session, {"attendance": "online"}), URL)
    assert [str(event["SUMMARY"]) for event in parse(data)] == ["Online one"]
    undated = items.create(session, outbox, "event", {"title": "Undated"}, EDITOR)
    assert parse(ical.calendar([undated], URL)) == []
