"""Public reads: lists with each page's filters and order, an item by slug (or where its old slug moved to),
cluster pages with their sections, and the export for search rebuilds."""
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session, defer, lazyload

from dsi.clock import utcnow
from dsi.database import json_rows, known_total
from dsi.errors import InvalidInput, NotFound

from . import items as domain
from .kinds import KINDS, get as kind_of
from .models import Item, ItemTerm, Translation
from .schemas import FILTERS, parse
from .views import CLOSING_SOON_DAYS, event_item, public_row

PUBLISHED = domain.PUBLISHED
SECTION_SIZE = 5  # items in each section of a cluster page
HOME_SIZE = 3  # items in each section of the home page and of a record's page
# The public reads are Core statements of the columns a view shows, each row carrying its terms and translations
# as JSON arrays: one statement and no ORM objects (the ORM's item, its selectin-loaded translations and terms were
# three statements and most of a list's CPU), run on the session's connection (the ORM's execution path added a
# fifth to a list's CPU, for rows it maps to nothing). A list shows no body: the long columns stay in the database.
LISTED = (Item.id, Item.kind, Item.state, Item.slug, Item.lang, Item.title, Item.summary, Item.source, Item.cluster,
          Item.category, Item.country, Item.attendance, Item.starts_at, Item.ends_at, Item.closes_on, Item.rolling,
          Item.featured_position, Item.published_at, Item.updated_at, Item.version)
SHOWN = LISTED + (Item.body_html,)


def _terms_of(item_id):
    return (select(json_rows(ItemTerm.facet, ItemTerm.value, ItemTerm.position))
            .where(ItemTerm.item_id == item_id).scalar_subquery().label("terms"))


def _translations_of(item_id, *more_columns):
    return (select(json_rows(Translation.lang, Translation.title, Translation.summary, *more_columns))
            .where(Translation.item_id == item_id).scalar_subquery().label("translations"))


# Built once, as the lists' statements below: only their parameters change from call to call.
LISTED_ROWS = (*LISTED, _terms_of(Item.id), _translations_of(Item.id))
ITEM_BY_SLUG = (select(*SHOWN, _terms_of(Item.id), _translations_of(Item.id, Translation.body_html))
                .where(Item.kind == bindparam("kind"), Item.slug == bindparam("slug")))


def _with_term(facet: str, value: str):
    return Item.id.in_(select(ItemTerm.item_id).where(ItemTerm.facet == facet, ItemTerm.value == value))


def _scalar_filters(raw) -> dict:
    """Query parameters may come as lists (one value each here); empty values mean no filter."""
    clean = {}
    for name, value in (raw or {}).items():
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        if value not in (None, ""):
            clean[name] = value
    return clean


# A list's statement has one form per kind and set of filters (and the value of the few filters below, which change
# its form): each form is built once, with the filters' values as bound parameters, so a page costs its values only,
# not building the statement and its SQLAlchemy cache key again (most of what was left of a list's CPU). No data
# is kept: a form holds no value.
FORM_FILTERS = ("featured", "free", "when", "status")
NOT_FILTERS = ("page", "per_page", "lang")


def _form(filters) -> tuple:
    """The filters a statement depends on: those set, with the values of the form-changing ones."""
    return tuple((name, value if name in FORM_FILTERS else True) for name, value in filters
                 if name not in NOT_FILTERS and value not in (None, ""))


def _parameters(filters, now: datetime, today: date) -> dict:
    """The bound parameters of a list's statement, its paging included."""
    values = {name: value for name, value in filters
              if name not in NOT_FILTERS and name not in FORM_FILTERS and value not in (None, "")}
    for name in ("organisation", "project"):  # directory ids, which terms hold as text
        if name in values:
            values[name] = str(values[name])
    if "month" in values:
        year, month = map(int, values.pop("month").split("-"))
        values["month_first"], values["month_following"] = date(year, month, 1), date(year + month // 12,
                                                                                   month % 12 + 1, 1)
    return {**values, "now": now, "today": today, "limit": filters.per_page,
            "offset": (filters.page - 1) * filters.per_page}


def query_for(kind: str, filters, now: datetime, today: date):
    """The SELECT of published items of `kind` under `filters` (a validated FILTERS model), in the page's order,
    with the filters' values bound."""
    return _list_query(kind, _form(filters)).params(_parameters(filters, now, today))


