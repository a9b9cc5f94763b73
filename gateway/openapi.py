"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json.

Request bodies come from the submission contracts themselves (dsi.schemas, through pydantic's JSON Schema);
responses are written here and checked against live answers by tests/web/test_openapi.py, so the document
cannot drift from what the API really sends.
"""
import functools

from pydantic import TypeAdapter

from dsi.schemas import OrganisationFields, ProjectFields, Submission

from .http import MAX_PER_PAGE

REF = "#/components/schemas/{model}"


def ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def nullable(schema_type: str, **extra) -> dict:
    return {"type": [schema_type, "null"], **extra}


def closed(properties: dict, required: list | None = None) -> dict:
    """An object with exactly these properties (all present unless `required` says otherwise)."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required, "additionalProperties": False}


TERM = closed({"value": {"type": "string"}, "label": {"type": "string"}})
LINK = closed({"id": {"type": "integer"}, "kind": {"type": "string", "enum": ["organisation", "project"]},
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
PAGING = {"total": {"type": "integer", "minimum": 0}, "page": {"type": "integer", "minimum": 1},
          "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}}
FACETS = ("kind", "country", "social_areas", "technologies", "dsi_focus", "organisation_type", "organisation_size")
SEARCH_HIT = closed({
    "id": {"type": "integer"},
    "kind": {"type": "string", "enum": ["organisation", "project"]},
    "name": {"type": "string"},
    "snippet": {"type": "string", "description": "Escaped text with the matched words in <mark>."},
    "short_description": nullable("string"),
    "country": nullable("string"),
    "country_name": nullable("string"),
    "city": nullable("string"),
    "latitude": nullable("number"),
    "longitude": nullable("number"),
})
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
    "kind": {"type": "string", "enum": ["organisation", "project"]},
    "action": {"type": "string", "enum": ["create", "update"]},
    "state": {"type": "string", "enum": ["pending", "approved", "rejected", "changes_requested", "withdrawn"]},
    "reason_code": nullable("string"),
    "reason": nullable("string"),
    "email_confirmed": {"type": "boolean"},
    "submitted_at": nullable("string", format="date-time"),
    "decided_at": nullable("string", format="date-time"),
})
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
                                             "INTERNAL"]},
        "message": {"type": "string"},
        "details": {"type": "object", "description": "For VALIDATION_ERROR: a message per field path."},
    },
    "required": ["error", "message"],
    "additionalProperties": False,
}


def _list_of(item: str) -> dict:
    return closed({"items": {"type": "array", "items": ref(item)}, **PAGING})


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _list_param(name: str, description: str) -> dict:
    return _query(name, description + " Repeat the parameter or separate values with commas; values of one "
                  "parameter are alternatives (OR), parameters combine (AND).",
                  {"type": "array", "items": {"type": "string"}})


PAGE_PARAMS = [
    _query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1}),
    _query("per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20}),
]
TOKEN = {"name": "token", "in": "query", "required": True, "schema": {"type": "string"},
         "description": "The signed token of the link the platform emailed (or returned on submission)."}
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
SUBMISSION_ID = {"name": "submission_id", "in": "path", "required": True, "schema": {"type": "string"}}
BAD_INPUT = _error("Invalid parameters or body: `details` names each field.")
UNAVAILABLE = _error("A service did not answer in time; try again shortly.")


def _collection(kind: str, schema: str) -> dict:
    filters = [
        _list_param("country", "ISO country codes."),
        _list_param("tag", "Free tags."),
    ]
    if kind == "organisation":
        filters.append(_list_param("type", "Organisation types (slugs, see /api/vocabularies)."))
    else:
        filters += [_list_param("area", "Social areas (slugs)."), _list_param("technology", "Technologies (slugs)."),
                    _list_param("focus", "DSI focus (slugs).")]
    return {"get": {
        "summary": f"Published {kind}s, by name",
        "operationId": f"list_{kind}s",
        "tags": ["directory"],
        "parameters": filters + PAGE_PARAMS,
        "responses": {"200": _ok(_list_of(schema)), "422": BAD_INPUT, "503": UNAVAILABLE},
    }}


