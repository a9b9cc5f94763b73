"""The directory's domain: submissions, their moderation outcome, and the published view of records.

Plain functions over a SQLAlchemy session and an outbox (anything with `add(session, type, payload)`);
nothing here knows nameko. Callers commit.
"""
import functools
import operator
import uuid
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, or_, select
from sqlalchemy.orm import Session

from dsi import countries, events, i18n, kinds, signing, vocab
from dsi.errors import Conflict, Forbidden, InvalidInput, NotFound
from dsi.clock import iso, utcnow
from dsi.database import ListTotals, json_rows, known_total
from dsi.sanitise import clean_html
from dsi.schemas import country_code, parse_fields, parse_submission, vocabulary_slug

from .models import Record, RecordLink, RecordTerm, Submission
from .schemas import LIST_FIELDS, list_item_of, public_record, public_view, submission_status

# Record statuses: only `published` records are public.
PENDING, PUBLISHED, REJECTED, CHANGES_REQUESTED = "pending", "published", "rejected", "changes_requested"
HIDDEN, WITHDRAWN = "hidden", "withdrawn"
STATUSES = (PENDING, PUBLISHED, REJECTED, CHANGES_REQUESTED, HIDDEN, WITHDRAWN)
APPROVED = "approved"

TERM_FACETS = ("social_areas", "technologies", "dsi_focus", "tags", "network_tags")
LIST_FILTERS = {  # query parameter → facet of record_terms, or a column of records
    "area": "social_areas",
    "technology": "technologies",
    "focus": "dsi_focus",
    "tag": "tags",
    "country": Record.__table__.c.country,
    "type": Record.__table__.c.organisation_type,
}
STATUS_TOKEN, EDIT_TOKEN, CONFIRM_TOKEN = signing.SUBMISSION_STATUS, signing.RECORD_EDIT, signing.SUBMISSION_CONFIRM


# --- writing ---------------------------------------------------------------------------------------------------

def apply_fields(session: Session, record: Record, fields: dict) -> None:
    """Copy validated fields onto a record: columns, terms and links."""
    for name in _TEXT_COLUMNS:
        setattr(record, name, fields.get(name) or "")
    for name in _NULLABLE_COLUMNS:
        setattr(record, name, fields.get(name))
    record.long_description = clean_html(fields.get("long_description"))
    record.social_impact = clean_html(fields.get("social_impact"))
    record.project_status = fields.get("status") if record.kind == "project" else None
    record.start_date = _date(fields.get("start_date"))
    record.end_date = _date(fields.get("end_date"))
    record.terms = [
        RecordTerm(facet=facet, value=value, position=position)
        for facet in TERM_FACETS
        for position, value in enumerate(dict.fromkeys(fields.get(facet) or []))
    ]
    links = fields.get(kinds.get(record.kind).links)
    if links is not None:
        _replace_links(session, record, links)


_TEXT_COLUMNS = ("name", "website", "short_description", "city", "address", "logo_url")
_NULLABLE_COLUMNS = ("country", "latitude", "longitude", "organisation_type", "organisation_size")


def _date(value):
    if isinstance(value, str):
        return datetime.fromisoformat(value).date()
    return value


def _linked_kind(kind: str) -> str:
    """The kind of the records a record of `kind` links to (organisations ↔ projects)."""
    return kinds.by_segment(kinds.get(kind).links).name


def _replace_links(session: Session, record: Record, links: list[dict]) -> None:
    other_kind = _linked_kind(record.kind)
    wanted = {link["id"]: link["role"] for link in links}
    known = set(session.scalars(select(Record.id).where(Record.id.in_(wanted), Record.kind == other_kind)))
    missing = sorted(set(wanted) - known)
    if missing:
        raise InvalidInput("Linked records do not exist.",
                           {kinds.get(record.kind).links: f"no {other_kind} with id {missing}"})
    own, other = ("organisation_id", "project_id") if record.kind == "organisation" else ("project_id", "organisation_id")
    session.flush()  # a new record needs its id
    for link in session.scalars(select(RecordLink).where(getattr(RecordLink, own) == record.id)):
        session.delete(link)
    session.flush()
    for other_id, role in wanted.items():
        session.add(RecordLink(**{own: record.id, other: other_id, "role": role}))


