"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json: assembled here, in one place, from
the operations each JSON route declares beside itself (json_route's `openapi`) and the schemas of the classes
that hold them (`openapi_schemas`), with the components below.

Request bodies come from the submission contracts themselves (dsi.schemas, through pydantic's JSON Schema);
responses are checked against live answers by tests/web/test_openapi.py, so the document cannot drift from what
the API really sends.
"""
import functools

from nameko.web.handlers import http
from pydantic import TypeAdapter

from dsi import kinds, vocab
from dsi.countries import all_countries
from dsi.errors import REASONS
from dsi.schemas import Submission

from ..common.dependencies import SETTINGS
from ..common.http import json_response
from ..common.openapi import PAGING, REF, closed, nullable, ref

KIND_ENUM = {"type": "string", "enum": list(kinds.names("directory"))}

TERM = closed({"value": {"type": "string"}, "label": {"type": "string"}})
LINK = closed({"id": {"type": "integer"}, "kind": KIND_ENUM,
               "name": {"type": "string"}, "role": {"type": "string", "enum": ["lead", "partner"]}})
RECORD_FIELDS = {
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "website": {"type": "string"},
    "short_description": {"type": "string"},
    "long_description": {"type": "string", "description": "Sanitised HTML: safe to render as it is."},
    "country": nullable("string", description="ISO 3166-1 alpha-2 code"),
    "country_name": nullable("string"),
    "city": {"type": "string"},
    "latitude": nullable("number"),
    "longitude": nullable("number"),
    "start_date": nullable("string", format="date"),
    "tags": {"type": "array", "items": {"type": "string"}},
    "version": {"type": "integer", "description": "Grows with every change of the public version."},
    "created_at": nullable("string", format="date-time"),
    "updated_at": nullable("string", format="date-time"),
    "published_at": nullable("string", format="date-time"),
}
ORGANISATION = closed({
    **RECORD_FIELDS,
    "kind": {"const": "organisation"},
    "address": {"type": "string"},
    "organisation_type": {"oneOf": [ref("Term"), {"type": "null"}]},
    "organisation_size": {"oneOf": [ref("Term"), {"type": "null"}]},
    "network_tags": {"type": "array", "items": {"type": "string"}},
    "logo_url": {"type": "string"},
    "projects": {"type": "array", "items": ref("LinkedRecord")},
})
PROJECT = closed({
    **RECORD_FIELDS,
    "kind": {"const": "project"},
    "social_impact": {"type": "string", "description": "Sanitised HTML."},
    "status": {"oneOf": [ref("Term"), {"type": "null"}]},
    "end_date": nullable("string", format="date"),
    "social_areas": {"type": "array", "items": ref("Term")},
    "technologies": {"type": "array", "items": ref("Term")},
    "dsi_focus": {"type": "array", "items": ref("Term")},
    "organisations": {"type": "array", "items": ref("LinkedRecord")},
})
# A list item: the record without its long texts and linked records (those are at /{id}).
LIST_ONLY_LEAVES_OUT = ("long_description", "social_impact", "address", "projects", "organisations")


def _list_item(record: dict) -> dict:
    return closed({name: schema for name, schema in record["properties"].items() if name not in LIST_ONLY_LEAVES_OUT})


ORGANISATION_LIST_ITEM = _list_item(ORGANISATION)
PROJECT_LIST_ITEM = _list_item(PROJECT)
FACETS = ("kind", "country", "social_areas", "cluster", "technologies", "dsi_focus", "organisation_type",
          "organisation_size")
ANY_KIND = {"type": "string", "enum": list(kinds.names())}
# a search hit of content's kinds also carries these (an event its start, a call its closing date)
CONTENT_HIT = {"slug": {"type": "string"}, "lang": {"type": "string"}, "starts_at": {"type": "string"},
               "timezone": {"type": "string"}, "closes_on": {"type": "string"}, "rolling": {"type": "boolean"}}
SEARCH_HIT_FIELDS = {
    "id": {"type": "integer", "description": "The record's id, or the content item's (each owner numbers its own)."},
    "kind": ANY_KIND,
    "name": {"type": "string"},
    "url": {"type": "string", "description": "Its public page: /organisations/{id}, /stories/{slug}, …"},
    "snippet": {"type": "string", "description": "Escaped text with the matched words in <mark>."},
    "short_description": nullable("string"),
    "country": nullable("string"),
    "country_name": nullable("string"),
    "city": nullable("string"),
    "latitude": nullable("number"),
    "longitude": nullable("number"),
}
SEARCH_HIT = closed({**SEARCH_HIT_FIELDS, **CONTENT_HIT}, required=list(SEARCH_HIT_FIELDS))
FACET_VALUE = closed({"value": {"type": "string"}, "label": {"type": "string"},
                      "count": {"type": "integer", "minimum": 0}})
SEARCH_RESULT = closed({
    "items": {"type": "array", "items": ref("SearchHit")},
    **PAGING,
    "facets": closed({facet: {"type": "array", "items": ref("FacetValue")} for facet in FACETS}, required=[]),
    "did_you_mean": {**nullable("string"), "description": "A corrected query that finds something, on zero hits."},
})
SUBMISSION_STATUS = closed({
    "id": {"type": "string"},
    "submission_id": {"type": "string"},
    "record_id": nullable("integer"),
    "kind": ANY_KIND,
    "action": {"type": "string", "enum": ["create", "update"]},
    "state": {"type": "string", "enum": ["pending", "approved", "rejected", "changes_requested", "withdrawn"]},
    "reason_code": nullable("string"),
    "reason": nullable("string"),
    "email_confirmed": {"type": "boolean"},
    "submitted_at": nullable("string", format="date-time"),
    "decided_at": nullable("string", format="date-time"),
    "queued": {"type": "boolean", "description": "Kept by the gateway until the directory takes it."},
    "message": {"type": "string"},
    "name": {"type": "string", "description": "The name the submission proposes."},
    "proposed_organisations": {
        "type": "array", "description": "New organisations proposed with a project, each reviewed beside it.",
        "items": closed({"name": {"type": "string"}, "state": {"type": "string"}}, required=["name", "state"])},
}, required=["id", "submission_id", "state"])
# The answer to a new submission or an edit: its status, the token that opens it, and, when the directory was
# down, `queued` (it is stored as soon as the directory runs again).
SUBMISSION_ACCEPTED = {
    "type": "object",
    "properties": {**SUBMISSION_STATUS["properties"], "status_token": {"type": "string"}, "queued": {"type": "boolean"}},
    "required": ["id", "submission_id", "state", "status_token"],
    "additionalProperties": False,
}
ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "enum": ["BAD_REQUEST", "VALIDATION_ERROR", "NOT_FOUND", "FORBIDDEN", "CONFLICT",
                                             "RATE_LIMITED", "PAYLOAD_TOO_LARGE", "SERVICE_UNAVAILABLE",
                                             "METHOD_NOT_ALLOWED", "PRECONDITION_REQUIRED",
                                             "INTERNAL"]},
        "message": {"type": "string"},
        "reason": {"type": "string", "enum": sorted(REASONS),
                   "description": "What went wrong, as a stable code; `message` says it in English."},
        "details": {"type": "object", "description": "For VALIDATION_ERROR: a message per field path."},
    },
    "required": ["error", "message"],
    "additionalProperties": False,
}



def _contracts() -> dict:
    """JSON Schemas of the submission and edit bodies, straight from dsi.schemas."""
    schemas = {}
    adapters = [("Submission", TypeAdapter(Submission))]
    adapters += [(f"{kind.label_one}Edit", TypeAdapter(kind.fields_model())) for kind in kinds.owned_by("directory")]
    for name, adapter in adapters:
        schema = adapter.json_schema(ref_template=REF, mode="validation")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    for schema in schemas.values():  # the vocabularies a field takes, which pydantic checks in code
        for field_name, field_schema in schema.get("properties", {}).items():
            if field_name in VOCABULARY_FIELDS:
                _only(field_schema, sorted(VOCABULARY_FIELDS[field_name]))
    return schemas


# fields whose values are slugs of a vocabulary (labels are accepted too; the document names the slugs)
VOCABULARY_FIELDS = {"social_areas": vocab.SOCIAL_AREAS, "technologies": vocab.TECHNOLOGIES,
                     "dsi_focus": vocab.DSI_FOCUS, "organisation_type": vocab.ORGANISATION_TYPES,
                     "organisation_size": vocab.ORGANISATION_SIZES, "country": all_countries()}


def _only(field_schema: dict, values: list[str]) -> None:
    """Restrict a string, a list of strings or a nullable one of them to `values`."""
    for option in field_schema.get("anyOf", [field_schema]):
        if option.get("type") == "array":
            option["items"] = {"type": "string", "enum": values}
        elif option.get("type") == "string":
            option["enum"] = values


def contributions(service_cls) -> tuple[dict, dict]:
    """The operations every JSON route of `service_cls` declares, and the schemas its classes declare as
    `openapi_schemas = {"Name": {...}}`."""
    paths, schemas = {}, {}
    for klass in reversed(service_cls.__mro__):
        schemas.update(klass.__dict__.get("openapi_schemas") or {})
    for name in sorted(dir(service_cls)):
        for path, item in (getattr(getattr(service_cls, name), "openapi", None) or {}).items():
            paths.setdefault(path, {}).update(item)
    return paths, schemas


@functools.lru_cache(maxsize=4)
def document(server: str, service_cls) -> dict:
    """The document for the site at `server` (built once; do not change it)."""
    paths, schemas = contributions(service_cls)
    return _document(server, paths, schemas)


def _document(server: str, extra_paths: dict, extra_schemas: dict) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DSI network API",
            "version": "1.0.0",
            "description": (
                "The directory of Europe's digital social innovation network: published organisations and "
                "projects, search, and submissions. Reading needs no key and works across origins (CORS). "
                "Errors are `{\"error\": CODE, \"message\": …, \"details\": {…}}`; lists are "
                "`{\"items\", \"total\", \"page\", \"per_page\"}`. Records are published under CC BY-NC-SA 4.0, "
                "credit \"DSI4EU / digitalsocial.eu contributors\"."
            ),
            "license": {"name": "CC BY-NC-SA 4.0 (data)", "url": "https://creativecommons.org/licenses/by-nc-sa/4.0/"},
        },
        "servers": [{"url": server}],
        "tags": [{"name": "directory"}, {"name": "search"}, {"name": "submissions"}, {"name": "platform"}],
        "paths": {
            **extra_paths,
        },
        "components": {"schemas": {
            "Term": TERM,
            "LinkedRecord": LINK,
            "Organisation": ORGANISATION,
            "Project": PROJECT,
            "OrganisationListItem": ORGANISATION_LIST_ITEM,
            "ProjectListItem": PROJECT_LIST_ITEM,
            "SearchHit": SEARCH_HIT,
            "FacetValue": FACET_VALUE,
            "SearchResult": SEARCH_RESULT,
            "Suggestion": closed({"id": {"type": "integer"}, "kind": ANY_KIND, "name": {"type": "string"},
                                  "url": {"type": "string"}}),
            "SubmissionStatus": SUBMISSION_STATUS,
            "SubmissionAccepted": SUBMISSION_ACCEPTED,
            "Stats": closed({"organisations": {"type": "integer"}, "projects": {"type": "integer"},
                             "countries": {"type": "integer"}}),
            "Error": ERROR,
            **_contracts(),
            **extra_schemas,
        }},
    }



class ApiDocument:
    settings = SETTINGS

    @http("GET", "/api/openapi.json")
    def openapi_document(self, request):
        document_ = document(self.settings.public_url, type(self))
        return json_response(document_, headers={"Cache-Control": "public, max-age=3600"})
