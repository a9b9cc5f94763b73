"""The public website: server-rendered pages in every interface language, the join-the-network forms, open
data, feeds, the sitemap and the OpenAPI document.

Each page answers at its path in English (`/search`) and under a language prefix (`/pl/search`). A page never
fails with a bare error: a service's error becomes a page in the site's look with the right status.
"""
import functools
import logging
import mimetypes
from pathlib import Path

import eventlet
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from nameko.web.handlers import http
from werkzeug.security import safe_join
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from dsi import vocab
from dsi.countries import all_countries
from dsi.errors import Forbidden, InvalidInput, NotFound, PlatformError, RateLimited
from dsi.schemas import parse_fields, parse_submission

from . import csrf, forms, i18n, opendata, openapi, views
from .api import send_submission
from .dependencies import RATE_LIMITS
from .http import ServiceUnavailable, call, json_response
from .security import WebSecurity
from .templating import render

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
KINDS = {"organisations": "organisation", "projects": "project"}
PAGE_TIMEOUT = 5
FEED_SIZE = 20
# Pages of the site besides records, for the sitemap.
SITE_PAGES = ["/", "/search", "/clusters", "/join", "/about", "/privacy", "/data"]
ERROR_STATUS = {NotFound: 404, Forbidden: 403, InvalidInput: 422, RateLimited: 429, ServiceUnavailable: 503}


def error_page(request, status: int, message: str = "", headers: dict | None = None) -> Response:
    return render("error.html", status, headers, request=request, status_code=status, message=message)


def page(path: str, methods: str = "GET"):
    """A page at `path` and at `/<lang>path`; its handler receives the language and never lets an error escape."""

    def decorate(handler):
        @functools.wraps(handler)
        def entrypoint(self, request, lang=i18n.DEFAULT, **values):
            try:
                return handler(self, request, lang, **values)
            except PlatformError as error:
                status = next((code for kind, code in ERROR_STATUS.items() if isinstance(error, kind)), 400)
                retry = {"Retry-After": str(error.details["retry_after"])} if isinstance(error, RateLimited) else None
                return error_page(request, status, "" if status == 404 else error.message, retry)
            except Exception:
                log.exception("page %s failed", request.path)
                return error_page(request, 500)

        http(methods, path)(entrypoint)
        http(methods, "/" + i18n.LANG_RULE + path)(entrypoint)
        return entrypoint

    return decorate


def see_other(lang: str, path: str) -> Response:
    return redirect(i18n.localised(lang, path), 303)


