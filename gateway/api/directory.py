"""JSON API of the directory: published records of every kind it owns, submissions and their status."""
import uuid

from dsi import kinds, signing
from dsi.errors import NotFound
from dsi.schemas import parse_submission

from ..common.dependencies import RATE_LIMITS
from .content import SUGGESTIBLE, by_owner, send_suggestion
from ..common.http import (RPC_TIMEOUT, RpcProxy, ServiceUnavailable, call, json_body, json_response, json_route,
                           list_arg, paging, token_arg)
from ..common.caching import STALE_IF_ERROR
from ..common.spooling import SPOOL, SUBMISSION, forward, waiting_status
from ..common.openapi import (BAD_INPUT, ID_PARAM, PAGE_PARAMS, PAGING, TOKEN, UNAVAILABLE, closed, error,
                              list_param, ok, operation, ref)

SUBMISSION_ID = {"name": "submission_id", "in": "path", "required": True, "schema": {"type": "string"}}
RECORDS = kinds.owned_by("directory")
# Every directory kind's filters are passed on: one a kind has not (organisations by social area) is the
# directory's 422, not a list that silently ignores it
LIST_FILTERS = tuple(dict.fromkeys(name for kind in RECORDS for name, _ in kind.api_filters))


READ_BUDGET = 4  # seconds a read waits for the directory before the last good answer is served
SUBMIT_BUDGET = 4  # seconds the directory has to take a submission before it is kept in the gateway's spool


def send_submission(directory, spool, body: dict) -> dict:
    """Hand a validated submission to the directory (the JSON API and the web forms both do). When the broker
    or the directory cannot take it within the budget it is kept in the spool, on disk, and relayed later under
    the same id: the visitor is answered `queued`, never refused."""
    submission_id = str(uuid.uuid4())
    token = signing.sign(signing.SUBMISSION_STATUS, submission_id)
    result = forward(lambda: call(directory.submit, body, submission_id, timeout=SUBMIT_BUDGET),
                     spool, SUBMISSION, submission_id, token, body)
    if result is None:
        return {"id": submission_id, "submission_id": submission_id, "state": "pending", "queued": True,
                "status_token": token}
    return result


def submission_status(api, submission_id: str, token: str, timeout: float = RPC_TIMEOUT) -> dict:
    """A submission's status from its owner; while it waits in the gateway's spool, "received, waiting"."""
    try:
        return by_owner(api, "submission_status", submission_id, token, timeout)
    except (NotFound, ServiceUnavailable):
        waiting = waiting_status(api.spool, submission_id, token)
        if waiting is None:
            raise
        return waiting


def _list_doc(kind: kinds.Kind) -> dict:
    filters = [list_param(name, description) for name, description in kind.api_filters]
    schema = closed({"items": {"type": "array", "items": ref(f"{kind.label_one}ListItem")}, **PAGING})
    return operation("get", f"list_{kind.plural}",
                     f"Published {kind.plural}, by name (items without long texts and links: those are at /{{id}})",
                     "directory",
                     {"200": ok(schema), "422": BAD_INPUT, "503": UNAVAILABLE}, parameters=filters + PAGE_PARAMS)


def _one_doc(kind: kinds.Kind) -> dict:
    return operation("get", f"get_{kind.name}", f"One published {kind.name}", "directory",
                     {"200": ok(ref(kind.label_one)), "404": error(f"No published {kind.name} with this id.")},
                     parameters=[ID_PARAM])


def _submission_doc(operation_id: str, summary: str, responses: dict, method: str = "post") -> dict:
    return operation(method, operation_id, summary, "submissions", responses, parameters=[SUBMISSION_ID, TOKEN])


