"""JSON API of search: full-text, faceted search over published records and content, and suggestions as you type.

GET /api/search?q=&kind=&country=&social_areas=&cluster=&technologies=&dsi_focus=&organisation_type=&organisation_size=
               &sort=relevance|name|newest&page=&per_page=&bbox=minLon,minLat,maxLon,maxLat
    List parameters repeat (?country=ES&country=PL) or take commas (?country=ES,PL).
GET /api/suggest?q=&limit=
See docs/search.md for the answers.
"""

from dsi import kinds, vocab
from dsi.countries import all_countries

from ..common.http import MAX_PER_PAGE, RpcProxy, call, int_arg, json_response, json_route, list_arg
from ..common.openapi import BAD_INPUT, PAGE_PARAMS, UNAVAILABLE, list_param, ok, operation, query, ref

LIST_PARAMS = ("kind", "country", "social_areas", "cluster", "technologies", "dsi_focus", "organisation_type",
               "organisation_size")
SEARCH_TIMEOUT = 5
MAX_PAGE = 100  # × at most 100 per page: the search service's 10,000 results (deeper is a crawl: the export)
SEARCH_PAGE_PARAMS = [query("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                                             "default": 1}), PAGE_PARAMS[1]]
SEARCH_DOC = operation("get", "search", "Full-text, faceted search over published records and content", "search", {
    "200": ok(ref("SearchResult")), "422": BAD_INPUT, "503": UNAVAILABLE}, parameters=[
    query("q", "Words to find; typos are tolerated and the last word matches as a prefix."),
    list_param("kind", "Kinds of record or content (their plurals and URL segments are accepted too).",
               kinds.names()),
    list_param("country", "ISO country codes.", all_countries()),
    list_param("social_areas", "Social area slugs.", vocab.SOCIAL_AREAS),
    list_param("cluster", "Cluster slugs (content's items).", vocab.CLUSTERS),
    list_param("technologies", "Technology slugs.", vocab.TECHNOLOGIES),
    list_param("dsi_focus", "DSI focus slugs.", vocab.DSI_FOCUS),
    list_param("organisation_type", "Organisation type slugs.", vocab.ORGANISATION_TYPES),
    list_param("organisation_size", "Organisation size slugs.", vocab.ORGANISATION_SIZES),
    query("sort", "Order of the items.", {"type": "string", "enum": ["relevance", "name", "newest"],
                                          "default": "relevance"}),
    query("bbox", "Only records inside minLon,minLat,maxLon,maxLat."),
    *SEARCH_PAGE_PARAMS,
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
        if "page" in request.args or "per_page" in request.args:  # bounded here too: never work past the limit
            params["page"] = int_arg(request, "page", 1, 1, MAX_PAGE)
            params["per_page"] = int_arg(request, "per_page", 20, 1, MAX_PER_PAGE)
        params.update({name: list_arg(request, name) for name in LIST_PARAMS if name in request.args})
        return json_response(call(self.search.query, params, timeout=SEARCH_TIMEOUT))

    @json_route("GET", "/api/suggest", openapi={"/api/suggest": SUGGEST_DOC})
    def suggest(self, request):
        limit = int_arg(request, "limit", 8, 1, 20)
        return json_response(call(self.search.suggest, request.args.get("q", ""), limit, timeout=SEARCH_TIMEOUT))
