"""The public website's pages, server-rendered in every interface language: home, about, clusters, directory
search, record pages, the join-the-network and edit forms, a submission's status, and the report form of a
record page. (Open data, feeds and the sitemap are in data.py; the newsletter's pages in newsletter.py.)

Each page answers at its path in English (`/search`) and under a language prefix (`/pl/search`). A page never
fails with a bare error: a service's error becomes a page in the site's look with the right status.
"""
import secrets
import uuid

import eventlet

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from dsi import kinds, places, vocab
from dsi.errors import Forbidden, InvalidInput, NotFound, PlatformError, RateLimited
from dsi.schemas import parse_fields, parse_submission

from ..api.content import by_owner
from ..api.directory import send_submission, submission_status
from ..common import csrf, i18n
from ..common.dependencies import RATE_LIMITS
from ..common.spooling import REPORT, SPOOL, forward
from ..common.caching import SharedParts
from ..common.http import (PayloadTooLarge, RpcProxy, ServiceUnavailable, call, html_route, in_parallel, optional,
                           retry_headers, token_arg)
from ..common.templating import environment, render
from . import forms, views
from .dataviz import MAP_ATLAS_DETAIL
from .editorial import NO_SECTIONS, about_record, cluster_page, complete, home_sections

PAGE_TIMEOUT = 5
# A page shows these errors with their own status; any other refusal as a 400.
PAGE_STATUS = {NotFound: 404, Forbidden: 403, InvalidInput: 422, RateLimited: 429, ServiceUnavailable: 503,
               PayloadTooLarge: 413}
DIRECTORY_SEGMENTS = kinds.segment_rule("collection", owner="directory")
LATEST = {"kind": list(kinds.names("directory")), "sort": "newest", "per_page": 6}  # the home page's latest records
environment.globals.setdefault("REPORT_REASONS", vocab.REPORT_REASONS)  # the report form


def error_page(request, status: int, message: str = "", headers: dict | None = None) -> Response:
    return render("error.html", status, headers, request=request, status_code=status, message=message)


def _site_error(self, request, error: PlatformError, status: int) -> Response:
    if status != 500:
        status = next((code for kind, code in PAGE_STATUS.items() if isinstance(error, kind)), 400)
    message = "" if status in (404, 500) else i18n.error_text(i18n.split_path(request.path)[0], error)
    return error_page(request, status, message, retry_headers(error))


def page(path: str, methods: str = "GET"):
    """A page of the site at `path` and at `/<lang>path`; its handler receives the language."""
    return html_route(methods, path, _site_error)


def see_other(lang: str, path: str) -> Response:
    return redirect(i18n.localised(lang, path), 303)


