"""JSON API of search: full-text, faceted search over published records, and suggestions as you type.

GET /api/search?q=&kind=&country=&social_areas=&technologies=&dsi_focus=&organisation_type=&organisation_size=
               &sort=relevance|name|newest&page=&per_page=&bbox=minLon,minLat,maxLon,maxLat
    List parameters repeat (?country=ES&country=PL) or take commas (?country=ES,PL).
GET /api/suggest?q=&limit=
See docs/search.md for the answers.
"""
from nameko.rpc import RpcProxy

from ..common.http import call, int_arg, json_response, json_route, list_arg
from ..common.openapi import BAD_INPUT, PAGE_PARAMS, UNAVAILABLE, list_param, ok, operation, query, ref

LIST_PARAMS = ("kind", "country", "social_areas", "technologies", "dsi_focus", "organisation_type",
               "organisation_size")
SEARCH_TIMEOUT = 5
SEARCH_DOC = operation("get", "search", "Full-text, faceted search over published records", "search", {
    "200": ok(ref("SearchResult")), "422": BAD_INPUT, "503": UNAVAILABLE}, parameters=[
    query("q", "Words to find; typos are tolerated and the last word matches as a prefix."),
    list_param("kind", "organisation or project."),
    list_param("country", "ISO country codes."),
    list_param("social_areas", "Social area slugs."),
    list_param("technologies", "Technology slugs."),
    list_param("dsi_focus", "DSI focus slugs."),
    list_param("organisation_type", "Organisation type slugs."),
    list_param("organisation_size", "Organisation size slugs."),
    query("sort", "Order of the items.", {"type": "string", "enum": ["relevance", "name", "newest"],
                                          "default": "relevance"}),
    query("bbox", "Only records inside minLon,minLat,maxLon,maxLat."),
    *PAGE_PARAMS,
])
SUGGEST_DOC = operation("get", "suggest", "Names that match what is typed so far", "search", {
    "200": ok({"type": "array", "items": ref("Suggestion")}), "422": BAD_INPUT, "503": UNAVAILABLE}, parameters=[
    query("q", "What was typed."),
    query("limit", "At most this many.", {"type": "integer", "minimum": 1, "maximum": 20, "default": 8})])


class SearchApi:
    search = RpcProxy("search")

    @json_route("GET", "/api/search", openapi={"/api/search": SEARCH_DOC})
    def search_records(self, request):
        # passed on as given: the search service checks them all and names every bad one in one answer
        params = {"q": request.args.get("q", ""), "sort": request.args.get("sort") or "relevance",
                  "bbox": request.args.get("bbox") or None}
        params.update({name: request.args[name] for name in ("page", "per_page") if request.args.get(name)})
        params.update({name: list_arg(request, name) for name in LIST_PARAMS if name in request.args})
        return json_response(call(self.search.query, params, timeout=SEARCH_TIMEOUT))

    @json_route("GET", "/api/suggest", openapi={"/api/suggest": SUGGEST_DOC})
    def suggest(self, request):
        limit = int_arg(request, "limit", 8, 1, 20)
        return json_response(call(self.search.suggest, request.args.get("q", ""), limit, timeout=SEARCH_TIMEOUT))