class PublicWeb:
    directory = RpcProxy("directory")
    search = RpcProxy("search")
    limits = RATE_LIMITS
    config = Config()
    security = WebSecurity()

    @property
    def public_url(self) -> str:
        return self.config.get("PUBLIC_URL", "http://localhost:8000").rstrip("/")

    def _optional(self, method, *args):
        """A service's answer for a part of a page that can be left out while the service is down."""
        try:
            return call(method, *args, timeout=PAGE_TIMEOUT)
        except PlatformError:
            return None

    # --- home, about, clusters --------------------------------------------------------------------------------

    @page("/")
    def home(self, request, lang):
        latest = self._optional(self.search.query, {"sort": "newest", "per_page": 6})
        return render("home.html", request=request, stats=self._optional(self.directory.stats),
                      latest=(latest or {}).get("items", []), clusters=_clusters(),
                      social_areas=vocab.SOCIAL_AREAS)

    @page("/about")
    def about(self, request, lang):
        return render("about.html", request=request, clusters=_clusters())

    @page("/privacy")
    def privacy(self, request, lang):
        return render("privacy.html", request=request)

    @page("/clusters")
    def clusters(self, request, lang):
        return render("clusters.html", request=request, clusters=_clusters())

    @page("/clusters/<slug>")
    def cluster(self, request, lang, slug):
        if slug not in vocab.CLUSTERS:
            raise NotFound("No such cluster.")
        state = {"q": "", "filters": {"social_areas": [slug]}, "sort": "newest", "page": 1}
        found = self._optional(self.search.query, {**views.search_params(state), "per_page": 12})
        return render("cluster.html", request=request, cluster=_clusters()[slug], found=found,
                      search_url=views.state_url(i18n.localised(lang, "/search"), state))

    # --- the directory ----------------------------------------------------------------------------------------

    @page("/search")
    def search_page(self, request, lang):
        state = views.search_state(request.args)
        result = call(self.search.query, views.search_params(state), timeout=PAGE_TIMEOUT)
        view = views.search_view(lang, i18n.localised(lang, "/search"), state, result)
        return render("search.html", request=request, state=state, result=result, view=view)

    @page("/<any(organisations,projects):collection>")
    def collection(self, request, lang, collection):
        return see_other(lang, f"/search?kind={KINDS[collection]}")

    @page("/<any(organisations,projects):collection>/<int:record_id>")
    def record(self, request, lang, collection, record_id):
        record = call(self.directory.get_record, KINDS[collection], record_id, timeout=PAGE_TIMEOUT)
        return render("record.html", request=request, record=record,
                      country=views.country_name(lang, record["country"], record["country_name"]),
                      map=views.map_point(record["latitude"], record["longitude"]))

    # --- joining the network ----------------------------------------------------------------------------------

    @page("/join")
    def join(self, request, lang):
        return render("join.html", request=request)

    @page("/join/<any(organisation,project):kind>", "GET,POST")
    def join_form(self, request, lang, kind):
        if request.method == "GET":
            return self._form(request, kind, {})
        values = forms.form_values(request.form)
        try:
            self._check_post(request, "submit")
            body = forms.submission_body(kind, request.form)
            parse_submission(body)  # field errors next to the fields; the directory checks again
            result = send_submission(self.directory, body)
        except (InvalidInput, RateLimited) as error:
            return self._form(request, kind, values, error)
        return see_other(lang, f"/submissions/{result['id']}?token={result['status_token']}&sent=1")

    @page("/records/<int:record_id>/edit", "GET,POST")
    def edit_form(self, request, lang, record_id):
        token = request.args.get("token", "")
        record = call(self.directory.editable_record, record_id, token, timeout=PAGE_TIMEOUT)
        if request.method == "GET":
            return self._form(request, record["kind"], forms.record_values(record), record=record)
        try:
            self._check_post(request, "edit")
            body = {**forms.record_body(record["kind"], request.form), forms.LINKS[record["kind"]]:
                    forms.current_links(record)}
            parse_fields(record["kind"], body)
            result = call(self.directory.propose_edit, record_id, body, token, timeout=PAGE_TIMEOUT)
        except (InvalidInput, RateLimited) as error:
            return self._form(request, record["kind"], forms.form_values(request.form), error, record=record)
        return see_other(lang, f"/submissions/{result['id']}?token={result['status_token']}&sent=1")

    def _check_post(self, request, action: str) -> None:
        csrf.check(request)
        if request.form.get(forms.HONEYPOT):
            raise InvalidInput("Please leave the last field empty.", {forms.HONEYPOT: forms.HONEYPOT_ERROR})
        self.limits.hit(action, request)

    def _form(self, request, kind, values, error: PlatformError | None = None, record=None) -> Response:
        lang = i18n.split_path(request.path)[0]
        errors = forms.field_errors(error.details, lang) if isinstance(error, InvalidInput) else {}
        status = 200 if error is None else (429 if isinstance(error, RateLimited) else 422)
        return render("record_form.html", status, request=request, kind=kind, values=values, errors=errors,
                      error=error, record=record, vocabularies=vocab.VOCABULARIES,
                      countries=sorted(((code, views.country_name(lang, code, name))
                                        for code, name in all_countries().items()), key=lambda item: item[1]))

    @page("/submissions/<submission_id>")
    def submission(self, request, lang, submission_id):
        token = request.args.get("token", "")
        status = call(self.directory.submission_status, submission_id, token, timeout=PAGE_TIMEOUT)
        return render("submission.html", request=request, submission=status, token=token,
                      sent=request.args.get("sent") == "1")

    @page("/submissions/<submission_id>/withdraw", "POST")
    def withdraw(self, request, lang, submission_id):
        csrf.check(request)
        token = request.args.get("token", "")
        call(self.directory.withdraw, submission_id, token, timeout=PAGE_TIMEOUT)
        return see_other(lang, f"/submissions/{submission_id}?token={token}")

    @page("/submissions/<submission_id>/confirm", "GET,POST")
    def confirm(self, request, lang, submission_id):
        """The emailed link opens a page whose button confirms: mail scanners that follow links confirm nothing."""
        token = request.args.get("token", "")
        if request.method == "GET":
            return render("confirm.html", request=request, token=token, confirmed=None)
        csrf.check(request)
        status = call(self.directory.confirm_email, submission_id, token, timeout=PAGE_TIMEOUT)
        return render("confirm.html", request=request, token=token, confirmed=status)

    # --- open data --------------------------------------------------------------------------------------------

    @page("/data")
    def data(self, request, lang):
        return render("data.html", request=request, licence=opendata.LICENCE)

    def _export(self, after_id):
        return call(self.directory.export_published, after_id, 500, timeout=30)

    @http("GET", "/data/<any(organisations,projects):collection>.<any(json,csv):fmt>")
    def download(self, request, collection, fmt):
        kind = KINDS[collection]
        try:
            records = opendata.published(self._export, kind)
            first = next(records, None)  # fails here, with a clear answer, if the directory is down
        except PlatformError as error:
            return json_response(error.to_json(), error.status)
        rest = _chain(first, records)
        if fmt == "json":
            body, mimetype = opendata.json_stream(rest, self.public_url), "application/json"
        else:
            body, mimetype = opendata.csv_stream(kind, rest, self.public_url), "text/csv"
        headers = {**opendata.LICENCE_HEADERS, "Cache-Control": "public, max-age=600",
                   "Content-Disposition": f'inline; filename="{collection}.{fmt}"'}
        return Response(body, mimetype=mimetype, headers=headers)

    @http("GET", "/feeds/<any(organisations,projects):collection>.rss")
    def feed(self, request, collection):
        kind = KINDS[collection]
        try:
            found = call(self.search.query, {"kind": [kind], "sort": "newest", "per_page": FEED_SIZE},
                         timeout=PAGE_TIMEOUT)
            pool = eventlet.GreenPool(8)
            records = [record for record in pool.imap(lambda item: self._optional(
                self.directory.get_record, kind, item["id"]), found["items"]) if record]
        except PlatformError as error:
            return json_response(error.to_json(), error.status)
        title = f"DSI network: new {collection}"
        body = opendata.rss(title, f"{self.public_url}/search?kind={kind}",
                            f"{self.public_url}/feeds/{collection}.rss", records, self.public_url)
        return Response(body, mimetype="application/rss+xml",
                        headers={**opendata.LICENCE_HEADERS, "Cache-Control": "public, max-age=600"})

    @http("GET", "/sitemap.xml")
    def sitemap(self, request):
        pages = SITE_PAGES + [f"/clusters/{slug}" for slug in vocab.CLUSTERS]
        try:
            records = opendata.published(self._export)
            first = next(records, None)
        except PlatformError as error:
            return json_response(error.to_json(), error.status)
        return Response(opendata.sitemap(self.public_url, pages, _chain(first, records)), mimetype="application/xml")

    @http("GET", "/robots.txt")
    def robots(self, request):
        return Response(f"User-agent: *\nDisallow: /submissions/\nDisallow: /records/\n"
                        f"Sitemap: {self.public_url}/sitemap.xml\n", mimetype="text/plain")

    # --- the API's description, static files, and everything else ---------------------------------------------

    @http("GET", "/api/openapi.json")
    def openapi_document(self, request):
        document = openapi.document(self.public_url, type(self))
        return json_response(document, headers={"Cache-Control": "public, max-age=3600"})

    @http("GET", "/static/<path:filename>")
    def static(self, request, filename):
        target = safe_join(str(STATIC), filename)
        if target is None or not Path(target).is_file():
            return error_page(request, 404)
        mimetype = mimetypes.guess_type(target)[0] or "application/octet-stream"
        return Response(Path(target).read_bytes(), mimetype=mimetype,
                        headers={"Cache-Control": "public, max-age=3600"})

    @http("GET", "/<path:anything>")
    def not_found(self, request, anything):
        """Any other address: a JSON error under /api/, the site's 404 page elsewhere."""
        if anything.startswith("api/"):
            return json_response({"error": "NOT_FOUND", "message": f"No API endpoint at /{anything}."}, 404)
        return error_page(request, 404)


def _chain(first, rest):
    if first is not None:
        yield first
        yield from rest


def _clusters() -> dict:
    return {slug: {"slug": slug, "name": vocab.SOCIAL_AREAS[slug], "lead": lead}
            for slug, lead in vocab.CLUSTERS.items()}
