"""Building blocks of the OpenAPI 3.1 document: each JSON route declares its operations beside itself
(`json_route(..., openapi={path: {method: operation}})`) with these helpers; gateway/api/document.py gathers
them into /api/openapi.json."""
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


def ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error(description: str) -> dict:
    return ok(ref("Error"), description)


def query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def list_param(name: str, description: str) -> dict:
    return query(name, description + " Repeat the parameter or separate values with commas; values of one "
                 "parameter are alternatives (OR), parameters combine (AND).",
                 {"type": "array", "items": {"type": "string"}})


def operation(method: str, operation_id: str, summary: str, tag: str, responses: dict, **more) -> dict:
    return {method: {"summary": summary, "operationId": operation_id, "tags": [tag], **more,
                     "responses": responses}}


PAGING = {"total": {"type": "integer", "minimum": 0}, "page": {"type": "integer", "minimum": 1},
          "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}}
PAGE_PARAMS = [
    query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1}),
    query("per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20}),
]
TOKEN = {"name": "token", "in": "query", "required": True, "schema": {"type": "string"},
         "description": "The signed token of the link the platform emailed (or returned on submission)."}
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
BAD_INPUT = error("Invalid parameters or body: `details` names each field.")
UNAVAILABLE = error("A service did not answer in time; try again shortly.")
STAMP = nullable("string", format="date-time")
