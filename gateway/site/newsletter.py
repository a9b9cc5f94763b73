"""The newsletter's pages: those behind the links in its mails (confirm, one-click unsubscribe, preferences,
GDPR export and erase), the sign-up form and the public archive. (Its JSON API is gateway/api/newsletter.py.)

Links carry a signed token; the newsletter service checks it. Unsubscribing never happens on GET (mail
scanners follow links): the page's button, or a bare POST to the same URL (RFC 8058), does it; that POST
needs no CSRF token (mail clients send none, and the signed link is the proof). The other forms carry one.

Like the rest of the site, each page answers at its path in English (`/newsletter`) and under a language prefix
(`/pl/newsletter`); render() takes the language from the path. The pages' words are in their templates."""

from dsi.errors import InvalidInput
from dsi.vocab import INTERFACE_LANGUAGES, SOCIAL_AREAS

from ..api.newsletter import send_sign_up
from ..common import csrf, i18n
from ..common.dependencies import RATE_LIMITS
from ..common.http import RpcProxy, call, check_size, html_route, paging, retry_headers, token_arg
from ..common.spooling import SPOOL
from ..common.templating import render


def _form(request) -> dict:
    """Sign-up or preference fields from a posted form; the language defaults to the page's."""
    check_size(request, "form")
    form = request.form
    language = form.get("language") or i18n.split_path(request.path)[0]
    body = {"language": language, "social_areas": form.getlist("social_areas")}
    if "email" in form:
        body["email"] = form.get("email", "")
    return body


def _choices() -> dict:
    return {"languages": INTERFACE_LANGUAGES, "areas": SOCIAL_AREAS}


def _shown_in(template: str):
    """A failure of a newsletter page: `template` with the error's message and status."""

    def on_error(self, request, error, status):
        return render(template, status, retry_headers(error), request=request, error=error, **_choices())

    return on_error


def _by_link(request, action, outcome: str, form: bool = True):
    """Does `action` (a newsletter RPC) with the mailed link's token and says `outcome` on the message page.
    `form`: the request comes from our page's form, so it carries a CSRF token (a one-click unsubscribe does not)."""
    if form:
        csrf.check(request)
    call(action, token_arg(request))
    return render("newsletter/message.html", request=request, outcome=outcome)


class NewsletterPages:
    newsletter = RpcProxy("newsletter")
    limits = RATE_LIMITS
    spool = SPOOL

    @html_route("GET", "/newsletter", _shown_in("newsletter/signup.html"))
    def signup_page(self, request, lang):
        return render("newsletter/signup.html", request=request, **_choices())

    @html_route("POST", "/newsletter/subscribe", _shown_in("newsletter/signup.html"))
    def subscribe_page(self, request, lang):
        csrf.check(request)
        body = _form(request)
        try:
            answer = send_sign_up(self, request, body)
        except InvalidInput as error:
            return render("newsletter/signup.html", 422, request=request, error=error, values=body, **_choices())
        return render("newsletter/message.html", 202, request=request,
                      outcome="queued" if answer.get("queued") else "pending")

    @html_route("GET", "/newsletter/confirm", _shown_in("newsletter/message.html"))
    def confirm_form(self, request, lang):
        """The mailed link opens a page whose button confirms: a mail scanner following links confirms nothing."""
        return render("newsletter/confirm.html", request=request)

    @html_route("POST", "/newsletter/confirm", _shown_in("newsletter/message.html"))
    def confirm_page(self, request, lang):
        return _by_link(request, self.newsletter.confirm, "confirmed")

    @html_route("GET", "/newsletter/unsubscribe", _shown_in("newsletter/message.html"))
    def unsubscribe_form(self, request, lang):
        return render("newsletter/unsubscribe.html", request=request, token=token_arg(request))

    @html_route("POST", "/newsletter/unsubscribe", _shown_in("newsletter/message.html"))
    def unsubscribe_page(self, request, lang):
        return _by_link(request, self.newsletter.unsubscribe, "unsubscribed", form=False)

    @html_route("GET", "/newsletter/preferences", _shown_in("newsletter/message.html"))
    def preferences_page(self, request, lang):
        current = call(self.newsletter.get_preferences, token_arg(request))
        return render("newsletter/preferences.html", request=request, headers={"Cache-Control": "no-store"},
                      token=token_arg(request), current=current, **_choices())

    @html_route("POST", "/newsletter/preferences", _shown_in("newsletter/message.html"))
    def update_preferences_page(self, request, lang):
        csrf.check(request)
        token = token_arg(request)
        try:
            current = call(self.newsletter.update_preferences, token, _form(request))
        except InvalidInput as error:
            current = call(self.newsletter.get_preferences, token)
            return render("newsletter/preferences.html", 422, request=request, token=token, current=current,
                          error=error, **_choices())
        return render("newsletter/preferences.html", request=request, token=token, current=current, saved=True,
                      **_choices())

    @html_route("POST", "/newsletter/erase", _shown_in("newsletter/message.html"))
    def erase_page(self, request, lang):
        return _by_link(request, self.newsletter.erase_subscriber, "erased")

    @html_route("GET", "/newsletter/archive", _shown_in("newsletter/message.html"))
    def archive_page(self, request, lang):
        page_number, per_page = paging(request)
        listing = call(self.newsletter.list_archive, page_number, per_page)
        return render("newsletter/archive.html", request=request, listing=listing)

    @html_route("GET", "/newsletter/archive/<month>", _shown_in("newsletter/message.html"))
    def archived_page(self, request, lang, month):
        return render("newsletter/edition.html", request=request, edition=call(self.newsletter.get_archived, month))
