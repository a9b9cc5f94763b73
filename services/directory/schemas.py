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
    body = list_item(record, terms)
    body.update({"long_description": record.long_description})
    if record.kind == "organisation":
        body.update({"address": record.address, "projects": links})
    else:
        body.update({"social_impact": record.social_impact, "organisations": links})
    return body


def list_item(record, terms: dict[str, list[str]]) -> dict:
    """A record as a list shows it: everything public but the long texts and the links. `record` is a Record or a
    row with its columns; `terms` its term values by facet, in order."""
    body = {
        "id": record.id,
        "kind": record.kind,
        "name": record.name,
        "website": record.website,
        "short_description": record.short_description,
        "country": record.country,
        "country_name": countries.name(record.country) if record.country else None,
        "city": record.city,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "start_date": record.start_date.isoformat() if record.start_date else None,
        "tags": terms.get("tags", []),
        "version": record.version,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "published_at": iso(record.published_at),
    }
    if record.kind == "organisation":
        body.update({
            "organisation_type": _term("organisation_type", record.organisation_type),
            "organisation_size": _term("organisation_size", record.organisation_size),
            "network_tags": terms.get("network_tags", []),
            "logo_url": record.logo_url,
        })
    else:
        body.update({
            "status": _term("status", record.project_status),
            "end_date": record.end_date.isoformat() if record.end_date else None,
        })
        for facet, vocabulary in _TERM_VOCABULARIES.items():
            body[facet] = [_term(vocabulary, slug) for slug in terms.get(facet, [])]
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
