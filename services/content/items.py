"""Editorial work on items: create and edit, the publishing states, the scheduled publisher, slugs with their
redirects, and revisions with restore.

Plain functions over a SQLAlchemy session and an outbox (anything with `add(session, type, payload)`); nothing
here knows nameko. Callers commit.
"""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from dsi import events, signing, vocab
from dsi.clock import iso, utcnow
from dsi.errors import Conflict, Forbidden, InvalidInput, NotFound

from .models import Image, Item, ItemTerm, Revision, SlugRedirect, Translation
from .rendering import render
from .schemas import ContentFields, parse_fields
from .views import editor_item, event_item, public_item

DRAFT, SCHEDULED, PUBLISHED, UNPUBLISHED, ARCHIVED = "draft", "scheduled", "published", "unpublished", "archived"
# States of the public's suggestions before a moderator decides (see suggestions.py).
PENDING, REJECTED, CHANGES_REQUESTED, WITHDRAWN = "pending", "rejected", "changes_requested", "withdrawn"
STATES = (DRAFT, SCHEDULED, PUBLISHED, UNPUBLISHED, ARCHIVED, PENDING, REJECTED, CHANGES_REQUESTED, WITHDRAWN)
# action → (states it may start from, state it leads to)
TRANSITIONS = {
    "schedule": ((DRAFT, SCHEDULED, UNPUBLISHED), SCHEDULED),
    "publish": ((DRAFT, SCHEDULED, UNPUBLISHED), PUBLISHED),
    "unpublish": ((PUBLISHED, SCHEDULED), UNPUBLISHED),
    "archive": ((DRAFT, SCHEDULED, PUBLISHED, UNPUBLISHED), ARCHIVED),
}
PREVIEW_TOKEN = "content-preview"
SCHEDULER = "scheduler"


# --- writing -----------------------------------------------------------------------------------------------------

def create(session: Session, outbox, kind: str, body, actor: str, origin: str = "editor",
           state: str = DRAFT, import_key: str | None = None) -> Item:
    fields = parse_fields(kind, body)
    item = Item(kind=kind, state=state, origin=origin, import_key=import_key, updated_by=actor, slug="",
                title=fields.title)
    session.add(item)
    _apply(session, item, fields)
    _flush_slug(session, item)
    _record(session, item, actor, "created", _changes({}, item.source))
    return item


def load_published(session: Session, kind_bodies, actor: str, origin: str = "import") -> int:
    """Many published items in one batch (large loads, benchmarks): validated and derived as `create` does, but
    without a revision or an event per item (`dsi reindex` brings search up to date). Each title must make a
    slug of its own: a repeated one is a Conflict, as the unique key refuses it."""
    now = utcnow()
    rows = []
    with session.no_autoflush:
        for kind, body in kind_bodies:
            fields = parse_fields(kind, body)
            item = Item(kind=kind, state=PUBLISHED, origin=origin, updated_by=actor, title=fields.title,
                        slug=fields.slug or vocab.slugify(fields.title)[:100] or kind, published_at=now, version=1)
            _copy_fields(session, item, fields)  # the slug is set: no lookup per item
            rows.append(item)
    session.add_all(rows)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("Two items of the load, or one of them and an item already here, have the same slug.")
    return len(rows)


def _flush_slug(session: Session, item: Item) -> None:
    """Two editors taking the same slug at the same moment: the database's unique key refuses the second. Two
    saving the same item at the same moment: the version counter refuses the second."""
    kind, slug, item_id = item.kind, item.slug, item.id
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"Another {kind} took the slug {slug!r} at the same moment; save again.",
                       {"slug": "already used"})
    except StaleDataError:
        session.rollback()
        raise _edited_meanwhile(get(session, item_id))


def _edited_meanwhile(item: Item) -> Conflict:
    return Conflict(f"{item.updated_by or 'Someone'} saved this item at {iso(item.updated_at)}, after you opened "
                    "it. Your changes were not saved: compare them with the latest version, then save again to "
                    "replace it.", {"version": item.edit_version, "reason": "edited_meanwhile"})


def parse_version(value) -> int | None:
    """The version an editor's copy was opened at (a form field, a JSON field or an If-Match header)."""
    if value is None or value == "":
        return None
    text = str(value).strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidInput("The version is a whole number.", {"edit_version": "not a number"})
    return int(text)