class PublicPages:
    directory = RpcProxy("directory")
    search = RpcProxy("search")
    moderation = RpcProxy("moderation")  # the report form
    content = RpcProxy("content")  # the editorial sections of the home and cluster pages
    limits = RATE_LIMITS
    spool = SPOOL
    parts = SharedParts()

    # --- home, about, clusters --------------------------------------------------------------------------------

    @page("/")
    def home(self, request, lang):
        # the same for every visitor: kept (common/caching.SharedParts); what is missing is asked for at once
        stats, latest, editorial = in_parallel(
            lambda: self.parts.get("stats", lambda: optional(self.directory.stats)),
            lambda: self.parts.get("latest", lambda: optional(self.search.query, LATEST)),
            lambda: self.parts.get(f"home {lang}", lambda: home_sections(self.content, lang)))
        return render("home.html", request=request, stats=stats, latest=(latest or {}).get("items", []),
                      clusters=CLUSTERS, editorial=editorial or NO_SECTIONS)

    @page("/about")
    def about(self, request, lang):
        return render("about.html", request=request, clusters=CLUSTERS)

    @page("/privacy")
    def privacy(self, request, lang):
        return render("privacy.html", request=request)

    @page("/clusters")
    def clusters(self, request, lang):
        return render("clusters.html", request=request, clusters=CLUSTERS)

    @page("/clusters/<slug>")
    def cluster(self, request, lang, slug):
        if slug not in vocab.CLUSTERS:
            raise NotFound("No such cluster.")
        state = {"q": "", "filters": {"social_areas": [slug]}, "sort": "newest", "page": 1}
        found, page = in_parallel(
            lambda: self.parts.get(f"cluster records {slug}", lambda: optional(
                self.search.query, {**views.search_params(state), "per_page": 12})),
            lambda: self._cluster_page(slug, lang))
        return render("cluster.html", request=request, cluster=CLUSTERS[slug], found=found,
                      search_url=views.state_url(i18n.localised(lang, "/search"), state), page=page)

    def _cluster_page(self, slug: str, lang: str) -> dict | None:
        """The cluster's editorial page, kept once complete (its lead partner found when there is one)."""
        return self.parts.get(f"cluster {slug} {lang}", lambda: cluster_page(self.content, self.directory, slug, lang),
                              keep=complete)

    # --- the directory ----------------------------------------------------------------------------------------

    @page("/search")
    def search_page(self, request, lang):
        state = views.search_state(request.args)
        result = call(self.search.query, views.search_params(state), timeout=PAGE_TIMEOUT)
        view = views.search_view(lang, i18n.localised(lang, "/search"), state, result)
        return render("search.html", request=request, state=state, result=result, view=view)

    @page("/" + DIRECTORY_SEGMENTS)
    def collection(self, request, lang, collection):
        """The directory's lists are the search page of one kind: its words, filters, order and page go along."""
        state = views.search_state(request.args)
        state["filters"]["kind"] = [kinds.by_segment(collection).name]
        return see_other(lang, views.state_url("/search", state))

    @page("/" + DIRECTORY_SEGMENTS + "/<int:record_id>")
    def record(self, request, lang, collection, record_id):
        kind = kinds.by_segment(collection)
        record, about = in_parallel(
            lambda: call(self.directory.get_record, kind.name, record_id, timeout=PAGE_TIMEOUT),
            lambda: about_record(self.content, self.parts.get("written about", lambda: optional(
                self.content.records_written_about)), kind.name, record_id, lang))
        return render(kind.template("page"), request=request, record=record,
                      country=i18n.record_country(lang, record),
                      map=views.map_point(record["latitude"], record["longitude"]), about=about)

    # --- joining the network ----------------------------------------------------------------------------------

    @page("/join")
    def join(self, request, lang):
        return render("join.html", request=request)

    @page("/join/" + kinds.name_rule("kind", owner="directory"), "GET,POST")
    def join_form(self, request, lang, kind):
        """The form, then its preview (nothing is sent yet), then the submission; "change" goes back to the form.
        A post that asks for no preview (the JSON-less clients of old) is sent at once."""
        if request.method == "GET":
            _prepare_places()
            return self._form(request, kind, {})
        csrf.check(request)  # first: it refuses an oversized body (413 page) before the form is read
        values = forms.form_values(request.form)
        if request.form.get(forms.STEP) == "change":
            return self._form(request, kind, values)
        try:
            self._check_post(request)
            body = self._joined(kind, request.form, {**forms.submission_body(kind, request.form), "language": lang})
            parse_submission(body)  # field errors next to the fields; the directory checks again
            if request.form.get(forms.STEP) == forms.PREVIEW:
                return self._preview(request, kind, values, body)
            self.limits.hit("submit", request)  # only a valid submission counts against the client's limit
            result = send_submission(self.directory, self.spool, body)
        except (InvalidInput, RateLimited) as error:
            return self._form(request, kind, values, error)
        return see_other(lang, f"/submissions/{result['id']}?token={result['status_token']}&sent=1")

    @page("/records/<int:record_id>/edit", "GET,POST")
    def edit_form(self, request, lang, record_id):
        """The signed edit link opens the join form filled in, with the same preview."""
        token = token_arg(request)
        record = call(self.directory.editable_record, record_id, token, timeout=PAGE_TIMEOUT)
        kind = record["kind"]
        if request.method == "GET":
            _prepare_places()
            return self._form(request, kind, forms.record_values(record), record=record)
        csrf.check(request)
        values = forms.form_values(request.form)
        if request.form.get(forms.STEP) == "change":
            return self._form(request, kind, values, record=record)
        try:
            self._check_post(request)
            body = forms.record_body(kind, request.form)
            if kind == "project":
                body = self._joined(kind, request.form, body, new_allowed=False)
            else:
                body[kinds.get(kind).links] = forms.current_links(record)
            body = forms.place(body, request.form)
            parse_fields(kind, body)
            if request.form.get(forms.STEP) == forms.PREVIEW:
                return self._preview(request, kind, values, body, record=record)
            self.limits.hit("edit", request)
            result = call(self.directory.propose_edit, record_id, body, token, lang, timeout=PAGE_TIMEOUT)
        except (InvalidInput, RateLimited) as error:
            return self._form(request, kind, values, error, record=record)
        return see_other(lang, f"/submissions/{result['id']}?token={result['status_token']}&sent=1")

    def _joined(self, kind, form, body: dict, new_allowed: bool = True) -> dict:
        """`body` placed by its city and, for a project, linked to the organisations it names: those the directory
        has by their id, the others proposed as new (in an edit, where that cannot be, an error)."""
        body = forms.place(body, form)
        if kind != "project":
            return body
        names = forms.organisation_names(form)
        found = call(self.directory.find_by_names, "organisation", names, timeout=PAGE_TIMEOUT) if names else {}
        links, new = forms.split_organisations(names, found)
        if new and not new_allowed:
            raise InvalidInput("The edit names organisations not in the directory.",
                               {forms.ORGANISATION: "not in the directory: " + ", ".join(new)})
        return {**body, "organisations": links, **({"new_organisations": new} if new else {})}

    def _check_post(self, request) -> None:
        if request.form.get(forms.HONEYPOT):
            raise InvalidInput.because("honeypot", {forms.HONEYPOT: forms.HONEYPOT_ERROR})

    def _form(self, request, kind, values, error: PlatformError | None = None, record=None) -> Response:
        status = 200 if error is None else (429 if isinstance(error, RateLimited) else 422)
        return render(kinds.get(kind).template("form"), status, request=request, kind=kind, values=values,
                      error=error, record=record, vocabularies=vocab.VOCABULARIES,
                      max_organisations=forms.MAX_ORGANISATIONS)

    def _preview(self, request, kind, values, body, record=None) -> Response:
        """The entry as it will be sent, the place found on a small map, and every value in hidden fields."""
        lang = i18n.split_path(request.path)[0]
        kept = {name: value for name, value in values.items()
                if name not in ("latitude", "longitude", forms.PLACED_FOR, forms.STEP, csrf.FIELD, forms.HONEYPOT)}
        placed = body.get("latitude") is not None
        return render("record_preview.html", request=request, kind=kind, record=record, body=body, kept=kept,
                      placed=placed, placed_for=forms.placed_for(body),
                      country=views.country_name(lang, body["country"]) if body.get("country") else "",
                      map=views.map_point(body.get("latitude"), body.get("longitude")) if placed else None,
                      atlas=MAP_ATLAS_DETAIL, vocabularies=vocab.VOCABULARIES)

    @page("/submissions/<submission_id>")
    def submission(self, request, lang, submission_id):
        token = token_arg(request)
        status = submission_status(self, submission_id, token, PAGE_TIMEOUT)
        # what happens next: the directory's review (a spooled submission is most likely one of its own)
        next_steps = status.get("queued") or (status["state"] == "pending" and status.get("kind") in
                                               kinds.names("directory"))
        return render("submission.html", request=request, submission=status, token=token, next_steps=next_steps,
                      sent=request.args.get("sent") == "1")

    @page("/submissions/<submission_id>/withdraw", "POST")
    def withdraw(self, request, lang, submission_id):
        csrf.check(request)
        token = token_arg(request)
        by_owner(self, "withdraw", submission_id, token)
        return see_other(lang, f"/submissions/{submission_id}?token={token}")

    @page("/submissions/<submission_id>/confirm", "GET,POST")
    def confirm(self, request, lang, submission_id):
        """The emailed link opens a page whose button confirms: mail scanners that follow links confirm nothing."""
        token = token_arg(request)
        if request.method == "GET":
            return render("confirm.html", request=request, token=token, confirmed=None)
        csrf.check(request)
        status = by_owner(self, "confirm_email", submission_id, token)
        return render("confirm.html", request=request, token=token, confirmed=status)

    # --- reports from the public (the JSON API's is in gateway/api/reports.py) -------------------------------

    @page("/" + DIRECTORY_SEGMENTS + "/<int:record_id>/report")
    def report_page(self, request, lang, collection, record_id):
        record = call(self.directory.get_record, kinds.by_segment(collection).name, record_id, timeout=PAGE_TIMEOUT)
        return render("report.html", request=request, record=record)

    @html_route("POST", "/" + DIRECTORY_SEGMENTS + "/<int:record_id>/report",
                lambda self, request, error, status: _report_answer(request, status, error, retry_headers(error)))
    def report_form(self, request, lang, collection, record_id):
        csrf.check(request)
        body = {"reason_code": request.form.get("reason_code", ""), "text": request.form.get("text", "")}
        answer = report_record(self, request, kinds.by_segment(collection).name, record_id, body)
        return _report_answer(request, 202, queued=answer.get("queued", False))


