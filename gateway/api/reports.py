"""JSON API of reports: the public reports a published record to the moderators."""

from dsi import kinds, vocab

from ..common.dependencies import RATE_LIMITS
from ..common.http import RpcProxy, json_body, json_response, json_route
from ..common.spooling import SPOOL
from ..common.openapi import closed, error, operation
from ..site.pages import report_record

REPORT_RESPONSE = {"type": "object", "additionalProperties": False, "required": ["kind", "record_id", "received"],
                   "properties": {"kind": {"type": "string", "enum": list(kinds.names("directory"))},
                                  "record_id": {"type": "integer"}, "received": {"const": True},
                                  "queued": {"type": "boolean"}}}


def _error(description: str) -> dict:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


REPORT_DOC = operation(
    "post", "report_record", "Report a published record to the moderators", "submissions", {
        "202": {"description": "Received", "content": {"application/json": {"schema": REPORT_RESPONSE}}},
        "400": error("The body is not JSON."), "404": error("No published record with this id."),
        "409": error("This client already reported the record, or it is already hidden."),
        "422": error("Invalid fields: `details` names each."),
        "429": error("Too many reports from this client; see Retry-After."),
    },
    description="One report per client and record. When enough people report a record it is hidden until a "
                "moderator looks at it.",
    parameters=[
        {"name": "kind", "in": "path", "required": True,
         "schema": {"type": "string", "enum": list(kinds.names("directory"))}},
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
    ],
    requestBody={"required": True, "content": {"application/json": {"schema": closed(
        {"reason_code": {"type": "string", "enum": list(vocab.REPORT_REASONS)},
         "text": {"type": "string", "maxLength": 2000}}, required=["reason_code"])}}},
)


class ReportsApi:
    directory = RpcProxy("directory")
    moderation = RpcProxy("moderation")
    limits = RATE_LIMITS
    spool = SPOOL

    @json_route("POST", "/api/records/" + kinds.name_rule("kind", owner="directory") + "/<int:record_id>/reports",
                openapi={"/api/records/{kind}/{id}/reports": REPORT_DOC})
    def api_report(self, request, kind, record_id):
        return json_response(report_record(self, request, kind, record_id, json_body(request)), 202)