def update(session: Session, outbox, item_id: int, body, actor: str, action: str = "updated",
           expected_version=None) -> Item:
    """Save an editor's fields. With `expected_version` (the version they opened), a save over anyone else's
    later one is a Conflict instead of a silent overwrite."""
    item = get(session, item_id)
    if item.state == ARCHIVED:
        raise Conflict("An archived item cannot be edited; restore is not possible either.")
    expected = parse_version(expected_version)
    if expected is not None and expected != item.edit_version:
        raise _edited_meanwhile(item)
    before = dict(item.source)
    _apply(session, item, parse_fields(item.kind, body))
    _flush_slug(session, item)
    changes = _changes(before, item.source)
    if not changes:
        return item
    item.updated_by = actor
    _record(session, item, actor, action, changes)
    if item.state == PUBLISHED:
        _announce(session, outbox, item, events.CONTENT_UPDATED)
    return item


def _apply(session: Session, item: Item, fields: ContentFields) -> None:
    """Copy validated fields onto an item: its source, the derived columns, translations and terms. Nothing is
    written before all of it is in place (the caller flushes: see _flush_slug)."""
    with session.no_autoflush:
        _copy_fields(session, item, fields)


def _copy_fields(session: Session, item: Item, fields: ContentFields) -> None:
    user_generated = item.origin == "suggestion"
    source = fields.model_dump(mode="json", exclude={"kind", "email"})
    source["images"] = _images(session, source["images"])
    _set_slug(session, item, fields.slug or item.slug or vocab.slugify(fields.title)[:100] or item.kind,
              explicit=fields.slug is not None and fields.slug != item.slug)
    source["slug"] = item.slug
    item.source = source
    item.title, item.lang, item.summary, item.body = fields.title, fields.lang, fields.summary, fields.body
    item.body_html = render(fields.body, user_generated)
    item.cluster = fields.cluster
    item.translations = [
        Translation(lang=lang, title=t.title, summary=t.summary, body_html=render(t.body, user_generated))
        for lang, t in fields.translations.items()
    ]
    terms = {"social_areas": fields.social_areas}
    item.category = getattr(fields, "category", None) or getattr(fields, "resource_type", None)
    item.featured_position = getattr(fields, "featured_position", None)
    if item.kind == "story":
        terms.update(organisations=[str(i) for i in fields.related_organisations],
                     projects=[str(i) for i in fields.related_projects])
    if item.kind == "case_study":
        terms.update(organisations=[str(fields.organisation_id)] if fields.organisation_id else [],
                     projects=[str(fields.project_id)] if fields.project_id else [])
    if item.kind == "event":
        _event_times(item, fields)
        item.country, item.attendance, item.is_free = fields.country, fields.attendance, fields.free
    if item.kind == "funding":
        item.closes_on, item.rolling = fields.closes_on, fields.rolling
        terms.update(funding_types=fields.funding_types, targets=fields.targets, countries=fields.countries,
                     scope=["europe"] if fields.europe_wide else [])
    item.terms = [ItemTerm(facet=facet, value=value, position=position)
                  for facet, values in terms.items() for position, value in enumerate(values)]


def _event_times(item: Item, fields) -> None:
    """Local wall time in the event's zone → UTC instants for ordering; an all-day event spans whole days."""
    zone = ZoneInfo(fields.timezone)
    if fields.start is None:
        item.starts_at = item.ends_at = item.start_date = None
        return
    start = datetime.combine(fields.start.date(), time()) if fields.all_day else fields.start
    end = fields.end or start
    if fields.all_day:
        end = datetime.combine(end.date(), time()) + timedelta(days=1)
    item.starts_at = start.replace(tzinfo=zone).astimezone(timezone.utc)
    item.ends_at = end.replace(tzinfo=zone).astimezone(timezone.utc)
    item.start_date = start.date()


