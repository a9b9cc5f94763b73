"""JSON API of search: full-text, faceted search over published records, and suggestions as you type.

GET /api/search?q=&kind=&country=&social_areas=&technologies=&dsi_focus=&organisation_type=&organisation_size=
               &sort=relevance|name|newest&page=&per_page=&bbox=minLon,minLat,maxLon,maxLat
    List parameters repeat (?country=ES&country=PL) or take commas (?country=ES,PL).
GET /api/suggest?q=&limit=
See docs/search.md for the answers.
"""
from nameko.rpc import RpcProxy
from nameko.web.handlers import http

from .http import api, call, int_arg, json_response, list_arg

LIST_PARAMS = ("kind", "country", "social_areas", "technologies", "dsi_focus", "organisation_type",
               "organisation_size")
SEARCH_TIMEOUT = 5


class SearchApi:
    search = RpcProxy("search")

    @http("GET", "/api/search")
    @api
    def search_records(self, request):
        # passed on as given: the search service checks them all and names every bad one in one answer
        params = {"q": request.args.get("q", ""), "sort": request.args.get("sort") or "relevance",
                  "bbox": request.args.get("bbox") or None}
        params.update({name: request.args[name] for name in ("page", "per_page") if request.args.get(name)})
        params.update({name: list_arg(request, name) for name in LIST_PARAMS if name in request.args})
        return json_response(call(self.search.query, params, timeout=SEARCH_TIMEOUT))

    @http("GET", "/api/suggest")
    @api
    def suggest(self, request):
        limit = int_arg(request, "limit", 8, 1, 20)
        return json_response(call(self.search.suggest, request.args.get("q", ""), limit, timeout=SEARCH_TIMEOUT))
