"""What the directory sends out: the public view of a record and the status of a submission.

Inputs are validated by the shared contracts in dsi.schemas.
"""
from dsi import countries, vocab
from dsi.clock import iso

from .models import Record, Submission

_TERM_VOCABULARIES = {"social_areas": "social_areas", "technologies": "technologies", "dsi_focus": "dsi_focus"}


def _term(vocabulary: str, slug: str | None) -> dict | None:
    return {"value": slug, "label": vocab.label(vocabulary, slug)} if slug else None


def public_record(record: Record, links: list[dict]) -> dict:
    """A record as the public sees it: never its contact email or moderation details."""
    terms: dict[str, list[str]] = {}
    for term in record.terms:
        terms.setdefault(term.facet, []).append(term.value)
    return public_view(record, terms, links)


def public_view(record, terms: dict[str, list[str]], links: list[dict]) -> dict:
    """public_record of a Record or of a row with its columns; `terms` its term values by facet, in order."""
    body = list_item(record, terms)
    body.update({"long_description": record.long_description})
    if record.kind == "organisation":
        body.update({"address": record.address, "projects": links})
    else:
        body.update({"social_impact": record.social_impact, "organisations": links})
    return body


# What a list item is made of, in this order (records.LIST_COLUMNS selects them so).
LIST_FIELDS = (
    "id", "kind", "name", "website", "short_description", "country", "city", "latitude", "longitude", "start_date",
    "end_date", "organisation_type", "organisation_size", "project_status", "logo_url", "version", "created_at",
    "updated_at", "published_at",
)


def list_item(record, terms: dict[str, list[str]]) -> dict:
    """A record as a list shows it: everything public but the long texts and the links. `record` is a Record or a
    row with its columns; `terms` its term values by facet, in order."""
    return list_item_of([getattr(record, field) for field in LIST_FIELDS], terms)


def list_item_of(values, terms: dict[str, list[str]]) -> dict:
    """list_item of the LIST_FIELDS' values in their order, and maybe more after them: a list's row is unpacked as
    a tuple (a row's attribute, looked up by name, cost a third of a list item)."""
    (record_id, kind, name, website, short_description, country, city, latitude, longitude, start_date, end_date,
     organisation_type, organisation_size, project_status, logo_url, version, created_at, updated_at,
     published_at, *_) = values
    body = {
        "id": record_id,
        "kind": kind,
        "name": name,
        "website": website,
        "short_description": short_description,
        "country": country,
        "country_name": countries.name(country) if country else None,
        "city": city,
        "latitude": latitude,
        "longitude": longitude,
        "start_date": start_date.isoformat() if start_date else None,
        "tags": terms.get("tags", []),
        "version": version,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "published_at": iso(published_at),
    }
    if kind == "organisation":
        body.update({
            "organisation_type": _term("organisation_type", organisation_type),
            "organisation_size": _term("organisation_size", organisation_size),
            "network_tags": terms.get("network_tags", []),
            "logo_url": logo_url,
        })
    else:
        body.update({
            "status": _term("status", project_status),
            "end_date": end_date.isoformat() if end_date else None,
        })
        for facet, vocabulary in _TERM_VOCABULARIES.items():  # _term's work inline: a project has a dozen terms
            labels = vocab.VOCABULARIES[vocabulary]
            body[facet] = [{"value": slug, "label": labels.get(slug, slug)} if slug else None
                           for slug in terms.get(facet, ())]
    return body


def submission_status(submission: Submission) -> dict:
    """What the submitter and other services learn about a submission."""
    return {
        "id": submission.id,
        "submission_id": submission.id,
        "record_id": submission.record_id,
        "kind": submission.kind,
        "action": submission.action,
        "state": submission.state,
        "reason_code": submission.reason_code,
        "reason": submission.reason,
        "email_confirmed": submission.email_confirmed_at is not None,
        "submitted_at": iso(submission.created_at),
        "decided_at": iso(submission.decided_at),
    }
