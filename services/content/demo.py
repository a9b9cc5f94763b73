"""Generated demo content, dated from today so that every section shows something: upcoming and past events,
open, rolling and closed funding calls, stories, case studies and resources; and the six cluster pages.

Every demo item says it is a demo; each has an import key, so loading twice changes nothing.
"""
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsi import vocab

from . import items
from .models import Item

DEMO = "demo"
CLUSTER_PAGES = "clusters"


def ensure_cluster_pages(session: Session, outbox) -> int:
    """One published page per cluster, with its lead partner; texts are for an editor to write."""
    created = 0
    for slug, lead in vocab.CLUSTERS.items():
        key = f"cluster:{slug}"
        if session.scalar(select(Item.id).where(Item.import_key == key)) is not None:
            continue
        label = vocab.SOCIAL_AREAS[slug]
        item = items.create(session, outbox, "cluster", {
            "title": label, "slug": slug, "cluster": slug, "social_areas": [slug], "lead_partner": lead,
            "subtitle": f"The DSI cluster on {label.lower()}, led by {lead}",
        }, CLUSTER_PAGES, origin="import", import_key=key)
        items.transition(session, outbox, item.id, "publish", CLUSTER_PAGES)
        created += 1
    return created


def _at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour)).isoformat()


def demo_items(today: date) -> list[tuple[str, str, dict]]:
    """(key, kind, fields) of every demo item."""
    day = lambda offset: today + timedelta(days=offset)  # noqa: E731
    clusters = list(vocab.CLUSTERS)
    note = "*This is generated demo content.*"
    rows = [
        ("event-summit", "event", {
            "title": "Demo: European DSI summit", "summary": "Two days of talks and workshops on tech for good.",
            "body": f"{note}\n\nProjects, funders and cities meet to share what works.", "start": _at(day(9), 9),
            "end": _at(day(10), 17), "timezone": "Europe/Berlin", "attendance": "in_person",
            "venue": "Demo Hall", "city": "Berlin", "country": "DE", "price": "€40", "cluster": clusters[0]}),
        ("event-webinar", "event", {
            "title": "Demo: Open data for cities (webinar)", "summary": "An hour on publishing city data well.",
            "body": note, "start": _at(day(3), 15), "end": _at(day(3), 16), "timezone": "Europe/Madrid",
            "attendance": "online", "free": True, "cluster": clusters[5]}),
        ("event-meetup", "event", {
            "title": "Demo: Civic tech meetup", "summary": "An evening of short talks, on site and streamed.",
            "body": note, "start": _at(day(24), 18), "end": _at(day(24), 21), "timezone": "Europe/Warsaw",
            "attendance": "hybrid", "venue": "Demo Hub", "city": "Warsaw", "country": "PL", "free": True,
            "cluster": clusters[2]}),
        ("event-festival", "event", {
            "title": "Demo: Maker festival", "summary": "A whole day of open hardware.", "body": note,
            "start": _at(day(45), 0), "all_day": True, "timezone": "Europe/Rome", "attendance": "in_person",
            "city": "Milan", "country": "IT", "free": True, "cluster": clusters[0]}),
        ("event-past", "event", {
            "title": "Demo: Migration and tech roundtable", "summary": "Held a month ago.", "body": note,
            "start": _at(day(-30), 10), "end": _at(day(-30), 12), "timezone": "Europe/Berlin",
            "attendance": "in_person", "city": "Berlin", "country": "DE", "free": True, "cluster": clusters[4]}),
        ("funding-soon", "funding", {
            "title": "Demo: Tech for good seed grants", "summary": "Small grants for early projects.", "body": note,
            "funding_types": ["grant-funding"], "targets": ["startup", "individuals"], "europe_wide": True,
            "funder_name": "Demo Foundation", "amount": "up to €20,000", "closes_on": day(6).isoformat(),
            "apply_url": "https://example.org/apply", "cluster": clusters[1]}),
        ("funding-later", "funding", {
            "title": "Demo: City innovation fund", "summary": "Investment for civic startups.", "body": note,
            "funding_types": ["investment-social-investment"], "targets": ["social-enterprise-charity-or-other-non-profit"],
            "countries": ["ES", "PT"], "funder_name": "Demo City", "closes_on": day(40).isoformat(),
            "cluster": clusters[5]}),
        ("funding-rolling", "funding", {
            "title": "Demo: Mentoring programme", "summary": "Mentoring for social enterprises, all year.",
            "body": note, "funding_types": ["non-financial-support", "networking-opportunities"],
            "targets": ["social-enterprise-charity-or-other-non-profit"], "europe_wide": True, "rolling": True}),
        ("funding-closed", "funding", {
            "title": "Demo: Research grants 2025", "summary": "This call has closed.", "body": note,
            "funding_types": ["grant-funding"], "targets": ["research-organisation"], "countries": ["NL"],
            "closes_on": day(-12).isoformat()}),
    ]
    for number, category in enumerate(("news", "feature", "interview")):
        rows.append((f"story-{category}", "story", {
            "title": f"Demo: {category} story about digital social innovation",
            "summary": "What the network did this month.", "category": category,
            "body": f"{note}\n\n## What happened\n\nProjects met, learned and built together.",
            "authors": ["Demo editor"], "cluster": clusters[number], "social_areas": [clusters[number]],
            "published_on": day(-(number + 1) * 5).isoformat()}))
    for number in range(2):
        rows.append((f"case-study-{number}", "case_study", {
            "title": f"Demo: case study {number + 1}", "card_text": "How a project grew across borders.",
            "summary": "A project that scaled.", "body": note, "cluster": clusters[number + 3],
            "featured_position": number + 1, "link_url": "https://example.org", "link_label": "The project"}))
    for number, kind in enumerate(("guide", "dataset")):
        rows.append((f"resource-{kind}", "resource", {
            "title": f"Demo: a {kind} for DSI practitioners", "summary": "Useful material.", "body": note,
            "resource_type": kind, "publisher": "Demo Lab", "resource_url": "https://example.org/resource",
            "year": today.year, "cluster": clusters[number + 2]}))
    return rows


def load_demo(session: Session, outbox, today: date | None = None) -> int:
    """Publish the demo items not loaded yet; returns how many were added."""
    added = 0
    ensure_cluster_pages(session, outbox)
    for key, kind, fields in demo_items(today or date.today()):
        import_key = f"demo:{key}"
        if session.scalar(select(Item.id).where(Item.import_key == import_key)) is not None:
            continue
        item = items.create(session, outbox, kind, fields, DEMO, origin="demo", import_key=import_key)
        items.transition(session, outbox, item.id, "publish", DEMO)
        added += 1
    return added