def _one(kind: str, schema: str) -> dict:
    return {"get": {
        "summary": f"One published {kind}",
        "operationId": f"get_{kind}",
        "tags": ["directory"],
        "parameters": [ID_PARAM],
        "responses": {"200": _ok(ref(schema)), "404": _error(f"No published {kind} with this id.")},
    }}


def _contracts() -> dict:
    """JSON Schemas of the submission and edit bodies, straight from dsi.schemas."""
    schemas = {}
    for name, adapter in (("Submission", TypeAdapter(Submission)),
                          ("OrganisationEdit", TypeAdapter(OrganisationFields)),
                          ("ProjectEdit", TypeAdapter(ProjectFields))):
        schema = adapter.json_schema(ref_template=REF, mode="validation")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return schemas


def contributions(service_cls) -> tuple[dict, dict]:
    """Paths and schemas that route mixins of the gateway describe themselves, as class attributes
    `openapi_paths = {"/api/...": {...}}` and `openapi_schemas = {"Name": {...}}` (OpenAPI 3.1 objects)."""
    paths, schemas = {}, {}
    for klass in reversed(service_cls.__mro__):
        paths.update(klass.__dict__.get("openapi_paths") or {})
        schemas.update(klass.__dict__.get("openapi_schemas") or {})
    return paths, schemas


