"""The newsletter's JSON API (/api/newsletter/*): double opt-in, one-click unsubscribe, preferences, GDPR export
and erase, and the archive of sent editions. Links carry a signed token; the newsletter service checks it."""
import secrets
import uuid

from dsi import kinds, vocab
from dsi.vocab import INTERFACE_LANGUAGES

from ..common.dependencies import RATE_LIMITS
from ..common.http import RpcProxy, call, json_body, json_response, json_route, paging, token_arg
from ..common.openapi import PAGE_PARAMS, STAMP, closed, error, ok, operation, ref
from ..common.spooling import SIGN_UP, SPOOL, WAITING_MESSAGE, forward

SIGN_UP_BUDGET = 4  # seconds the newsletter has to take a sign-up before it is kept in the gateway's spool
_LANGUAGE = {"type": "string", "enum": list(INTERFACE_LANGUAGES)}
_AREAS = {"type": "array", "items": {"type": "string", "enum": sorted(vocab.SOCIAL_AREAS)},
          "description": "Social area slugs (labels are accepted too)."}
_TOKEN = {"name": "token", "in": "query", "required": True, "schema": {"type": "string"},
          "description": "The signed token of the link in a newsletter mail."}
_BAD_TOKEN = error("The link's token is not valid or has expired.")
_GONE = error("The subscription no longer exists.")
_SUBSCRIBER = closed({"email": {"type": "string"}, "state": {"type": "string", "enum": [
    "pending", "confirmed", "unsubscribed", "bounced"]}, "language": _LANGUAGE, "social_areas": _AREAS,
    "confirmed_at": STAMP})
_ITEM = closed({"id": {"type": "integer"}, "kind": {"type": "string", "enum": list(kinds.names())},
                 "name": {"type": "string"}, "summary": {"type": "string"}, "place": {"type": "string"},
                 "social_areas": {"type": "array", "items": {"type": "string"}}, "url": {"type": "string"}})
_PAGE = {"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
         "total": {"type": "integer", "minimum": 0}}
_PAGE_PARAMS = PAGE_PARAMS


def _operation(method: str, operation_id: str, summary: str, responses: dict, token: bool = True, **more) -> dict:
    return operation(method, operation_id, summary, "newsletter", responses,
                     **{"parameters": [_TOKEN] if token else [], **more})


DOC = {  # path → its operations, each attached to its route below
    "/api/newsletter/subscribe": _operation(
        "post", "newsletter_subscribe", "Subscribe to the monthly newsletter (double opt-in)",
        {"202": ok(ref("NewsletterAccepted"), "The same answer whether or not the address is known: a "
                                                  "confirmation link is mailed to a new address."),
         "400": error("The body is not JSON."), "413": error("The body is too large."),
         "422": error("Invalid fields: `details` names each."),
         "429": error("Too many sign-ups from this client.")},
        token=False,
        requestBody={"required": True, "content": {"application/json": {"schema": closed(
            {"email": {"type": "string", "format": "email"}, "language": _LANGUAGE, "social_areas": _AREAS},
            required=["email"])}}}),
    "/api/newsletter/confirm": _operation(
        "post", "newsletter_confirm", "Confirm a subscription with the mailed link",
        {"200": ok(ref("NewsletterSubscriber")), "403": _BAD_TOKEN, "404": _GONE}),
    "/api/newsletter/unsubscribe": _operation(
        "post", "newsletter_unsubscribe", "Unsubscribe at once (RFC 8058 one-click; repeating it is harmless)",
        {"200": ok({"oneOf": [ref("NewsletterSubscriber"),
                                 closed({"state": {"const": "unsubscribed"}})]}), "403": _BAD_TOKEN}),
    "/api/newsletter/preferences": {
        **_operation("get", "newsletter_preferences", "A subscriber's preferences",
                     {"200": ok(ref("NewsletterSubscriber")), "403": _BAD_TOKEN, "404": _GONE}),
        **_operation("put", "newsletter_update_preferences", "Change language and social areas",
                     {"200": ok(ref("NewsletterSubscriber")), "400": error("The body is not JSON."),
                      "403": _BAD_TOKEN, "404": _GONE, "422": error("Invalid fields: `details` names each.")},
                     requestBody={"required": True, "content": {"application/json": {"schema": closed(
                         {"language": _LANGUAGE, "social_areas": _AREAS}, required=[])}}}),
    },
    "/api/newsletter/export": _operation(
        "get", "newsletter_export", "Everything kept about a subscriber (GDPR access and portability)",
        {"200": ok(closed({
            "subscriber": {"type": "object"},
            "editions": {"type": "array", "items": {"type": "object"}},
            "mails": {"type": "array", "items": {"type": "object"}}})), "403": _BAD_TOKEN, "404": _GONE}),
    "/api/newsletter/erase": _operation(
        "post", "newsletter_erase", "Erase a subscriber and the mails kept for them (GDPR erasure)",
        {"200": ok(closed({"erased": {"const": True}})), "403": _BAD_TOKEN, "404": _GONE}),
    "/api/newsletter/editions": _operation(
        "get", "newsletter_archive", "Past editions, newest first",
        {"200": ok(closed({"items": {"type": "array", "items": closed({
            "id": {"type": "integer"}, "kind": {"const": "edition"}, "name": {"type": "string"},
            "month": {"type": "string"}, "sent_at": STAMP, "records": {"type": "integer"}})}, **_PAGE})),
         "422": error("Invalid paging.")},
        token=False, parameters=_PAGE_PARAMS),
    "/api/newsletter/editions/{month}": _operation(
        "get", "newsletter_edition", "One past edition with every record it presented",
        {"200": ok(closed({
            "id": {"type": "integer"}, "month": {"type": "string"}, "subject": {"type": "string"},
            "language": {"type": "string"}, "sent_at": STAMP,
            "intro_paragraphs": {"type": "array", "items": {"type": "string"}},
            "sections": {"type": "array", "items": closed({
                "title": {"type": "string"}, "more": {"type": "integer"},
                "items": {"type": "array", "items": _ITEM}})}})),
         "404": error("No edition of that month was sent."), "422": error("A month is written YYYY-MM.")},
        token=False, parameters=[{"name": "month", "in": "path", "required": True,
                                  "schema": {"type": "string", "pattern": "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"}}]),
}
OPENAPI_SCHEMAS = {
    "NewsletterAccepted": closed({"status": {"const": "accepted"}, "message": {"type": "string"},
                                  "queued": {"type": "boolean", "description": "Kept by the gateway until the "
                                             "newsletter can take it (it is then handled as usual)."}},
                                 required=["status", "message"]),
    "NewsletterSubscriber": _SUBSCRIBER,
}





