"""The moderator console (/console): logging in, the queue, decisions, reports, staff accounts (admins).

Every console page is a `staff_route`: the gateway checks the session and role, the moderation service checks
them again on each RPC, and every POST carries a CSRF token. Pages are plain HTML without scripts.
"""
from urllib.parse import urlencode

from nameko.web.handlers import http
from werkzeug.utils import redirect

from dsi import kinds, vocab
from dsi.errors import Conflict, InvalidInput, NotFound, PlatformError

from ..common import csrf
from ..common.dependencies import RATE_LIMITS
from ..common.http import call, retry_headers
from ..common.templating import render
from .staff import (LOGIN_PATH, StaffSessions, clear_session_cookie, current_staff, session_value, set_session_cookie,
                    staff_route)

MODERATORS, ADMINS, STAFF = ("moderator", "admin"), ("admin",), ("moderator", "editor", "admin")
ERRORS = {error.code: error for error in PlatformError.__subclasses__()}  # a bulk result's error, by its code
QUEUE_FILTERS = ("state", "kind", "country", "older_than_days", "q", "sort", "page")


def _page_args(request) -> dict:
    """The queue's filters from the query string; the moderation service validates them."""
    filters = {name: request.args.get(name) for name in QUEUE_FILTERS if request.args.get(name)}
    for name in ("older_than_days", "page"):
        if name in filters:
            filters[name] = int(filters[name]) if filters[name].isdigit() else filters[name]
    return filters


def _decision(form) -> dict:
    return {"decision": form.get("decision", ""), "reason_code": form.get("reason_code") or None,
            "reason": form.get("reason", "")}


def _version(value) -> int | str:
    return int(value) if str(value).isdigit() else value


def _readable(diff: list[dict]) -> list[dict]:
    """A diff with vocabulary slugs shown as their labels."""
    def label(field, value):
        labels = vocab.VOCABULARIES.get(field)
        if labels is None or value is None:
            return value
        return [labels.get(item, item) for item in value] if isinstance(value, list) else labels.get(value, value)

    return [{**change, "before": label(change["field"], change["before"]),
             "after": label(change["field"], change["after"])} for change in diff]


def _local(target: str | None) -> str:
    """Where to go after login: only a console page of this site, never another host."""
    return target if target and target.startswith("/console") else "/console"