def _images(session: Session, refs: list[dict]) -> list[dict]:
    if not refs:
        return []
    known = {image.id: image for image in session.scalars(select(Image).where(Image.id.in_([r["image_id"] for r in refs])))}
    missing = [ref["image_id"] for ref in refs if ref["image_id"] not in known]
    if missing:
        raise InvalidInput("Unknown images.", {"images": f"no uploaded image {', '.join(missing)}"})
    return [{**ref, "url": f"/media/{known[ref['image_id']].filename}"} for ref in refs]


# --- slugs ---------------------------------------------------------------------------------------------------------

# Paths of the site beside items' pages (/events/past, /funding/closed, /events/suggest): never an item's slug.
RESERVED_SLUGS = frozenset({"past", "closed", "suggest", "new"})


def _taken(session: Session, kind: str, slug: str, item_id: int | None) -> bool:
    if slug in RESERVED_SLUGS:
        return True
    query = select(Item.id).where(Item.kind == kind, Item.slug == slug)
    if item_id is not None:
        query = query.where(Item.id != item_id)
    return session.scalar(query) is not None


def _set_slug(session: Session, item: Item, wanted: str, explicit: bool) -> None:
    """A unique slug per kind. A slug the editor chose must be free; one made from the title gets -2, -3…
    A changed slug leaves a redirect from the old one."""
    if wanted == item.slug:
        return
    slug = wanted
    if explicit:
        if _taken(session, item.kind, slug, item.id):
            raise Conflict(f"Another {item.kind} has the slug {slug!r}.", {"slug": "already used"})
    else:
        number = 2
        while _taken(session, item.kind, slug, item.id):
            slug, number = f"{wanted[:110]}-{number}", number + 1
    session.execute(delete(SlugRedirect).where(SlugRedirect.kind == item.kind, SlugRedirect.slug == slug))
    if item.slug:  # an item that had a slug was flushed before, so it has its id
        session.merge(SlugRedirect(kind=item.kind, slug=item.slug, item_id=item.id))
    item.slug = slug


def redirect_for(session: Session, kind: str, slug: str) -> Item | None:
    """The item that had `slug` before, if any."""
    moved = session.get(SlugRedirect, (kind, slug))
    return session.get(Item, moved.item_id) if moved else None


# --- states --------------------------------------------------------------------------------------------------------

def transition(session: Session, outbox, item_id: int, action: str, actor: str, publish_at=None) -> Item:
    item = get(session, item_id)
    allowed, target = TRANSITIONS[action]
    if item.state not in allowed:
        raise Conflict(f"A {item.state} item cannot be {target}.", {"state": item.state})
    before = item.state
    if target in (SCHEDULED, PUBLISHED):
        _check_publishable(item)
    if target == SCHEDULED:
        item.publish_at = _future(publish_at)
    was_public = before == PUBLISHED
    item.state = target
    item.updated_by = actor
    if target == PUBLISHED:
        _go_public(session, outbox, item)
    elif was_public:
        _announce_gone(session, outbox, item)
    if target != SCHEDULED:
        item.publish_at = None
    _record(session, item, actor, action, [{"field": "state", "before": before, "after": target}]
            + ([{"field": "publish_at", "before": None, "after": iso(item.publish_at)}] if item.publish_at else []))
    return item


def _future(value) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput("Give the publish time as ISO 8601.", {"publish_at": "not a date and time"})
    if not isinstance(value, datetime):
        raise InvalidInput("A scheduled item needs a publish time.", {"publish_at": "required"})
    if value.tzinfo is None:
        raise InvalidInput("Give the publish time with its offset.", {"publish_at": "needs a UTC offset, like +01:00"})
    if value <= utcnow():
        raise InvalidInput("The publish time has passed; publish now instead.", {"publish_at": "in the past"})
    return value.astimezone(timezone.utc)


def _check_publishable(item: Item) -> None:
    """What a public item cannot lack (an imported item may, until an editor completes it)."""
    source = item.source or {}
    if item.kind == "event" and not source.get("start"):
        raise InvalidInput("An event needs its start before it is published.", {"start": "required"})
    if item.kind == "funding" and not (source.get("closes_on") or source.get("rolling")):
        raise InvalidInput("A call needs a closing date, or to be marked rolling.", {"closes_on": "required"})