def submit(session: Session, outbox, body: dict, public_url: str, submission_id: str | None = None) -> dict:
    """Store a new organisation or project as pending, with its submission; nothing becomes public here.

    `submission_id`, chosen by the caller, makes a retried request harmless: the first one wins."""
    if submission_id and (earlier := session.get(Submission, submission_id)) is not None:
        return submission_status(earlier)
    submission = parse_submission(body)
    fields = submission.model_dump(mode="json", exclude={"kind", "email", "language", "new_organisations"})
    proposed = [_propose_organisation(session, outbox, name, submission, public_url)
                for name in getattr(submission, "new_organisations", [])]
    if proposed:
        fields["organisations"] = fields["organisations"] + [{"id": org.id, "role": "partner"} for org in proposed]
    record = Record(kind=submission.kind, status=PENDING, name=submission.name, contact_email=submission.email)
    session.add(record)
    apply_fields(session, record, fields)
    session.flush()
    return _open_submission(session, outbox, record, "create", fields, submission.email, public_url,
                            submission.language, submission_id)


def _propose_organisation(session: Session, outbox, name: str, submission, public_url: str) -> Record:
    """A pending organisation named in a project's submission: a submission of its own (moderators decide on it
    beside the project, see proposed_with), without a mail of its own (the project's tells of it)."""
    record = Record(kind="organisation", status=PENDING, name=name, contact_email=submission.email,
                    country=submission.country, city=submission.city)
    session.add(record)
    session.flush()
    fields = {"name": name, "country": submission.country, "city": submission.city}
    _open_submission(session, outbox, record, "create", fields, submission.email, public_url, submission.language,
                     mail=False)
    return record


def proposed_with(session: Session, submission: Submission, pending_only: bool = True) -> list[Submission]:
    """The new organisations a project's submission proposed: the create submissions, from the same address, of
    the organisations it links to."""
    if submission.kind != "project" or submission.action != "create":
        return []
    linked = select(RecordLink.organisation_id).where(RecordLink.project_id == submission.record_id)
    query = select(Submission).where(Submission.record_id.in_(linked), Submission.action == "create",
                                     Submission.email == submission.email)
    if pending_only:
        query = query.where(Submission.state == PENDING)
    return list(session.scalars(query.order_by(Submission.created_at)))


def propose_edit(session: Session, outbox, record_id: int, body: dict, token: str, public_url: str,
                 language: str = i18n.DEFAULT) -> dict:
    """An edit through a signed link: of a published record it waits as a pending revision while the published
    version stays public; of a submission sent back for changes it replaces the proposal and re-enters the queue."""
    record = _editable(session, record_id, token)
    fields = parse_fields(record.kind, body).model_dump(mode="json")
    pending = session.scalars(
        select(Submission).where(Submission.record_id == record_id, Submission.state == PENDING)
    ).all()
    for earlier in pending:  # the newest proposal replaces any still waiting
        earlier.state = WITHDRAWN
        earlier.decided_at = utcnow()
        _decided(session, outbox, earlier)
    if record.status == PUBLISHED:
        return _open_submission(session, outbox, record, "update", fields, record.contact_email, public_url,
                                i18n.language(language))
    if record.status in (PENDING, CHANGES_REQUESTED):
        record.status = PENDING
        apply_fields(session, record, fields)
        return _open_submission(session, outbox, record, "create", fields, record.contact_email, public_url,
                                i18n.language(language))
    raise Conflict.because("record_not_editable", {"status": record.status})


