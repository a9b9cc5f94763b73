"""The editors' newsletter console (/console/newsletter): editions and their states, the preview of a copy,
the intro and subject, a test copy to an address, scheduling, and pause / resume / cancel.

Every page is a `staff_route` for editors and admins (session, role and CSRF checked by console/staff.py);
the newsletter service checks each change against the edition's state. Plain HTML forms, no scripts."""
from nameko.rpc import RpcProxy
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from dsi.errors import Conflict, InvalidInput
from dsi.vocab import INTERFACE_LANGUAGES, SOCIAL_AREAS

from ..common.http import call
from ..common.templating import SECURITY_HEADERS, render
from .staff import StaffSessions, current_staff, staff_route

EDITORS = ("editor", "admin")
ACTIONS = ("unschedule", "pause", "resume", "cancel")
# The preview is the mail's own HTML (escaped by the newsletter's templates): inline styles, no scripts, and
# shown only as a page of its own.
PREVIEW_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store", "Content-Security-Policy": (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'")}


def _language(request) -> str:
    language = request.args.get("language", "en")
    return language if language in INTERFACE_LANGUAGES else "en"


def _at(value: str) -> str | None:
    """The form's `datetime-local` value, meant as UTC; the newsletter service validates it."""
    value = (value or "").strip()
    return f"{value}+00:00" if len(value) in (16, 19) and "+" not in value else (value or None)


class NewsletterConsole(StaffSessions):
    newsletter = RpcProxy("newsletter")

    def _page(self, request, edition_id: int, status: int = 200, **context):
        report = call(self.newsletter.edition_report, edition_id)
        language = _language(request)
        preview = call(self.newsletter.preview_edition, edition_id, language, request.args.getlist("area"))
        return render("console/newsletter/edition.html", status, request=request, staff=current_staff(request),
                      edition=report, preview=preview, language=language, languages=INTERFACE_LANGUAGES,
                      areas=SOCIAL_AREAS, chosen_areas=request.args.getlist("area"), actions=ACTIONS, **context)

    @staff_route("GET,POST", "/console/newsletter", *EDITORS)
    def newsletter_editions(self, request):
        error, month = None, request.form.get("month", "")
        if request.method == "POST":
            try:
                edition = call(self.newsletter.create_edition, month)
                return redirect(f"/console/newsletter/{edition['id']}", 303)
            except (InvalidInput, Conflict) as refused:
                error = refused
        return render("console/newsletter/editions.html", error.status if error else 200, request=request,
                      staff=current_staff(request), editions=call(self.newsletter.list_editions), error=error,
                      month=month)

    @staff_route("GET", "/console/newsletter/<int:edition_id>", *EDITORS)
    def newsletter_edition(self, request, edition_id):
        return self._page(request, edition_id, done=request.args.get("done"))

    @staff_route("GET", "/console/newsletter/<int:edition_id>/preview", *EDITORS)
    def newsletter_preview(self, request, edition_id):
        preview = call(self.newsletter.preview_edition, edition_id, _language(request), request.args.getlist("area"))
        return Response(preview["html"], mimetype="text/html", headers=PREVIEW_HEADERS)

    @staff_route("POST", "/console/newsletter/<int:edition_id>/<any(edit,test,schedule,act):step>", *EDITORS)
    def newsletter_change(self, request, edition_id, step):
        form = request.form
        try:
            if step == "edit":
                call(self.newsletter.update_edition, edition_id, {"subject": form.get("subject") or None,
                                                                  "intro": form.get("intro", "")})
                done = "saved"
            elif step == "test":
                call(self.newsletter.send_test, edition_id, form.get("to", ""), form.get("language", "en"))
                done = "test"
            elif step == "schedule":
                call(self.newsletter.schedule_edition, edition_id, _at(form.get("at", "")))
                done = "scheduled"
            else:
                action = form.get("action", "")
                call(self.newsletter.edition_action, edition_id, action)
                done = action
        except (InvalidInput, Conflict) as error:
            return self._page(request, edition_id, error.status, error=error, values=form)
        return redirect(f"/console/newsletter/{edition_id}?done={done}", 303)