def _go_public(session: Session, outbox, item: Item) -> None:
    published_on = (item.source or {}).get("published_on")
    if published_on:  # the date a story shows (an imported story keeps its original one)
        item.published_at = datetime.fromisoformat(published_on).replace(tzinfo=timezone.utc)
    else:
        item.published_at = item.published_at or utcnow()
    _announce(session, outbox, item, events.CONTENT_PUBLISHED)


def _announce(session: Session, outbox, item: Item, event_type: str) -> None:
    session.flush()
    item.version += 1
    outbox.add(session, event_type, {"item": event_item(item)})


def _announce_gone(session: Session, outbox, item: Item) -> None:
    item.version += 1
    outbox.add(session, events.CONTENT_UNPUBLISHED, {
        "id": item.id, "kind": item.kind, "slug": item.slug, "version": item.version, "reason": item.state})


def due(session: Session, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Scheduled items whose publish time has come, oldest first."""
    return list(session.scalars(
        select(Item.id).where(Item.state == SCHEDULED, Item.publish_at <= (now or utcnow()))
        .order_by(Item.publish_at, Item.id).limit(limit)))


def publish_scheduled(session: Session, outbox, item_id: int, now: datetime | None = None) -> bool:
    """Publish one due item if it is still scheduled. The timer runs on every replica: the conditional UPDATE
    lets exactly one of them win (on PostgreSQL a second one waits for the first's row lock, then matches
    nothing), so an item is published, and announced, once."""
    claimed = session.execute(
        sql_update(Item).where(Item.id == item_id, Item.state == SCHEDULED, Item.publish_at <= (now or utcnow()))
        .values(state=PUBLISHED, updated_by=SCHEDULER).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        return False
    item = session.get(Item, item_id)
    session.refresh(item)
    publish_at, item.publish_at = item.publish_at, None
    _go_public(session, outbox, item)
    _record(session, item, SCHEDULER, "published", [
        {"field": "state", "before": SCHEDULED, "after": PUBLISHED},
        {"field": "publish_at", "before": iso(publish_at), "after": None}])
    return True


# --- revisions ------------------------------------------------------------------------------------------------------

def _changes(before: dict, after: dict) -> list[dict]:
    return [{"field": name, "before": before.get(name), "after": after.get(name)}
            for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)]


def _record(session: Session, item: Item, actor: str, action: str, changes: list[dict]) -> None:
    session.flush()
    session.add(Revision(item_id=item.id, actor=actor, action=action, changes=changes, snapshot=dict(item.source),
                         state=item.state, at=utcnow()))


def history(session: Session, item_id: int) -> list[dict]:
    get(session, item_id)
    return [{"id": r.id, "actor": r.actor, "action": r.action, "at": iso(r.at), "state": r.state,
             "changed_fields": [change["field"] for change in r.changes], "changes": r.changes}
            for r in session.scalars(select(Revision).where(Revision.item_id == item_id).order_by(Revision.id))]


def restore(session: Session, outbox, item_id: int, revision_id: int, actor: str) -> Item:
    """Bring back the fields an item had at a revision, as a new revision (the history keeps everything)."""
    revision = session.get(Revision, revision_id)
    if revision is None or revision.item_id != item_id:
        raise NotFound(f"Item {item_id} has no revision {revision_id}.")
    return update(session, outbox, item_id, dict(revision.snapshot), actor, action=f"restored:{revision_id}")


# --- reading ---------------------------------------------------------------------------------------------------------

def get(session: Session, item_id) -> Item:
    try:
        item = session.get(Item, int(item_id))
    except (TypeError, ValueError):
        item = None
    if item is None:
        raise NotFound(f"No content item {item_id}.")
    return item


def preview_token(item: Item) -> str:
    return signing.sign(PREVIEW_TOKEN, item.id)


def preview_by_token(session: Session, token: str, lang: str | None = None) -> dict:
    """A draft as it will look, through the signed link an editor shares (valid for a week)."""
    item = get(session, signing.unsign(PREVIEW_TOKEN, token, max_age=7 * 24 * 3600))
    if item.state == ARCHIVED:
        raise Forbidden("This item is archived.")
    return {**public_item(item, lang), "state": item.state}


def editor_view(item: Item) -> dict:
    object_session(item).flush()  # every pending write counted in the edit_version the editor is given
    return {**editor_item(item), "preview_token": preview_token(item)}