def _open_submission(session, outbox, record, action, fields, email, public_url, language,
                     submission_id=None, mail=True) -> dict:
    submission = Submission(
        id=submission_id or str(uuid.uuid4()), record_id=record.id, kind=record.kind, action=action, data=fields,
        email=email, language=language,
    )
    session.add(submission)
    session.flush()
    published = public_record(record, links_of(session, record)) if action == "update" else None
    linked = [link["id"] for link in fields.get(kinds.get(record.kind).links) or []]
    outbox.add(session, events.SUBMISSION_RECEIVED, {
        "submission_id": submission.id,
        "record_id": record.id,
        "kind": record.kind,
        "action": action,
        "name": fields["name"],
        "country": fields.get("country"),
        "email": email,
        "email_confirmed": submission.email_confirmed_at is not None,
        "proposed": fields,
        "published": published,
        "linked": [{"id": id, "name": name} for id, name in session.execute(  # moderators read links by name
            select(Record.id, Record.name).where(Record.id.in_(linked)))] if linked else [],
        "submitted_at": iso(submission.created_at),
    })
    links = status_links(submission, public_url)
    if mail:
        outbox.add(session, events.MAIL_REQUESTED, {
            "template": "submission_received",
            "to": email,
            "language": language,
            "context": {"name": fields["name"], "kind": record.kind, "action": action, **links},
        })
    return {**submission_status(submission), "status_token": links["status_token"]}


def status_links(submission: Submission, public_url: str) -> dict:
    return signing.submission_links(submission.id, public_url, submission.language)


def _edit_binding(record: Record) -> str:
    """What an edit link is bound to: once the record is published anew, goes back to moderation, or gets
    another contact, the link stops working (the next decision mails a new one)."""
    return f"{record.version}:{record.status}:{record.contact_email}"


def edit_token(record: Record) -> str:
    return signing.sign_ref(EDIT_TOKEN, record.id, _edit_binding(record))


def edit_url(record: Record, public_url: str, language: str = i18n.DEFAULT) -> str:
    return f"{public_url}{i18n.localised(language, f'/records/{record.id}/edit')}?token={edit_token(record)}"


def _editable(session: Session, record_id: int, token: str) -> Record:
    """The record an edit link opens; Forbidden for a link of another record, forged, expired or stale."""
    return signing.open_ref(EDIT_TOKEN, token, record_id, lambda ref: session.get(Record, ref), _edit_binding,
                            "record")


def confirm_email(session: Session, outbox, submission_id: str, token: str) -> dict:
    if signing.unsign(CONFIRM_TOKEN, token) != submission_id:
        raise Forbidden.because("link_other_submission")
    submission = _submission(session, submission_id)
    for confirmed in (submission, *proposed_with(session, submission)):
        if confirmed.email_confirmed_at is None:  # moderators see that the decision can be mailed
            confirmed.email_confirmed_at = utcnow()
            outbox.add(session, events.SUBMISSION_CONFIRMED, submission_status(confirmed))
    return submission_status(submission)


def withdraw(session: Session, outbox, submission_id: str, token: str) -> dict:
    if signing.unsign(STATUS_TOKEN, token) != submission_id:
        raise Forbidden.because("link_other_submission")
    submission = _submission(session, submission_id)
    if submission.state != PENDING:
        raise Conflict.because("submission_decided", {"state": submission.state})
    for withdrawn in (*proposed_with(session, submission), submission):
        withdrawn.state = WITHDRAWN
        withdrawn.decided_at = utcnow()
        if withdrawn.action == "create":
            withdrawn.record.status = WITHDRAWN
        _decided(session, outbox, withdrawn)
    return submission_status(submission)


def _submission(session: Session, submission_id: str) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound.because("no_submission")
    return submission


def get_status(session: Session, submission_id: str, token: str) -> dict:
    """A submission's state, with the new organisations proposed with it (their names and states)."""
    if signing.unsign(STATUS_TOKEN, token) != submission_id:
        raise Forbidden.because("link_other_submission")
    submission = _submission(session, submission_id)
    return {**submission_status(submission), "name": submission.data.get("name"),
            "proposed_organisations": [{"name": other.data.get("name"), "state": other.state}
                                       for other in proposed_with(session, submission, pending_only=False)]}


# --- moderation outcomes ---------------------------------------------------------------------------------------