class DirectoryApi:
    directory = RpcProxy("directory")
    content = RpcProxy("content")  # suggestions of events and funding calls
    limits = RATE_LIMITS
    spool = SPOOL

    @json_route("GET", "/api/" + kinds.segment_rule("collection", owner="directory"),
                openapi={f"/api/{kind.segment}": _list_doc(kind) for kind in RECORDS})
    def list_records(self, request, collection):
        page, per_page = paging(request)
        filters = {name: list_arg(request, name) for name in LIST_FILTERS if request.args.get(name)}
        return json_response(call(self.directory.list_records, kinds.by_segment(collection).name, filters, page,
                                  per_page, timeout=READ_BUDGET))

    @json_route("GET", "/api/" + kinds.segment_rule("collection", owner="directory") + "/<int:record_id>",
                openapi={f"/api/{kind.segment}/{{id}}": _one_doc(kind) for kind in RECORDS})
    def get_record(self, request, collection, record_id):
        return json_response(call(self.directory.get_record, kinds.by_segment(collection).name, record_id,
                                  timeout=READ_BUDGET))

    @json_route("POST", "/api/submissions", openapi={"/api/submissions": operation(
        "post", "submit", "Submit an organisation or project, or suggest an event or a funding call, for moderation",
        "submissions",
        {"202": {**ok(ref("SubmissionAccepted"), "Accepted for moderation"),
                 "headers": {"Location": {"schema": {"type": "string"}}}},
         "400": error("The body is not JSON."), "413": error("The body is too large."),
         "422": BAD_INPUT, "429": error("Too many submissions from this client; see Retry-After.")},
        description="Nothing is public until a moderator approves it. The answer's `status_token` opens the "
                    "submission's status; a confirmation link is emailed.",
        requestBody={"required": True, "content": {"application/json": {"schema": {"oneOf": [
            ref("Submission"), ref("EventSuggestion"), ref("FundingSuggestion")]}}}})})
    def submit(self, request):
        body = json_body(request)
        if isinstance(body, dict) and body.get("kind") in SUGGESTIBLE:  # an event or funding call: content's
            result = send_suggestion(self.content, body)
            return json_response(result, 202, {"Location": f"/api/submissions/{result['id']}"})
        parse_submission(body)  # field errors at the edge; the directory checks again before it writes
        self.limits.hit("submit", request)  # only a valid submission counts against the client's limit
        result = send_submission(self.directory, self.spool, body)
        return json_response(result, 202, {"Location": f"/api/submissions/{result['id']}"})

    @json_route("GET", "/api/submissions/<submission_id>", openapi={"/api/submissions/{submission_id}": _submission_doc(
        "submission_status", "The moderation status of a submission",
        {"200": ok(ref("SubmissionStatus")), "403": error("The token is not valid."),
         "404": error("No such submission.")}, method="get")})
    def submission_status(self, request, submission_id):
        return json_response(submission_status(self, submission_id, token_arg(request)))

    @json_route("POST", "/api/submissions/<submission_id>/confirm", openapi={
        "/api/submissions/{submission_id}/confirm": _submission_doc(
            "confirm_email", "Confirm the submitter's email address",
            {"200": ok(ref("SubmissionStatus")), "403": error("The token is not valid.")})})
    def confirm_email(self, request, submission_id):
        return json_response(by_owner(self, "confirm_email", submission_id, token_arg(request)))

    @json_route("POST", "/api/submissions/<submission_id>/withdraw", openapi={
        "/api/submissions/{submission_id}/withdraw": _submission_doc(
            "withdraw", "Withdraw a pending submission",
            {"200": ok(ref("SubmissionStatus")), "403": error("The token is not valid."),
             "409": error("The submission was already decided.")})})
    def withdraw(self, request, submission_id):
        return json_response(by_owner(self, "withdraw", submission_id, token_arg(request)))

    @json_route("PUT", "/api/records/<int:record_id>", openapi={"/api/records/{id}": operation(
        "put", "propose_edit", "Propose an edit of a record through its emailed edit link", "submissions",
        {"202": ok(ref("SubmissionAccepted"), "Accepted for moderation"), "400": error("The body is not JSON."),
         "403": error("The token is not valid."), "404": error("No such record."),
         "413": error("The body is too large."),
         "422": BAD_INPUT, "429": error("Too many edits from this client.")},
        description="The published version stays public until a moderator approves the edit.",
        parameters=[ID_PARAM, TOKEN],
        requestBody={"required": True, "content": {"application/json": {"schema": {
            "oneOf": [ref(f"{kind.label_one}Edit") for kind in RECORDS]}}}})})
    def propose_edit(self, request, record_id):
        self.limits.hit("edit", request)
        body = json_body(request)
        result = call(self.directory.propose_edit, record_id, body, token_arg(request))
        return json_response(result, 202)

    @json_route("GET", "/api/vocabularies", openapi={"/api/vocabularies": operation(
        "get", "vocabularies", "Every vocabulary (slug → English label), clusters and countries", "directory",
        {"200": ok({"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": {"type": "string"}}})})})
    def vocabularies(self, request):
        return json_response(call(self.directory.vocabularies),
                             headers={"Cache-Control": f"public, max-age=3600, stale-if-error={STALE_IF_ERROR}"})

    @json_route("GET", "/api/stats", openapi={"/api/stats": operation(
        "get", "stats", "Counts of published records", "directory", {"200": ok(ref("Stats")), "503": UNAVAILABLE})})
    def stats(self, request):
        return json_response(call(self.directory.stats, timeout=READ_BUDGET))
