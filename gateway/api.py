"""JSON API of the directory: published records, submissions and their status."""
import uuid

from nameko.rpc import RpcProxy
from nameko.web.handlers import http

from dsi import signing
from dsi.schemas import parse_submission

from .dependencies import RATE_LIMITS
from .http import ServiceUnavailable, api, call, json_body, json_response, list_arg, paging

KINDS = {"organisations": "organisation", "projects": "project"}
LIST_FILTERS = ("country", "area", "technology", "focus", "type", "tag")


def send_submission(directory, body: dict) -> dict:
    """Hand a validated submission to the directory (the JSON API and the web forms both do)."""
    submission_id = str(uuid.uuid4())
    reply = call(directory.submit.call_async, body, submission_id)
    try:
        return call(reply.result, timeout=5)
    except ServiceUnavailable:
        # The request waits in the directory's durable RPC queue and is stored, under this id, as soon as the
        # directory runs again: accept it rather than refuse it.
        return {"id": submission_id, "submission_id": submission_id, "state": "pending", "queued": True,
                "status_token": signing.sign(signing.SUBMISSION_STATUS, submission_id)}


class DirectoryApi:
    directory = RpcProxy("directory")
    limits = RATE_LIMITS

    @http("GET", "/api/<any(organisations,projects):collection>")
    @api
    def list_records(self, request, collection):
        page, per_page = paging(request)
        filters = {name: list_arg(request, name) for name in LIST_FILTERS if request.args.get(name)}
        return json_response(call(self.directory.list_records, KINDS[collection], filters, page, per_page))

    @http("GET", "/api/<any(organisations,projects):collection>/<int:record_id>")
    @api
    def get_record(self, request, collection, record_id):
        return json_response(call(self.directory.get_record, KINDS[collection], record_id))

    @http("POST", "/api/submissions")
    @api
    def submit(self, request):
        self.limits.hit("submit", request)
        body = json_body(request)
        parse_submission(body)  # field errors at the edge; the directory checks again before it writes
        result = send_submission(self.directory, body)
        return json_response(result, 202, {"Location": f"/api/submissions/{result['id']}"})

    @http("GET", "/api/submissions/<submission_id>")
    @api
    def submission_status(self, request, submission_id):
        return json_response(call(self.directory.submission_status, submission_id, request.args.get("token", "")))

    @http("POST", "/api/submissions/<submission_id>/confirm")
    @api
    def confirm_email(self, request, submission_id):
        return json_response(call(self.directory.confirm_email, submission_id, request.args.get("token", "")))

    @http("POST", "/api/submissions/<submission_id>/withdraw")
    @api
    def withdraw(self, request, submission_id):
        return json_response(call(self.directory.withdraw, submission_id, request.args.get("token", "")))

    @http("PUT", "/api/records/<int:record_id>")
    @api
    def propose_edit(self, request, record_id):
        self.limits.hit("edit", request)
        body = json_body(request)
        result = call(self.directory.propose_edit, record_id, body, request.args.get("token", ""))
        return json_response(result, 202)

    @http("GET", "/api/vocabularies")
    @api
    def vocabularies(self, request):
        return json_response(call(self.directory.vocabularies), headers={"Cache-Control": "public, max-age=3600"})

    @http("GET", "/api/stats")
    @api
    def stats(self, request):
        return json_response(call(self.directory.stats))