@cache
def _list_query(kind: str, form: tuple):
    """The SELECT of a list's form (see _form), its values as parameters named after the filters."""
    set_ = dict(form)
    query = select(Item).where(Item.kind == kind, Item.state == PUBLISHED)
    if "cluster" in set_:
        query = query.where(Item.cluster == bindparam("cluster"))
    if "area" in set_:
        query = query.where(_with_term("social_areas", bindparam("area")))
    for name, facet in (("organisation", "organisations"), ("project", "projects")):  # for the record's page
        if name in set_:
            query = query.where(_with_term(facet, bindparam(name)))
    if kind == "story":
        if "category" in set_:
            query = query.where(Item.category == bindparam("category"))
        return query.order_by(Item.published_at.desc(), Item.id.desc())
    if kind == "case_study":
        if "featured" in set_:
            query = query.where(Item.featured_position.is_not(None) if set_["featured"]
                                else Item.featured_position.is_(None))
        return query.order_by(Item.featured_position.is_(None), Item.featured_position, Item.published_at.desc(),
                              Item.id.desc())
    if kind == "event":
        if "country" in set_:
            query = query.where(Item.country == bindparam("country"))
        if "attendance" in set_:
            query = query.where(Item.attendance == bindparam("attendance"))
        if "free" in set_:
            query = query.where(Item.is_free.is_(set_["free"]))
        if "month" in set_:
            query = query.where(Item.start_date >= bindparam("month_first"),
                                Item.start_date < bindparam("month_following"))
        if set_.get("when") == "upcoming":
            return query.where(Item.ends_at >= bindparam("now")).order_by(Item.starts_at, Item.id)
        return query.where(Item.ends_at < bindparam("now")).order_by(Item.starts_at.desc(), Item.id.desc())
    if kind == "funding":
        if "type" in set_:
            query = query.where(_with_term("funding_types", bindparam("type")))
        if "target" in set_:
            query = query.where(_with_term("targets", bindparam("target")))
        if "country" in set_:  # a Europe-wide call is open to every country
            query = query.where(or_(_with_term("countries", bindparam("country")), _with_term("scope", "europe")))
        if "closing_before" in set_:
            query = query.where(Item.rolling.is_(False), Item.closes_on <= bindparam("closing_before"))
        if set_.get("status") == "open":
            return query.where(or_(Item.rolling.is_(True), Item.closes_on >= bindparam("today"))).order_by(
                Item.rolling, Item.closes_on, Item.id)
        return query.where(Item.rolling.is_(False), Item.closes_on < bindparam("today")).order_by(
            Item.closes_on.desc(), Item.id.desc())
    if kind == "resource":
        if "type" in set_:
            query = query.where(Item.category == bindparam("type"))
        if "language" in set_:
            query = query.where(Item.lang == bindparam("language"))
        return query.order_by(Item.published_at.desc(), Item.id.desc())
    return query.order_by(Item.title, Item.id)


@cache
def _page_statement(kind: str, form: tuple):
    """A page of a list: its ids first (along the list's index), then those rows with their terms and
    translations, aggregated for the page's rows only, not for every row a sort or an offset passes over."""
    query = _list_query(kind, form)
    page_ids = query.with_only_columns(Item.id).limit(bindparam("limit")).offset(bindparam("offset"))
    in_list_order = query._order_by_clauses  # a Select's ORDER BY (SQLAlchemy 2.0 gives it no public name)
    return select(*LISTED_ROWS).where(Item.id.in_(page_ids)).order_by(*in_list_order)


@cache
def _count_statement(kind: str, form: tuple):
    return select(func.count()).select_from(
        _list_query(kind, form).order_by(None).with_only_columns(Item.id).subquery())


def _filters(kind: str, raw_filters):
    """The validated filters of a list."""
    kind_of(kind)
    return parse(FILTERS[kind], _scalar_filters(raw_filters), "Some filters are not valid.")


def _items(session: Session, kind: str, filters, now: datetime) -> tuple[list[dict], tuple, dict]:
    """A page of the list: its items, and its form and parameters."""
    form, parameters = _form(filters), _parameters(filters, now, now.date())
    rows = session.connection().execute(_page_statement(kind, form), parameters).all()
    return [public_row(row, filters.lang, full=False, today=now.date()) for row in rows], form, parameters


def list_published(session: Session, kind: str, raw_filters=None, now: datetime | None = None) -> dict:
    """A page of published items in the platform's list contract: items (each with id, kind, name, url),
    total, page, per_page."""
    now = now or utcnow()
    filters = _filters(kind, raw_filters)
    items, form, parameters = _items(session, kind, filters, now)
    total = known_total(items, filters.page, filters.per_page)
    if total is None:
        total = session.scalar(_count_statement(kind, form), parameters)
    return {"items": items, "total": total, "page": filters.page, "per_page": filters.per_page}


def section(session: Session, kind: str, raw_filters=None, now: datetime | None = None) -> list[dict]:
    """The first items of a list without its total (no count): a section of another page."""
    now = now or utcnow()
    return _items(session, kind, _filters(kind, raw_filters), now)[0]


def home_sections(session: Session, lang: str | None = None, now: datetime | None = None) -> dict:
    """The home page's latest stories, featured case studies, next events and funding closing soon, in one call."""
    now = now or utcnow()
    shown = {"lang": lang or "en", "per_page": HOME_SIZE}
    closing_by = (now.date() + timedelta(days=CLOSING_SOON_DAYS)).isoformat()
    return {"stories": section(session, "story", shown, now),
            "case_studies": section(session, "case_study", {**shown, "featured": "true"}, now),
            "events": section(session, "event", {**shown, "when": "upcoming"}, now),
            "funding": section(session, "funding", {**shown, "status": "open", "closing_before": closing_by}, now)}