DECISIONS = {
    events.SUBMISSION_APPROVED: APPROVED,
    events.SUBMISSION_REJECTED: REJECTED,
    events.CHANGES_REQUESTED: CHANGES_REQUESTED,
}


def apply_decision(session: Session, outbox, event: dict, public_url: str) -> None:
    """Apply a moderator's decision on a pending submission; a decision on anything else is ignored."""
    payload = event["payload"]
    submission = session.get(Submission, payload["submission_id"])
    if submission is None or submission.state != PENDING:
        return
    state = DECISIONS[event["type"]]
    submission.state = state
    submission.reason_code = payload.get("reason_code")
    submission.reason = payload.get("reason")
    submission.decided_at = utcnow()
    record = submission.record
    if state == APPROVED:
        if submission.action == "update":
            apply_fields(session, record, submission.data)
            record.contact_email = record.contact_email or submission.email
        record.status = PUBLISHED
        record.published_at = record.published_at or utcnow()
        publish(session, outbox, record)
        if submission.action == "create":  # the records it links to show the link from now on
            for link in links_of(session, record):
                publish(session, outbox, session.get(Record, link["id"]))
    elif submission.action == "create":  # a rejected edit leaves the published version as it is
        record.status = state
    page = f"{public_url}{i18n.localised(submission.language, kinds.record_path(record.kind, record.id))}"
    _decided(session, outbox, submission, edit_url(record, public_url, submission.language),
             page if state == APPROVED else None)


def _decided(session, outbox, submission: Submission, edit_link: str | None = None,
             record_url: str | None = None) -> None:
    outbox.add(session, events.SUBMISSION_DECIDED, submission_status(submission))
    if submission.state == WITHDRAWN or submission.email_confirmed_at is None:
        return  # a decision is mailed only to an address its owner confirmed
    outbox.add(session, events.MAIL_REQUESTED, {
        "template": f"submission_{submission.state}",
        "to": submission.email,
        "language": submission.language,
        "context": {**submission_status(submission), "name": submission.data.get("name"), "edit_url": edit_link,
                    "record_url": record_url, "reason_label": vocab.reason_label(submission.reason_code)},
    })


def publish(session: Session, outbox, record: Record) -> None:
    """Announce the record's public version (new or changed)."""
    session.flush()
    record.version += 1
    outbox.add(session, events.RECORD_PUBLISHED, {"record": public_record(record, links_of(session, record))})


def set_visibility(session: Session, outbox, event: dict) -> None:
    """Hide a published record after reports or by a moderator, or restore it."""
    record = session.get(Record, event["payload"]["record_id"])
    if record is None:
        return
    if event["type"] == events.RECORD_HIDDEN and record.status == PUBLISHED:
        record.status = HIDDEN
        record.version += 1
        outbox.add(session, events.RECORD_UNPUBLISHED, {
            "id": record.id, "kind": record.kind, "version": record.version,
            "reason": event["payload"].get("reason_code", "hidden"),
        })
    elif event["type"] == events.RECORD_RESTORED and record.status == HIDDEN:
        record.status = PUBLISHED
        publish(session, outbox, record)


# --- reading ---------------------------------------------------------------------------------------------------
# The public reads run Core statements over the tables, each built once for its shape with the values bound per
# call: no ORM objects loaded, no statement built and keyed anew for every call (together over a third of the
# CPU of a record's read). They take a Session or a bare Connection (the service's reads: no ORM session to make,
# commit and close for them).
RECORDS, TERMS, LINKS = Record.__table__, RecordTerm.__table__, RecordLink.__table__


def _links_statement(kind: str, published_only: bool, owner=None, linked=RECORDS):
    """The records (`linked`: the records table or an alias of it) linked to a record of `kind`, by name: the one
    of the bound `record_id`, or `owner`."""
    own, other = (
        (LINKS.c.organisation_id, LINKS.c.project_id)
        if kind == "organisation" else (LINKS.c.project_id, LINKS.c.organisation_id)
    )
    query = (
        select(linked.c.id, linked.c.kind, linked.c.name, LINKS.c.role)
        .join(LINKS, other == linked.c.id)
        .where(own == (bindparam("record_id") if owner is None else owner))
        .order_by(linked.c.name)
    )
    return query.where(linked.c.status == PUBLISHED) if published_only else query