@functools.lru_cache(maxsize=4)
def document(server: str, service_cls=None) -> dict:
    """The document for the site at `server`, with what `service_cls`'s mixins add (built once; do not change it)."""
    paths, schemas = contributions(service_cls) if service_cls else ({}, {})
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
            "/api/organisations": _collection("organisation", "Organisation"),
            "/api/organisations/{id}": _one("organisation", "Organisation"),
            "/api/projects": _collection("project", "Project"),
            "/api/projects/{id}": _one("project", "Project"),
            "/api/search": {"get": {
                "summary": "Full-text, faceted search over published records",
                "operationId": "search",
                "tags": ["search"],
                "parameters": [
                    _query("q", "Words to find; typos are tolerated and the last word matches as a prefix."),
                    _list_param("kind", "organisation or project."),
                    _list_param("country", "ISO country codes."),
                    _list_param("social_areas", "Social area slugs."),
                    _list_param("technologies", "Technology slugs."),
                    _list_param("dsi_focus", "DSI focus slugs."),
                    _list_param("organisation_type", "Organisation type slugs."),
                    _list_param("organisation_size", "Organisation size slugs."),
                    _query("sort", "Order of the items.", {"type": "string", "enum": ["relevance", "name", "newest"],
                                                          "default": "relevance"}),
                    _query("bbox", "Only records inside minLon,minLat,maxLon,maxLat."),
                    *PAGE_PARAMS,
                ],
                "responses": {"200": _ok(ref("SearchResult")), "422": BAD_INPUT, "503": UNAVAILABLE},
            }},
            "/api/suggest": {"get": {
                "summary": "Names that match what is typed so far",
                "operationId": "suggest",
                "tags": ["search"],
                "parameters": [_query("q", "What was typed."),
                               _query("limit", "At most this many.", {"type": "integer", "minimum": 1,
                                                                      "maximum": 20, "default": 8})],
                "responses": {"200": _ok({"type": "array", "items": ref("Suggestion")}), "422": BAD_INPUT,
                              "503": UNAVAILABLE},
            }},
            "/api/submissions": {"post": {
                "summary": "Submit an organisation or project for moderation",
                "description": "Nothing is public until a moderator approves it. The answer's `status_token` "
                               "opens the submission's status; a confirmation link is emailed.",
                "operationId": "submit",
                "tags": ["submissions"],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("Submission")}}},
                "responses": {
                    "202": {**_ok(ref("SubmissionAccepted"), "Accepted for moderation"),
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    "400": _error("The body is not JSON."), "413": _error("The body is too large."),
                    "422": BAD_INPUT, "429": _error("Too many submissions from this client; see Retry-After."),
                },
            }},
            "/api/submissions/{submission_id}": {"get": {
                "summary": "The moderation status of a submission",
                "operationId": "submission_status",
                "tags": ["submissions"],
                "parameters": [SUBMISSION_ID, TOKEN],
                "responses": {"200": _ok(ref("SubmissionStatus")), "403": _error("The token is not valid."),
                              "404": _error("No such submission.")},
            }},
            "/api/submissions/{submission_id}/confirm": {"post": {
                "summary": "Confirm the submitter's email address",
                "operationId": "confirm_email",
                "tags": ["submissions"],
                "parameters": [SUBMISSION_ID, TOKEN],
                "responses": {"200": _ok(ref("SubmissionStatus")), "403": _error("The token is not valid.")},
            }},
            "/api/submissions/{submission_id}/withdraw": {"post": {
                "summary": "Withdraw a pending submission",
                "operationId": "withdraw",
                "tags": ["submissions"],
                "parameters": [SUBMISSION_ID, TOKEN],
                "responses": {"200": _ok(ref("SubmissionStatus")), "403": _error("The token is not valid."),
                              "409": _error("The submission was already decided.")},
            }},
            "/api/records/{id}": {"put": {
                "summary": "Propose an edit of a record through its emailed edit link",
                "description": "The published version stays public until a moderator approves the edit.",
                "operationId": "propose_edit",
                "tags": ["submissions"],
                "parameters": [ID_PARAM, TOKEN],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "oneOf": [ref("OrganisationEdit"), ref("ProjectEdit")]}}}},
                "responses": {"202": _ok(ref("SubmissionAccepted"), "Accepted for moderation"),
                              "403": _error("The token is not valid."), "422": BAD_INPUT,
                              "429": _error("Too many edits from this client.")},
            }},
            "/api/vocabularies": {"get": {
                "summary": "Every vocabulary (slug → English label), clusters and countries",
                "operationId": "vocabularies",
                "tags": ["directory"],
                "responses": {"200": _ok({"type": "object", "additionalProperties": {
                    "type": "object", "additionalProperties": {"type": "string"}}})},
            }},
            "/api/stats": {"get": {
                "summary": "Counts of published records",
                "operationId": "stats",
                "tags": ["directory"],
                "responses": {"200": _ok(ref("Stats")), "503": UNAVAILABLE},
            }},
            "/healthz": {"get": {
                "summary": "Whether the gateway and the directory answer",
                "operationId": "health",
                "tags": ["platform"],
                "responses": {"200": _ok(ref("Health")), "503": _ok(ref("Health"), "Degraded")},
            }},
            **extra_paths,
        },
        "components": {"schemas": {
            "Term": TERM,
            "LinkedRecord": LINK,
            "Organisation": ORGANISATION,
            "Project": PROJECT,
            "SearchHit": SEARCH_HIT,
            "FacetValue": FACET_VALUE,
            "SearchResult": SEARCH_RESULT,
            "Suggestion": closed({"id": {"type": "integer"},
                                  "kind": {"type": "string", "enum": ["organisation", "project"]},
                                  "name": {"type": "string"}}),
            "SubmissionStatus": SUBMISSION_STATUS,
            "SubmissionAccepted": SUBMISSION_ACCEPTED,
            "Stats": closed({"organisations": {"type": "integer"}, "projects": {"type": "integer"},
                             "countries": {"type": "integer"}}),
            "Health": closed({"status": {"type": "string", "enum": ["ok", "degraded"]},
                              "directory": {"type": "string", "enum": ["ok", "unavailable"]}}),
            "Error": ERROR,
            **_contracts(),
            **extra_schemas,
        }},
    }

