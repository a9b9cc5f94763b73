"""The newsletter in the gateway: a JSON API under /api/newsletter/ and the pages behind the links in its
mails (confirm, one-click unsubscribe, preferences, GDPR export and erase) and the public archive.

Links carry a signed token; the newsletter service checks it. Unsubscribing never happens on GET (mail
scanners follow links): the page's button, or a bare POST to the same URL (RFC 8058), does it; that POST
needs no CSRF token (mail clients send none, and the signed link is the proof). The other forms carry one."""
import functools
import logging

from nameko.rpc import RpcProxy
from nameko.web.handlers import http

from dsi.errors import InvalidInput, PlatformError
from dsi.vocab import INTERFACE_LANGUAGES, SOCIAL_AREAS

from . import csrf
from .http import MAX_BODY_BYTES, PayloadTooLarge, api, call, json_body, json_response, paging
from .templating import render

log = logging.getLogger(__name__)


def _token(request) -> str:
    return request.args.get("token", "")


def _form(request) -> dict:
    """Sign-up or preference fields from a posted form."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The form is larger than {MAX_BODY_BYTES // 1024} KiB.")
    form = request.form
    body = {"language": form.get("language") or "en", "social_areas": form.getlist("social_areas")}
    if "email" in form:
        body["email"] = form.get("email", "")
    return body


def html_page(template: str):
    """Wraps an HTML handler: a platform error becomes the same page with its message and status."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(self, request, *args, **kwargs):
            try:
                return handler(self, request, *args, **kwargs)
            except PlatformError as error:
                return render(template, error.status, request=request, error=error, **_choices())
            except Exception:
                log.exception("unexpected error on %s %s", request.method, request.path)
                error = PlatformError("Something went wrong on our side; please try again.")
                return render(template, 500, request=request, error=error, **_choices())

        return wrapper

    return decorate


def _choices() -> dict:
    return {"languages": INTERFACE_LANGUAGES, "areas": SOCIAL_AREAS}


class NewsletterPages:
    newsletter = RpcProxy("newsletter")

    # --- JSON ------------------------------------------------------------------------------------------------

    @http("POST", "/api/newsletter/subscribe")
    @api
    def api_subscribe(self, request):
        result = call(self.newsletter.subscribe, json_body(request), request.remote_addr or "")
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

    @http("GET", "/newsletter")
    @html_page("newsletter/signup.html")
    def signup_page(self, request):
        return render("newsletter/signup.html", request=request, **_choices())

    @http("POST", "/newsletter/subscribe")
    @html_page("newsletter/signup.html")
    def subscribe_page(self, request):
        csrf.check(request)
        body = _form(request)
        try:
            result = call(self.newsletter.subscribe, body, request.remote_addr or "")
        except InvalidInput as error:
            return render("newsletter/signup.html", 422, request=request, error=error, values=body, **_choices())
        return render("newsletter/message.html", 202, request=request, title="Check your inbox",
                      message=result["message"])

    @http("GET", "/newsletter/confirm")
    @html_page("newsletter/message.html")
    def confirm_page(self, request):
        # Confirming on GET is safe: it only completes what the address owner asked for, and is idempotent.
        call(self.newsletter.confirm, _token(request))
        return render("newsletter/message.html", request=request, title="You are subscribed",
                      message="Thank you: your subscription is confirmed. The next edition is on its way to you.")

    @http("GET", "/newsletter/unsubscribe")
    @html_page("newsletter/message.html")
    def unsubscribe_form(self, request):
        return render("newsletter/unsubscribe.html", request=request, token=_token(request))

    @http("POST", "/newsletter/unsubscribe")
    @html_page("newsletter/message.html")
    def unsubscribe_page(self, request):
        call(self.newsletter.unsubscribe, _token(request))
        return render("newsletter/message.html", request=request, title="You are unsubscribed",
                      message="You will receive no more editions of the DSI newsletter.")

    @http("GET", "/newsletter/preferences")
    @html_page("newsletter/message.html")
    def preferences_page(self, request):
        current = call(self.newsletter.get_preferences, _token(request))
        return render("newsletter/preferences.html", request=request, headers={"Cache-Control": "no-store"},
                      token=_token(request), current=current, **_choices())

    @http("POST", "/newsletter/preferences")
    @html_page("newsletter/message.html")
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

    @http("POST", "/newsletter/erase")
    @html_page("newsletter/message.html")
    def erase_page(self, request):
        csrf.check(request)
        call(self.newsletter.erase_subscriber, _token(request))
        return render("newsletter/message.html", request=request, title="Your data is erased",
                      message="We have deleted your subscription and every mail we kept for you.")

    @http("GET", "/newsletter/archive")
    @html_page("newsletter/message.html")
    def archive_page(self, request):
        page_number, per_page = paging(request)
        listing = call(self.newsletter.list_archive, page_number, per_page)
        return render("newsletter/archive.html", request=request, listing=listing)

    @http("GET", "/newsletter/archive/<month>")
    @html_page("newsletter/message.html")
    def archived_page(self, request, month):
        return render("newsletter/edition.html", request=request, edition=call(self.newsletter.get_archived, month))
