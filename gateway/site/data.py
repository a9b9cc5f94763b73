"""Open data of the site: published records as JSON and CSV downloads, RSS feeds of new records, the sitemap,
robots.txt; and the static files and the answer for any unknown address. (The streams themselves are built by
opendata.py, which knows no nameko.)"""
import itertools
import mimetypes
from pathlib import Path

import eventlet
from nameko.web.handlers import http
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from dsi import kinds, vocab
from dsi.errors import PlatformError

from ..common.dependencies import SETTINGS
from ..common.http import (ANY_METHOD, CATCH_ALL, RpcProxy, allowed_methods, call, drain, error_response,
                           json_response, method_not_allowed, optional)
from ..common.templating import render
from . import opendata
from .pages import DIRECTORY_SEGMENTS, PAGE_TIMEOUT, error_page, page

STATIC = Path(__file__).resolve().parents[1] / "static"
FEED_SIZE = 20
# Pages of the site besides records, for the sitemap.
SITE_PAGES = ["/", "/search", "/clusters", "/join", "/about", "/privacy", "/data"]
# The editorial hub's list pages (a cluster's page is listed with the clusters).
CONTENT_PAGES = [f"/{kind.segment}" for kind in kinds.owned_by("content") if kind.name != "cluster"] \
    + ["/events/past", "/funding/closed"]


class OpenData:
    directory = RpcProxy("directory")
    content = RpcProxy("content")
    search = RpcProxy("search")
    settings = SETTINGS

    @property
    def public_url(self) -> str:
        return self.settings.public_url

    @page("/data")
    def data(self, request, lang):
        return render("data.html", request=request, licence=opendata.LICENCE)

    def _export(self, after_id):
        return call(self.directory.export_published, after_id, 500, timeout=30)

    @http("GET", "/data/" + DIRECTORY_SEGMENTS + ".<any(json,csv):fmt>")
    def download(self, request, collection, fmt):
        kind = kinds.by_segment(collection).name
        try:
            records = opendata.published(self._export, kind)
            first = next(records, None)  # fails here, with a clear answer, if the directory is down
        except PlatformError as error:
            return error_response(error)
        rest = _chain(first, records)
        if fmt == "json":
            body, mimetype = opendata.json_stream(rest, self.public_url), "application/json"
        else:
            body, mimetype = opendata.csv_stream(kind, rest, self.public_url), "text/csv"
        headers = {**opendata.LICENCE_HEADERS, "Cache-Control": "public, max-age=600",
                   "Content-Disposition": f'inline; filename="{collection}.{fmt}"'}
        return Response(body, mimetype=mimetype, headers=headers)

    @http("GET", "/feeds/" + DIRECTORY_SEGMENTS + ".rss")
    def feed(self, request, collection):
        kind = kinds.by_segment(collection).name
        try:
            found = call(self.search.query, {"kind": [kind], "sort": "newest", "per_page": FEED_SIZE},
                         timeout=PAGE_TIMEOUT)
            pool = eventlet.GreenPool(8)
            records = [record for record in pool.imap(lambda item: optional(
                self.directory.get_record, kind, item["id"]), found["items"]) if record]
        except PlatformError as error:
            return error_response(error)
        title = f"DSI network: new {collection}"
        body = opendata.rss(title, f"{self.public_url}/search?kind={kind}",
                            f"{self.public_url}/feeds/{collection}.rss", records, self.public_url)
        return Response(body, mimetype="application/rss+xml",
                        headers={**opendata.LICENCE_HEADERS, "Cache-Control": "public, max-age=600"})

    @http("GET", "/sitemap.xml")
    def sitemap(self, request):
        pages = SITE_PAGES + CONTENT_PAGES + [f"/clusters/{slug}" for slug in vocab.CLUSTERS]
        try:  # each owner's first page before the answer starts: an owner that is down gets a clear 503
            records = opendata.published(self._export)
            items = opendata.published(lambda after: call(self.content.export_published, after, 500, timeout=30))
            first_record, first_item = next(records, None), next(items, None)
        except PlatformError as error:
            return error_response(error)
        return Response(opendata.sitemap(self.public_url, pages, itertools.chain(
            _chain(first_record, records), _chain(first_item, items))), mimetype="application/xml")

    @http("GET", "/robots.txt")
    def robots(self, request):
        return Response(f"User-agent: *\nDisallow: /submissions/\nDisallow: /records/\n"
                        f"Sitemap: {self.public_url}/sitemap.xml\n", mimetype="text/plain")

    # --- static files, and everything else ---------------------------------------------------------------------

    @http("GET", "/static/<path:filename>")
    def static(self, request, filename):
        target = safe_join(str(STATIC), filename)
        if target is None or not Path(target).is_file():
            return error_page(request, 404)
        mimetype = mimetypes.guess_type(target)[0] or "application/octet-stream"
        return Response(Path(target).read_bytes(), mimetype=mimetype,
                        headers={"Cache-Control": "public, max-age=3600"})

    @http(ANY_METHOD, CATCH_ALL)
    def not_found(self, request, anything):
        """Any other address: a JSON error under /api/, the site's 404 page elsewhere; a method an address does
        not take: 405 naming those it takes (Allow)."""
        allowed = allowed_methods(type(self), request.path)
        if allowed:
            return method_not_allowed(allowed, anything.startswith("api/"), lambda: error_page(request, 405))
        if request.method != "GET":
            drain(request)
        if anything.startswith("api/"):
            return json_response({"error": "NOT_FOUND", "message": f"No API endpoint at /{anything}."}, 404)
        return error_page(request, 404)


def _chain(first, rest):
    if first is not None:
        yield first
        yield from rest