def about_record(session: Session, kind: str, record_id: int, lang: str | None = None,
                 now: datetime | None = None) -> list[dict]:
    """Case studies, then stories, about a directory record (`kind` organisation or project), for its page."""
    if kind not in ("organisation", "project"):
        raise InvalidInput("Expected a directory kind.", {"kind": "organisation or project"})
    shown = {kind: record_id, "lang": lang or "en", "per_page": HOME_SIZE}
    return [item for about in ABOUT_RECORDS for item in section(session, about, shown, now)]


ABOUT_RECORDS = ("case_study", "story")  # the kinds a directory record's page lists
RECORD_FACETS = {"organisations": "organisation", "projects": "project"}


def records_written_about(session: Session) -> dict[str, list[int]]:
    """The directory records some published case study or story is about, by kind: a record's page asks for
    what is written about it only when there is something."""
    rows = session.execute(
        select(ItemTerm.facet, ItemTerm.value).distinct().join(Item, Item.id == ItemTerm.item_id)
        .where(Item.kind.in_(ABOUT_RECORDS), Item.state == PUBLISHED, ItemTerm.facet.in_(RECORD_FACETS)))
    found: dict[str, set[int]] = {kind: set() for kind in RECORD_FACETS.values()}
    for facet, value in rows:
        if value.isdigit():
            found[RECORD_FACETS[facet]].add(int(value))
    return {kind: sorted(ids) for kind, ids in found.items()}


def get_published(session: Session, kind: str, slug: str, lang: str | None = None) -> dict:
    """A published item by slug; for a slug it had before, {"redirect": {"slug", "url"}} so that the gateway
    answers 301."""
    kind_of(kind)
    row = session.connection().execute(ITEM_BY_SLUG, {"kind": kind, "slug": str(slug)}).first()
    if row is None:
        moved = domain.redirect_for(session, kind, str(slug))
        if moved is not None and moved.state == PUBLISHED:
            return {"redirect": {"slug": moved.slug, "url": KINDS[kind].path(moved.slug)}}
    if row is None or row.state != PUBLISHED:
        raise NotFound(f"No published {KINDS[kind].label_one.lower()} {str(slug)[:120]!r}.")
    return public_row(row, lang)


def get_cluster(session: Session, slug: str, lang: str | None = None, now: datetime | None = None) -> dict:
    """A cluster page with its latest stories, upcoming events, open funding, case studies and resources."""
    page = get_published(session, "cluster", slug, lang)
    if "redirect" in page:
        return page
    sections = {"stories": "story", "events": "event", "funding": "funding", "case_studies": "case_study",
                "resources": "resource"}
    for name, kind in sections.items():
        page[name] = section(session, kind, {"cluster": slug, "lang": lang or "en", "per_page": SECTION_SIZE}, now)
    return page


def export_published(session: Session, after_id: int = 0, limit: int = 500) -> dict:
    """Published items of every kind in id order, a page at a time, for rebuilding read models (search)."""
    limit = max(1, min(int(limit), 1000))
    rows = session.scalars(select(Item).where(Item.state == PUBLISHED, Item.id > int(after_id))
                           .order_by(Item.id).limit(limit)).all()
    return {"items": [event_item(item) for item in rows], "next_after": rows[-1].id if len(rows) == limit else None}


def list_for_editors(session: Session, kind: str | None = None, state: str | None = None, q: str | None = None,
                     page: int = 1, per_page: int = 25) -> dict:
    """Every item of any state, newest change first, for the console."""
    page, per_page = max(1, int(page)), max(1, min(int(per_page), 100))
    query = select(Item)
    if kind:
        kind_of(kind)
        query = query.where(Item.kind == kind)
    if state:
        query = query.where(Item.state == state)
    if q:
        query = query.where(func.lower(Item.title).contains(str(q).lower()[:200]))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Item.updated_at.desc(), Item.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [{"id": item.id, "kind": item.kind, "name": item.title, "url": KINDS[item.kind].path(item.slug),
                       "state": item.state, "lang": item.lang, "updated_by": item.updated_by} for item in rows],
            "total": total, "page": page, "per_page": per_page}


def upcoming_events(session: Session, raw_filters=None, limit: int = 1000, now: datetime | None = None) -> list[Item]:
    """Upcoming events under the page's filters, as rows, for the calendar feed."""
    now = now or utcnow()
    filters = parse(FILTERS["event"], {**_scalar_filters(raw_filters), "when": "upcoming"},
                    "Some filters are not valid.")
    # the calendar reads neither translations nor terms nor the Markdown: a thousand rows load without them
    return list(session.scalars(query_for("event", filters, now, now.date()).limit(limit).options(
        lazyload(Item.translations), lazyload(Item.terms), defer(Item.body))))


def published_event(session: Session, slug: str) -> Item:
    item = session.scalar(select(Item).where(Item.kind == "event", Item.slug == str(slug),
                                             Item.state == PUBLISHED))
    if item is None:
        raise NotFound(f"No published event {str(slug)[:120]!r}.")
    return item
