"""The newsletter in the gateway: a JSON API under /api/newsletter/ and the pages behind the links in its
mails (confirm, one-click unsubscribe, preferences, GDPR export and erase) and the public archive.

Links carry a signed token; the newsletter service checks it. Unsubscribing never happens on GET (mail
scanners follow links): the page's button, or a bare POST to the same URL (RFC 8058), does it; that POST
needs no CSRF token (mail clients send none, and the signed link is the proof). The other forms carry one.

Like the rest of the site, each page answers at its path in English (`/newsletter`) and under a language prefix
(`/pl/newsletter`); render() takes the language from the path. The pages' words are in their templates."""
import functools
import logging
import re

from nameko.rpc import RpcProxy
from nameko.web.handlers import http

from dsi.errors import InvalidInput, PlatformError
from dsi.vocab import INTERFACE_LANGUAGES, SOCIAL_AREAS

from . import csrf, i18n
from .http import MAX_BODY_BYTES, PayloadTooLarge, api, call, json_body, json_response, paging
from .templating import render

log = logging.getLogger(__name__)


class HideTokens(logging.Filter):
    """The web server's access log names every request's URL, and a mailed link's token is a secret (it
    confirms, unsubscribes or opens someone's data): the log keeps `token=…` only."""

    TOKEN = re.compile(r"(token=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = self.TOKEN.sub(r"\1…", record.msg)
        return True


logging.getLogger("nameko.web.server").addFilter(HideTokens())  # the logger nameko hands eventlet's server


def _token(request) -> str:
    return request.args.get("token", "")


def _form(request) -> dict:
    """Sign-up or preference fields from a posted form; the language defaults to the page's."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The form is larger than {MAX_BODY_BYTES // 1024} KiB.")
    form = request.form
    language = form.get("language") or i18n.split_path(request.path)[0]
    body = {"language": language, "social_areas": form.getlist("social_areas")}
    if "email" in form:
        body["email"] = form.get("email", "")
    return body


def html_page(methods: str, path: str, template: str):
    """An HTML page at `path` and at `/<lang>path` (as gateway/web.py's pages): a platform error becomes
    `template` with its message and status."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(self, request, *args, lang=i18n.DEFAULT, **kwargs):  # render() reads `lang` off the path
            try:
                return handler(self, request, *args, **kwargs)
            except PlatformError as error:
                return render(template, error.status, request=request, error=error, **_choices())
            except Exception:
                log.exception("unexpected error on %s %s", request.method, request.path)
                error = PlatformError("Something went wrong on our side; please try again.")
                return render(template, 500, request=request, error=error, **_choices())

        http(methods, path)(wrapper)
        http(methods, "/" + i18n.LANG_RULE + path)(wrapper)
        return wrapper

    return decorate


def _choices() -> dict:
    return {"languages": INTERFACE_LANGUAGES, "areas": SOCIAL_AREAS}


# --- the OpenAPI description of /api/newsletter/* (gathered into /api/openapi.json by gateway/openapi.py) ------

def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _closed(properties: dict, required=None) -> dict:
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "required": list(properties) if required is None else required}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


_STAMP = {"type": ["string", "null"], "format": "date-time"}
_LANGUAGE = {"type": "string", "enum": list(INTERFACE_LANGUAGES)}
_AREAS = {"type": "array", "items": {"type": "string"}, "description": "Social area slugs (labels are accepted too)."}
_TOKEN = {"name": "token", "in": "query", "required": True, "schema": {"type": "string"},
          "description": "The signed token of the link in a newsletter mail."}
_BAD_TOKEN = _error("The link's token is not valid or has expired.")
_GONE = _error("The subscription no longer exists.")
_SUBSCRIBER = _closed({"email": {"type": "string"}, "state": {"type": "string", "enum": [
    "pending", "confirmed", "unsubscribed", "bounced"]}, "language": _LANGUAGE, "social_areas": _AREAS,
    "confirmed_at": _STAMP})
_ITEM = _closed({"id": {"type": "integer"}, "kind": {"type": "string", "enum": ["organisation", "project"]},
                 "name": {"type": "string"}, "summary": {"type": "string"}, "place": {"type": "string"},
                 "social_areas": {"type": "array", "items": {"type": "string"}}, "url": {"type": "string"}})
_PAGE = {"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
         "total": {"type": "integer", "minimum": 0}}
_PAGE_PARAMS = [{"name": name, "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}
                for name in ("page", "per_page")]


def _operation(method: str, operation_id: str, summary: str, responses: dict, token: bool = True, **more) -> dict:
    return {method: {"summary": summary, "operationId": operation_id, "tags": ["newsletter"],
                     "parameters": [_TOKEN] if token else [], "responses": responses, **more}}


OPENAPI_PATHS = {
    "/api/newsletter/subscribe": _operation(
        "post", "newsletter_subscribe", "Subscribe to the monthly newsletter (double opt-in)",
        {"202": _json(_ref("NewsletterAccepted"), "The same answer whether or not the address is known: a "
                                                  "confirmation link is mailed to a new address."),
         "400": _error("The body is not JSON."), "413": _error("The body is too large."),
         "422": _error("Invalid fields: `details` names each."),
         "429": _error("Too many sign-ups from this client.")},
        token=False,
        requestBody={"required": True, "content": {"application/json": {"schema": _closed(
            {"email": {"type": "string", "format": "email"}, "language": _LANGUAGE, "social_areas": _AREAS},
            required=["email"])}}}),
    "/api/newsletter/confirm": _operation(
        "post", "newsletter_confirm", "Confirm a subscription with the mailed link",
        {"200": _json(_ref("NewsletterSubscriber")), "403": _BAD_TOKEN, "404": _GONE}),
    "/api/newsletter/unsubscribe": _operation(
        "post", "newsletter_unsubscribe", "Unsubscribe at once (RFC 8058 one-click; repeating it is harmless)",
        {"200": _json({"oneOf": [_ref("NewsletterSubscriber"),
                                 _closed({"state": {"const": "unsubscribed"}})]}), "403": _BAD_TOKEN}),
    "/api/newsletter/preferences": {
        **_operation("get", "newsletter_preferences", "A subscriber's preferences",
                     {"200": _json(_ref("NewsletterSubscriber")), "403": _BAD_TOKEN, "404": _GONE}),
        **_operation("put", "newsletter_update_preferences", "Change language and social areas",
                     {"200": _json(_ref("NewsletterSubscriber")), "400": _error("The body is not JSON."),
                      "403": _BAD_TOKEN, "404": _GONE, "422": _error("Invalid fields: `details` names each.")},
                     requestBody={"required": True, "content": {"application/json": {"schema": _closed(
                         {"language": _LANGUAGE, "social_areas": _AREAS}, required=[])}}}),
    },
    "/api/newsletter/export": _operation(
        "get", "newsletter_export", "Everything kept about a subscriber (GDPR access and portability)",
        {"200": _json(_closed({
            "subscriber": {"type": "object"},
            "editions": {"type": "array", "items": {"type": "object"}},
            "mails": {"type": "array", "items": {"type": "object"}}})), "403": _BAD_TOKEN, "404": _GONE}),
    "/api/newsletter/erase": _operation(
        "post", "newsletter_erase", "Erase a subscriber and the mails kept for them (GDPR erasure)",
        {"200": _json(_closed({"erased": {"const": True}})), "403": _BAD_TOKEN, "404": _GONE}),
    "/api/newsletter/editions": _operation(
        "get", "newsletter_archive", "Past editions, newest first",
        {"200": _json(_closed({"items": {"type": "array", "items": _closed({
            "id": {"type": "integer"}, "kind": {"const": "edition"}, "name": {"type": "string"},
            "month": {"type": "string"}, "sent_at": _STAMP, "records": {"type": "integer"}})}, **_PAGE})),
         "422": _error("Invalid paging.")},
        token=False, parameters=_PAGE_PARAMS),
    "/api/newsletter/editions/{month}": _operation(
        "get", "newsletter_edition", "One past edition with every record it presented",
        {"200": _json(_closed({
            "id": {"type": "integer"}, "month": {"type": "string"}, "subject": {"type": "string"},
            "language": {"type": "string"}, "sent_at": _STAMP,
            "intro_paragraphs": {"type": "array", "items": {"type": "string"}},
            "sections": {"type": "array", "items": _closed({
                "title": {"type": "string"}, "more": {"type": "integer"},
                "items": {"type": "array", "items": _ITEM}})}})),
         "404": _error("No edition of that month was sent."), "422": _error("A month is written YYYY-MM.")},
        token=False, parameters=[{"name": "month", "in": "path", "required": True,
                                  "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}]),
}
OPENAPI_SCHEMAS = {
    "NewsletterAccepted": _closed({"status": {"const": "accepted"}, "message": {"type": "string"}}),
    "NewsletterSubscriber": _SUBSCRIBER,
}


class NewsletterPages:
    newsletter = RpcProxy("newsletter")
    openapi_paths = OPENAPI_PATHS
    openapi_schemas = OPENAPI_SCHEMAS

    # --- JSON ------------------------------------------------------------------------------------------------

    @http("POST", "/api/newsletter/subscribe")
    @api
    def api_subscribe(self, request):
        result = call(self.newsletter.subscribe, json_body(request), self.limits.client(request))
        return json_response(result, 202)

    @http("POST", "/api/newsletter/confirm")
    @api
    def api_confirm(self, request):
        return json_response(call(self.newsletter.confirm, _token(request)))

    @http("POST", "/api/newsletter/unsubscribe")
    @api
    def api_unsubscribe(self, request):
        return json_response(call(self.newsletter.unsubscribe, _token(request)))

    @http("GET", "/api/newsletter/preferences")
    @api
    def api_preferences(self, request):
        result = call(self.newsletter.get_preferences, _token(request))
        result.pop("unsubscribe_token", None)
        return json_response(result, headers={"Cache-Control": "no-store"})

    @http("PUT", "/api/newsletter/preferences")
    @api
    def api_update_preferences(self, request):
        return json_response(call(self.newsletter.update_preferences, _token(request), json_body(request)))

    @http("GET", "/api/newsletter/export")
    @api
    def api_export(self, request):
        return json_response(call(self.newsletter.export_subscriber, _token(request)), headers={
            "Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="newsletter-data.json"'})

    @http("POST", "/api/newsletter/erase")
    @api
    def api_erase(self, request):
        return json_response(call(self.newsletter.erase_subscriber, _token(request)))

    @http("GET", "/api/newsletter/editions")
    @api
    def api_archive(self, request):
        page_number, per_page = paging(request)
        return json_response(call(self.newsletter.list_archive, page_number, per_page))

    @http("GET", "/api/newsletter/editions/<month>")
    @api
    def api_archived(self, request, month):
        return json_response(call(self.newsletter.get_archived, month))

    # --- pages -----------------------------------------------------------------------------------------------

    @html_page("GET", "/newsletter", "newsletter/signup.html")
    def signup_page(self, request):
        return render("newsletter/signup.html", request=request, **_choices())

    @html_page("POST", "/newsletter/subscribe", "newsletter/signup.html")
    def subscribe_page(self, request):
        csrf.check(request)
        body = _form(request)
        try:
            call(self.newsletter.subscribe, body, self.limits.client(request))
        except InvalidInput as error:
            return render("newsletter/signup.html", 422, request=request, error=error, values=body, **_choices())
        return render("newsletter/message.html", 202, request=request, outcome="pending")

    @html_page("GET", "/newsletter/confirm", "newsletter/message.html")
    def confirm_page(self, request):
        # Confirming on GET is safe: it only completes what the address owner asked for, and is idempotent.
        call(self.newsletter.confirm, _token(request))
        return render("newsletter/message.html", request=request, outcome="confirmed")

    @html_page("GET", "/newsletter/unsubscribe", "newsletter/message.html")
    def unsubscribe_form(self, request):
        return render("newsletter/unsubscribe.html", request=request, token=_token(request))

    @html_page("POST", "/newsletter/unsubscribe", "newsletter/message.html")
    def unsubscribe_page(self, request):
        call(self.newsletter.unsubscribe, _token(request))
        return render("newsletter/message.html", request=request, outcome="unsubscribed")

    @html_page("GET", "/newsletter/preferences", "newsletter/message.html")
    def preferences_page(self, request):
        current = call(self.newsletter.get_preferences, _token(request))
        return render("newsletter/preferences.html", request=request, headers={"Cache-Control": "no-store"},
                      token=_token(request), current=current, **_choices())

    @html_page("POST", "/newsletter/preferences", "newsletter/message.html")
    def update_preferences_page(self, request):
        csrf.check(request)
        token = _token(request)
        try:
            current = call(self.newsletter.update_preferences, token, _form(request))
        except InvalidInput as error:
            current = call(self.newsletter.get_preferences, token)
            return render("newsletter/preferences.html", 422, request=request, token=token, current=current,
                          error=error, **_choices())
        return render("newsletter/preferences.html", request=request, token=token, current=current, saved=True,
                      **_choices())

    @html_page("POST", "/newsletter/erase", "newsletter/message.html")
    def erase_page(self, request):
        csrf.check(request)
        call(self.newsletter.erase_subscriber, _token(request))
        return render("newsletter/message.html", request=request, outcome="erased")

    @html_page("GET", "/newsletter/archive", "newsletter/message.html")
    def archive_page(self, request):
        page_number, per_page = paging(request)
        listing = call(self.newsletter.list_archive, page_number, per_page)
        return render("newsletter/archive.html", request=request, listing=listing)

    @html_page("GET", "/newsletter/archive/<month>", "newsletter/message.html")
    def archived_page(self, request, month):
        return render("newsletter/edition.html", request=request, edition=call(self.newsletter.get_archived, month))
