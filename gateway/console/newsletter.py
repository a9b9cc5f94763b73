"""The editors' newsletter console (/console/newsletter): editions and their states, the preview of a copy,
the intro and subject (a default and per language), the items of each section (drop, reorder), a test copy to
an address, scheduling, and pause / resume / cancel.

Every page is a `staff_route` for editors and admins (session, role and CSRF checked by console/staff.py);
the newsletter service checks each change against the edition's state. Plain HTML forms, no scripts."""
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from dsi.errors import Conflict, InvalidInput
from dsi.vocab import INTERFACE_LANGUAGES, SOCIAL_AREAS

from ..common.http import RpcProxy, call
from ..common.templating import SECURITY_HEADERS, render
from .staff import StaffSessions, current_staff, staff_route

EDITORS = ("editor", "admin")
ACTIONS = ("unschedule", "pause", "resume", "cancel")
SECTIONS = ("stories", "events", "funding", "records")
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
        listed = call(self.newsletter.edition_items, edition_id)["sections"]
        return render("console/newsletter/edition.html", status, request=request, staff=current_staff(request),
                      edition={**listed_edition(report), **report}, preview=preview, language=language,
                      languages=INTERFACE_LANGUAGES, sections=listed,
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

    @staff_route("POST", "/console/newsletter/<int:edition_id>/<any(edit,arrange,test,schedule,act):step>",
                 *EDITORS)
    def newsletter_change(self, request, edition_id, step):
        form = request.form
        try:
            if step == "edit":
                call(self.newsletter.update_edition, edition_id, edition_texts(form))
                done = "saved"
            elif step == "arrange":
                call(self.newsletter.arrange_edition, edition_id, arrangement(form))
                done = "arranged"
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



def listed_edition(report: dict) -> dict:
    return {"subjects": report.get("subjects") or {}, "intros": report.get("intros") or {}}


def edition_texts(form) -> dict:
    """The subject and introduction form: the default texts, or one language's own (empty removes it)."""
    language = form.get("text_language", "")
    if language:
        return {"subjects": {language: form.get("subject", "")}, "intros": {language: form.get("intro", "")}}
    return {"subject": form.get("subject") or None, "intro": form.get("intro", "")}


def arrangement(form) -> dict:
    """One section's form: the items kept (checked), ordered by their position field (then as listed)."""
    section = form.get("section", "")
    if section not in SECTIONS:
        raise InvalidInput("Unknown section.", {"section": f"expected one of {', '.join(SECTIONS)}"})
    if form.get("reset"):
        return {"sections": {section: None}}
    kept = []
    for index, value in enumerate(form.getlist("keep")):
        if not value.isdigit():
            raise InvalidInput("Bad item.", {"keep": "expected item ids"})
        position = form.get(f"position-{value}", "").strip()
        if position and not position.lstrip("-").isdigit():
            raise InvalidInput("A position is a whole number.", {f"position-{value}": "expected a number"})
        kept.append((int(position) if position else 10_000 + index, index, int(value)))
    return {"sections": {section: [item_id for _, _, item_id in sorted(kept)]}}