class ModerationConsole(StaffSessions):
    limits = RATE_LIMITS

    # --- logging in and out ------------------------------------------------------------------------------------

    @staff_route("GET", "/console", *STAFF)
    def console_home(self, request):
        """Each role's first page: the queue for moderators and admins, the newsletter for editors."""
        return redirect("/console/newsletter" if current_staff(request)["role"] == "editor" else "/console/queue", 303)

    @http("GET,POST", LOGIN_PATH)
    def login(self, request):
        target = _local(request.args.get("next"))
        if request.method == "GET":
            return render("console/login.html", request=request, next=target, headers={"Cache-Control": "no-store"})
        email = ""
        try:
            csrf.check(request)  # first: it refuses an oversized body before the form is read
            email = request.form.get("email", "")
            self.limits.hit("login", request)
            # the client address: failures count per account and client, so no one locks a moderator out
            result = call(self.moderation.login, email, request.form.get("password", ""), self.limits.client(request))
        except PlatformError as error:
            return render("console/login.html", error.status, retry_headers(error), request=request, next=target,
                          email=email, error=error)
        response = redirect(target, 303)
        set_session_cookie(response, request, self.public_url, result["session"], result["max_age"])
        return response

    @staff_route("POST", "/console/language", *STAFF)
    def pick_language(self, request):
        """The console's language switcher: kept with the account, then back to the page it was on."""
        call(self.moderation.set_language, session_value(request), request.form.get("language", ""))
        back = request.form.get("next", "")
        return redirect(back if back.startswith("/console") and not back.startswith("//") else "/console", 303)

    @staff_route("POST", "/console/logout", *STAFF)
    def logout(self, request):
        call(self.moderation.logout, session_value(request))
        response = redirect(LOGIN_PATH, 303)
        clear_session_cookie(response, request, self.public_url)
        return response

    # --- the queue ---------------------------------------------------------------------------------------------

    @staff_route("GET", "/console/queue", *MODERATORS)
    def queue_page(self, request):
        filters = _page_args(request)
        try:
            listing = call(self.moderation.list_queue, session_value(request), filters)
        except InvalidInput as error:
            return render("console/queue.html", 422, request=request, staff=current_staff(request), filters=filters,
                          listing=None, error=error, **_reasons())
        return render("console/queue.html", request=request, staff=current_staff(request), filters=filters,
                      listing=listing, page_link=lambda page: "/console/queue?" + urlencode({**filters, "page": page}),
                      **_reasons())

    @staff_route("POST", "/console/queue/bulk", *MODERATORS)
    def bulk_decide(self, request):
        items = []
        for value in request.form.getlist("item"):
            submission_id, _, version = value.rpartition(":")
            items.append({"submission_id": submission_id, "version": _version(version)})
        try:
            outcome = call(self.moderation.bulk_decide, session_value(request), items, _decision(request.form),
                           timeout=60)
        except InvalidInput as error:
            return render("console/bulk.html", 422, request=request, staff=current_staff(request), error=error)
        for result in outcome["results"]:
            if not result["ok"]:  # shown in the moderator's language, as any error
                result["error"] = ERRORS.get(result["error"], PlatformError)(
                    result["message"], None, result.get("reason"))
        return render("console/bulk.html", request=request, staff=current_staff(request), outcome=outcome)

    @staff_route("GET,POST", "/console/items/<submission_id>", *MODERATORS)
    def item_page(self, request, submission_id):
        token = session_value(request)
        if request.method == "GET":
            item = call(self.moderation.show, token, submission_id)
            item["diff"] = _readable(item["diff"])
            return render("console/item.html", request=request, staff=current_staff(request), item=item,
                          done=request.args.get("done"), **_reasons())
        decision = {**_decision(request.form), "version": _version(request.form.get("version", ""))}
        try:
            call(self.moderation.decide, token, submission_id, decision)
        except (InvalidInput, Conflict) as error:
            item = call(self.moderation.show, token, submission_id)
            item["diff"] = _readable(item["diff"])
            return render("console/item.html", error.status, request=request, staff=current_staff(request),
                          item=item, error=error, values=decision, **_reasons())
        return redirect(f"/console/items/{submission_id}?done={decision['decision']}", 303)

    # --- reports -----------------------------------------------------------------------------------------------

    @staff_route("GET", "/console/reports", *MODERATORS)
    def reports_page(self, request):
        state = request.args.get("state", "active")
        listing = call(self.moderation.list_reports, session_value(request), state)
        return render("console/reports.html", request=request, staff=current_staff(request), listing=listing,
                      state=state, reasons=vocab.REPORT_REASONS)

    @staff_route("GET,POST", "/console/reports/" + kinds.name_rule("kind") + "/<int:record_id>", *MODERATORS)
    def report_case_page(self, request, kind, record_id):
        token = session_value(request)
        error = None
        if request.method == "POST":
            try:
                call(self.moderation.resolve_report, token, kind, record_id, request.form.get("action", ""),
                     _version(request.form.get("version", "")), request.form.get("reason", ""))
                return redirect(f"/console/reports/{kind}/{record_id}?done=1", 303)
            except (InvalidInput, Conflict) as refused:
                error = refused
        case = call(self.moderation.show_report, token, kind, record_id)
        return render("console/report_case.html", error.status if error else 200, request=request,
                      staff=current_staff(request), case=case, error=error, done=request.args.get("done"),
                      reasons=vocab.REPORT_REASONS)

    # --- staff accounts (admins) -------------------------------------------------------------------------------

    @staff_route("GET,POST", "/console/staff", *ADMINS)
    def staff_accounts(self, request):
        token = session_value(request)
        error, created, values = None, None, {}
        if request.method == "POST":
            action = request.form.get("action", "create")
            try:
                if action == "create":
                    values = {name: request.form.get(name, "") for name in ("email", "name", "role")}
                    created = call(self.moderation.create_staff, token,
                                   {**values, "password": request.form.get("password", "")})
                    values = {}
                else:
                    call(self.moderation.set_staff_active, token, _version(request.form.get("staff_id", "")),
                         action == "activate")
            except (InvalidInput, Conflict, NotFound) as refused:
                error = refused
        staff = call(self.moderation.list_staff, token)
        return render("console/staff.html", error.status if error else 200, request=request,
                      staff=current_staff(request), accounts=staff, error=error, created=created, values=values)


def _reasons() -> dict:
    return {"reject_reasons": vocab.REJECT_REASONS, "changes_reasons": vocab.CHANGES_REASONS}