_LINKS_OF = {(kind, published_only): _links_statement(kind, published_only)
             for kind in ("organisation", "project") for published_only in (True, False)}


def links_of(session: Session | Connection, record, published_only: bool = True) -> list[dict]:
    """The records linked to `record` (a Record or a row with its id and kind), with their role. A Core
    statement: it does not flush the session, so writers call it after their flush."""
    rows = session.execute(_LINKS_OF[record.kind, published_only], {"record_id": record.id})
    return [dict(row._mapping) for row in rows]


def _terms_of(record_id):
    return (select(json_rows(TERMS.c.facet, TERMS.c.value, TERMS.c.position))
            .where(TERMS.c.record_id == record_id).scalar_subquery().label("terms"))


# The columns a list item shows (schemas.list_item): the long texts stay at /{id}.
LIST_COLUMNS = tuple(RECORDS.c[field] for field in LIST_FIELDS)


def _published_links_of(kind: str):
    """The published records linked to the outer statement's record of `kind`, as json_rows of (id, kind, name,
    role) by name: both databases aggregate a sorted subquery's rows in its order (PostgreSQL's manual: it "will
    usually work"; tests/directory/test_records.py checks the order on both)."""
    rows = _links_statement(kind, True, owner=RECORDS.c.id, linked=RECORDS.alias("linked"))
    rows = rows.correlate(RECORDS).subquery()
    return select(json_rows(rows.c.id, rows.c.kind, rows.c.name, rows.c.role)).scalar_subquery().label("links")


# One record of a kind as the public sees it (schemas.public_view), its terms and published links with it: one
# statement, one round trip.
_ONE_RECORD = {kind: select(*LIST_COLUMNS, RECORDS.c.status, RECORDS.c.long_description, RECORDS.c.address,
                            RECORDS.c.social_impact, _terms_of(RECORDS.c.id), _published_links_of(kind))
               .where(RECORDS.c.id == bindparam("record_id")) for kind in ("organisation", "project")}


def get_published(session: Session | Connection, kind: str, record_id: int) -> dict:
    statement = _ONE_RECORD.get(kind)  # none for a kind of another service's
    record = session.execute(statement, {"record_id": record_id}).first() if statement is not None else None
    if record is None or record.kind != kind or record.status != PUBLISHED:
        raise NotFound(f"No published {kind} with id {record_id}.")
    links = [{"id": id_, "kind": kind_, "name": name, "role": role} for id_, kind_, name, role in record.links or ()]
    return public_view(record, _by_facet(record.terms), links)


def get_for_edit(session: Session, record_id: int, token: str) -> dict:
    """A record as its owner's signed edit link shows it, published or not, with all its links."""
    record = _editable(session, record_id, token)
    return {**public_record(record, links_of(session, record, published_only=False)), "record_status": record.status}


BY_NAME = (func.lower(RECORDS.c.name), RECORDS.c.id)  # the order of the listing indexes (models.py)