def _prepare_places() -> None:
    """The gazetteer's index takes seconds to build: built while the visitor fills the form in (a no-op once
    built; `places` builds it on an OS thread, so that the hub keeps serving)."""
    eventlet.spawn_n(places.load)


def _report_answer(request, status: int, error: PlatformError | None = None, headers=None,
                   queued: bool = False) -> Response:
    """The answer to a report, in the record page's language; its language switcher leads to the record's page."""
    back = request.path.removesuffix("/report")
    return render("console/report_sent.html", status, headers, request=request, error=error, back=back,
                  page_path=i18n.split_path(back)[1], page_query="", queued=queued)


def report_record(route, request, kind: str, record_id: int, body) -> dict:
    """A report of a published record from the public, counted against the client's limit (the site's form and
    the JSON API both send it). Kept in the spool when the directory or moderation cannot take it now."""
    route.limits.hit("report", request)
    client = route.limits.client(request)

    def send():
        record = call(route.directory.get_record, kind, record_id)  # only a published record can be reported
        return call(route.moderation.report, kind, record_id, record["name"], client, body)

    item = {"kind": kind, "record_id": record_id, "client": client, "body": body}
    result = forward(send, route.spool, REPORT, str(uuid.uuid4()), secrets.token_urlsafe(16), item)
    return {"kind": kind, "record_id": record_id, "received": True, "queued": True} if result is None else result


# The six clusters as pages show them: one object, so that a page part showing them is kept (templating's kept).
CLUSTERS = {slug: {"slug": slug, "name": vocab.SOCIAL_AREAS[slug], "lead": lead}
            for slug, lead in vocab.CLUSTERS.items()}