def _doc(path: str, method: str) -> dict:
    return {path: {method: DOC[path][method]}}


def send_sign_up(route, request, body) -> dict:
    """Hand a sign-up to the newsletter (the JSON API and the site's form both do). When the broker or the
    newsletter cannot take it within the budget it is kept in the spool, on disk, and relayed later under the
    same id, which the newsletter takes once: answered `queued`, never refused."""
    client = route.limits.client(request)
    request_id = str(uuid.uuid4())
    result = forward(lambda: call(route.newsletter.subscribe, body, client, request_id, timeout=SIGN_UP_BUDGET),
                     route.spool, SIGN_UP, request_id, secrets.token_urlsafe(16), {"body": body, "client": client})
    return {"status": "accepted", "queued": True, "message": WAITING_MESSAGE} if result is None else result


class NewsletterApi:
    newsletter = RpcProxy("newsletter")
    limits = RATE_LIMITS
    spool = SPOOL
    openapi_schemas = OPENAPI_SCHEMAS

    @json_route("POST", "/api/newsletter/subscribe", openapi=_doc("/api/newsletter/subscribe", "post"))
    def api_subscribe(self, request):
        return json_response(send_sign_up(self, request, json_body(request)), 202)

    @json_route("POST", "/api/newsletter/confirm", openapi=_doc("/api/newsletter/confirm", "post"))
    def api_confirm(self, request):
        return json_response(call(self.newsletter.confirm, token_arg(request)))

    @json_route("POST", "/api/newsletter/unsubscribe", openapi=_doc("/api/newsletter/unsubscribe", "post"))
    def api_unsubscribe(self, request):
        return json_response(call(self.newsletter.unsubscribe, token_arg(request)))

    @json_route("GET", "/api/newsletter/preferences", openapi=_doc("/api/newsletter/preferences", "get"))
    def api_preferences(self, request):
        result = call(self.newsletter.get_preferences, token_arg(request))
        result.pop("unsubscribe_token", None)
        return json_response(result, headers={"Cache-Control": "no-store"})

    @json_route("PUT", "/api/newsletter/preferences", openapi=_doc("/api/newsletter/preferences", "put"))
    def api_update_preferences(self, request):
        return json_response(call(self.newsletter.update_preferences, token_arg(request), json_body(request)))

    @json_route("GET", "/api/newsletter/export", openapi=_doc("/api/newsletter/export", "get"))
    def api_export(self, request):
        return json_response(call(self.newsletter.export_subscriber, token_arg(request)), headers={
            "Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="newsletter-data.json"'})

    @json_route("POST", "/api/newsletter/erase", openapi=_doc("/api/newsletter/erase", "post"))
    def api_erase(self, request):
        return json_response(call(self.newsletter.erase_subscriber, token_arg(request)))

    @json_route("GET", "/api/newsletter/editions", openapi=_doc("/api/newsletter/editions", "get"))
    def api_archive(self, request):
        page_number, per_page = paging(request)
        return json_response(call(self.newsletter.list_archive, page_number, per_page))

    @json_route("GET", "/api/newsletter/editions/<month>", openapi=_doc("/api/newsletter/editions/{month}", "get"))
    def api_archived(self, request, month):
        return json_response(call(self.newsletter.get_archived, month))