def list_published(session: Session | Connection, kind: str, filters: dict, page: int = 1,
                   per_page: int = 20, totals: ListTotals | None = None) -> dict:
    """A page of published records of `kind` by name, filtered; values of one filter are alternatives (OR).
    Items carry what a list shows (schemas.list_item); two queries whatever the page size, one on a last page or
    when `totals` knows the list's total."""
    values = _list_filter_values(kinds.get(kind, owner="directory"), filters)
    database = (session if isinstance(session, Connection) else session.get_bind()).dialect.name
    page_query, count_query = _list_statements(database, tuple(values))
    parameters = {"kind": kind, "limit": per_page, "offset": (page - 1) * per_page, **values}
    rows = session.execute(page_query, parameters).all()
    total = known_total(rows, page, per_page)
    if total is None:
        count = lambda: session.execute(count_query, parameters).scalar()  # noqa: E731
        key = (kind, *((name, *values[name]) for name in values))
        total = count() if totals is None else totals.total(key, count)
    return {
        "items": [list_item_of(row, _by_facet(row.terms)) for row in rows],
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def _list_filter_values(kind: kinds.Kind, filters: dict) -> dict[str, list[str]]:
    """The filters a list is asked for → their values, without empty ones, in LIST_FILTERS' order (a list's
    statements are built once per set of filters, not per order of them). A filter of another kind (organisations
    by social area) is refused as an unknown one is: an empty list would say that none matched, and finding that
    out cost PostgreSQL a join of the area's every term at 100,000 records."""
    found, own = {}, [name for name, _ in kind.api_filters]
    for name, values in filters.items():
        values = [value for value in values if value]
        if name not in own:
            problem = f"{kind.label} have no filter {name!r}." if name in LIST_FILTERS else f"Unknown filter {name!r}."
            raise InvalidInput(problem, {name: f"the filters of {kind.plural} are {', '.join(own)}"})
        if values:
            found[name] = _stored_values(name, values)
    return {name: found[name] for name in LIST_FILTERS if name in found}


# how each list filter's values are read as records hold them, by the submissions' own checks (a tag is any word)
_FILTER_VALUES = {"country": country_code, "area": functools.partial(vocabulary_slug, vocab.SOCIAL_AREAS),
                  "technology": functools.partial(vocabulary_slug, vocab.TECHNOLOGIES),
                  "focus": functools.partial(vocabulary_slug, vocab.DSI_FOCUS),
                  "type": functools.partial(vocabulary_slug, vocab.ORGANISATION_TYPES)}


def _stored_values(name: str, values: list[str]) -> list[str]:
    """A filter's values as records hold them: a country's code in capitals, a vocabulary's slug (of its label,
    slug or 2017 name). A value no record can hold is refused, as the search refuses it: "none matched" would
    hide the typo."""
    read = _FILTER_VALUES.get(name)
    if read is None:
        return values
    stored = []
    for value in values:
        try:
            stored.append(read(value))
        except ValueError as error:
            raise InvalidInput(f"Unknown {name} {value[:80]!r}.", {name: str(error)}) from None
    return stored


@functools.lru_cache(maxsize=None)  # at most 2 dialects × 64 sets of filters
def _list_statements(dialect: str, filtered: tuple[str, ...]):
    """A list's page and count statements for the filters named in `filtered`; their values, the kind, limit and
    offset are bound per call."""
    conditions = [RECORDS.c.kind == bindparam("kind"), RECORDS.c.status == PUBLISHED]
    for name in filtered:
        target, values = LIST_FILTERS[name], bindparam(name, expanding=True)
        if isinstance(target, str):
            terms = select(TERMS.c.record_id).where(TERMS.c.facet == target, TERMS.c.value.in_(values))
            conditions.append(RECORDS.c.id.in_(terms))
        else:
            conditions.append(target.in_(values))
    # The page in a listing index's order, with each row's terms as one JSON array of [facet, value, position] (no
    # query more, no Python row per term), aggregated for the page's rows only. SQLite reads a row's columns (and its
    # terms) only once past the offset. PostgreSQL would read them for every row the offset skips (a deep page at
    # 100,000 records: 100 → 380 ms for the terms; at 1,228 records 0.6–3.2 ms for the rows), so there the page's ids
    # are found first, in the listing index alone (it holds the name: models.py), then their rows by primary key.
    page = (select(RECORDS.c.id).where(*conditions).order_by(*BY_NAME)
            .limit(bindparam("limit")).offset(bindparam("offset")))
    if dialect == "sqlite":  # (the page as a subquery cost 0.5 ms of CPU more there)
        page_query = page.with_only_columns(*LIST_COLUMNS, _terms_of(RECORDS.c.id))
    else:
        ids = page.add_columns(BY_NAME[0].label("by_name")).subquery("page")
        page_query = (select(*LIST_COLUMNS, _terms_of(RECORDS.c.id)).join_from(ids, RECORDS, RECORDS.c.id == ids.c.id)
                      .order_by(ids.c.by_name, ids.c.id))
    return page_query, select(func.count()).select_from(RECORDS).where(*conditions)


_POSITION = operator.itemgetter(2)


def _by_facet(terms: list | None) -> dict[str, list[str]]:
    """[[facet, value, position], …] in any order (none: None on PostgreSQL) → facet → values in order."""
    found: dict[str, list[str]] = {}
    for facet, value, _ in sorted(terms or (), key=_POSITION):
        found.setdefault(facet, []).append(value)
    return found


def _links_for(session: Session, records: list[Record]) -> dict[int, list[dict]]:
    """Published links of many records: their links along the link table's indexes, then the linked records by id.
    (One join filtered on status let SQLite walk every published record for each page: 11 s a page of 500 at
    100,000 records, without statistics to tell it that status is not selective.)"""
    linked: dict[int, list[dict]] = {}
    for kind in {record.kind for record in records}:
        ids = [record.id for record in records if record.kind == kind]
        own, other = (
            (RecordLink.organisation_id, RecordLink.project_id)
            if kind == "organisation" else (RecordLink.project_id, RecordLink.organisation_id)
        )
        links_to: dict[int, list[tuple[int, str]]] = {}  # linked record → (owner, role)
        for owner, other_id, role in session.execute(select(own, other, RecordLink.role).where(own.in_(ids))):
            links_to.setdefault(other_id, []).append((owner, role))
        if not links_to:
            continue
        for row in session.execute(select(Record.id, Record.kind, Record.name, Record.status)
                                   .where(Record.id.in_(links_to)).order_by(Record.name)):
            if row.status != PUBLISHED:
                continue
            for owner, role in links_to[row.id]:
                linked.setdefault(owner, []).append({"id": row.id, "kind": row.kind, "name": row.name, "role": role})
    return linked


def export_published(session: Session, after_id: int = 0, limit: int = 500) -> dict:
    """Published records of every kind in id order, a page at a time, for rebuilding read models."""
    records = session.scalars(
        select(Record).where(Record.status == PUBLISHED, Record.id > after_id).order_by(Record.id).limit(limit)
    ).all()
    linked = _links_for(session, records)
    return {
        "items": [public_record(record, linked.get(record.id, [])) for record in records],
        "next_after": records[-1].id if len(records) == limit else None,
    }


def stats(session: Session) -> dict:
    counts = dict(session.execute(
        select(Record.kind, func.count()).where(Record.status == PUBLISHED).group_by(Record.kind)
    ).all())
    countries_count = session.scalar(
        select(func.count(func.distinct(Record.country))).where(Record.status == PUBLISHED)
    )
    return {**{kind.plural: counts.get(kind.name, 0) for kind in kinds.owned_by("directory")},
            "countries": countries_count}


def vocabularies() -> dict:
    """Every vocabulary as value → label, with countries, for forms and clients."""
    return {**vocab.VOCABULARIES, "clusters": vocab.CLUSTERS, "countries": countries.all_countries()}



def published_by_name(session: Session, kind: str, names: list[str]) -> dict[str, dict]:
    """Published records of `kind` whose name is one of `names` (without regard to case): typed name → {id, name}.
    Of two records of one name, the older."""
    kinds.get(kind, owner="directory")
    wanted = {name.strip().casefold(): name for name in names if name.strip()}
    found: dict[str, dict] = {}
    if not wanted:
        return found
    typed = [name.strip() for name in wanted.values()]  # as typed too: SQLite's lower() folds ASCII letters only
    rows = session.execute(select(Record.id, Record.name).where(
        Record.kind == kind, Record.status == PUBLISHED,
        or_(Record.name.in_(typed), func.lower(Record.name).in_([key.lower() for key in wanted])))
        .order_by(Record.id))
    for row in rows:
        typed = wanted.get(row.name.casefold())
        if typed is not None and typed not in found:
            found[typed] = {"id": row.id, "name": row.name}
    return found
