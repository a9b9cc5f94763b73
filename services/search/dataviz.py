"""The picture of DSI in Europe, from the search index: the map (records and clusters as GeoJSON, counts per
country), the network of organisations and projects, and groupings.

Every answer filters exactly as a search does (the same parameters, parsed by schemas.parse_params, and the same
backend query), so the map's counts are the directory's counts. Every input is bounded: the work of an answer
depends on the size of the view and on fixed limits, never on a number the caller chose freely.
Plain Python over a backend; nothing here knows nameko.
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dsi import countries, kinds
from dsi.errors import InvalidInput, NotFound
from dsi.validation import field_errors

from . import tiles
from .backends import Backend, Find
from .engine import facet_label
from .models import FACETS
from .schemas import SearchParams, parse_params
from .text import Terms

MAX_ZOOM = 20  # the map's closest zoom; beyond tiles.MAX_LEVEL - CELL_LEVELS records group by position
CELL_LEVELS = 2  # a cluster cell is a tile two levels down: 64 of the map's 256 pixels a tile
MAX_VIEW_PIXELS = 4096  # a box may be at most this many pixels wide and high at its zoom
MAX_CELLS = 2_000  # clusters in one answer (a 4096-pixel square holds 4,096 cells of 64 pixels)
MAX_LINKS_SHOWN = 25  # linked records in a point's panel
MAX_NODES = 20_000  # records in one network answer
DEFAULT_NODES = 5_000
RECORD_NETWORK_NODES = 200  # a record's own network: itself, its links and theirs
GROUPINGS = ("country", "social_areas", "technologies", "dsi_focus", "organisation_type", "organisation_size",
             "kind", "start_year")
MAX_GROUPS = 300  # more than any grouping has values (countries: 250)
MAX_SUBGROUPS = 60  # within each group: the largest
RECORD_PATHS = {"organisation": "/organisations/", "project": "/projects/"}
FILTER_PARAMS = ("q", *FACETS)


class MapOptions(BaseModel):
    """What the map, network and groupings take besides a search's filters."""
    model_config = ConfigDict(extra="forbid")

    zoom: int = Field(2, ge=0, le=MAX_ZOOM)
    limit: int = Field(DEFAULT_NODES, ge=1, le=MAX_NODES)
    linked: bool = False  # network: only records with a link
    by: str = "country"
    then: str | None = None

    @field_validator("by")
    @classmethod
    def _by(cls, value):
        if value not in GROUPINGS:
            raise ValueError(f"expected one of {', '.join(GROUPINGS)}")
        return value

    @field_validator("then", mode="before")
    @classmethod
    def _then(cls, value, info):
        if value in ("", None):
            return None
        if value not in GROUPINGS or value == info.data.get("by"):
            raise ValueError(f"expected another of {', '.join(GROUPINGS)}")
        return value


@dataclass
class Selection:
    search: SearchParams
    options: MapOptions

    def find(self, bbox: bool = True) -> Find:
        return Find(terms=Terms(self.search.q), filters=self.search.filters,
                    bbox=self.search.bbox if bbox else None, limit=0)


def parse(params) -> Selection:
    """A search's parameters (text, facets, bbox) plus the map's options, each checked; InvalidInput names every
    bad field at once."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidInput("Map parameters must be an object.", {"_": "expected an object"})
    own = {key: params[key] for key in MapOptions.model_fields if key in params}
    rest = {key: value for key, value in params.items() if key not in own}
    details = {}
    try:
        options = MapOptions.model_validate(own)
    except ValidationError as error:
        details.update({key or "_": message for key, message in field_errors(error).items()})
        options = None
    for key in ("sort", "page", "per_page"):
        if key in rest:
            details[key] = "not a map parameter"
    try:
        search = parse_params(rest)
    except InvalidInput as error:
        details.update(error.details or {})
        search = None
    if details:
        raise InvalidInput("The map has invalid parameters.", details)
    return Selection(search, options)


def _view_pixels(bbox, zoom: int) -> tuple[float, float]:
    """How many pixels wide and high the box is on the map at `zoom`."""
    world = 256 * (1 << zoom)
    width = sum(high - low for low, high in bbox.lon_ranges) / 360 * world
    height = (tiles.mercator_y(bbox.min_lat) - tiles.mercator_y(bbox.max_lat)) * world
    return width, height


def _check_view(selection: Selection) -> None:
    bbox, zoom = selection.search.bbox, selection.options.zoom
    if bbox is None:
        if 256 * (1 << zoom) > MAX_VIEW_PIXELS:
            raise InvalidInput("A map closer than zoom 4 needs a bbox.",
                               {"bbox": "required from zoom 5: minLon,minLat,maxLon,maxLat"})
        return
    width, height = _view_pixels(bbox, zoom)
    if width > MAX_VIEW_PIXELS or height > MAX_VIEW_PIXELS:
        raise InvalidInput("The bbox is too large for the zoom.",
                           {"bbox": f"at zoom {zoom} a bbox spans at most {MAX_VIEW_PIXELS} pixels each way "
                                    f"(this one: {width:.0f} × {height:.0f}); zoom out or send a smaller box"})


class AnswerCache:
    """Answers by (question, index revision, parameters): the same view asked again (every visitor's first view
    of the map) costs a lookup until the index changes. Keyed by the parameters as parsed, so that "linked=1"
    and `linked: true` are one question. Bounded in entries (a network of 10,000 nodes holds ~3 MB)."""

    def __init__(self, size: int = 64):
        self.size = size
        self._answers: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def answer(self, backend: Backend, question: str, params, compute):
        revision = backend.revision()
        if revision is None:
            return compute(backend, params)
        selection = parse(params)
        key = (question, revision, selection.search.model_dump_json(), selection.options.model_dump_json())
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        answer = compute(backend, params)
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
        return answer


# --- the map ---------------------------------------------------------------------------------------------------

def map_features(backend: Backend, params) -> dict:
    """Records and clusters in the view as a GeoJSON FeatureCollection: a feature per grid cell holding records
    (64 pixels at the zoom), with `properties.count`; a cell of one record is that record; records at one
    position stay one feature, `co_located`, however close the zoom."""
    selection = parse(params)
    _check_view(selection)
    zoom = selection.options.zoom
    find = selection.find()
    grid = backend.grid(find, zoom + CELL_LEVELS, MAX_CELLS)
    features = [_feature(cell) for cell in grid.cells]
    return {
        "type": "FeatureCollection",
        "features": features,
        "zoom": zoom,
        "placed": grid.placed,  # matching records with a position in the view
        "total": backend.count(selection.find(bbox=False)),  # matching records anywhere, with a position or not
        "truncated": grid.truncated,
    }


def _feature(cell: dict) -> dict:
    record = cell.get("record")
    if record is not None:
        item = record["item"]
        coordinates = [item["longitude"], item["latitude"]]
        properties = {"count": 1, "cluster": False, **record_summary(item),
                      "links": record.get("links", [])[:MAX_LINKS_SHOWN], "link_count": len(record.get("links", []))}
    else:
        coordinates = [round(cell["longitude"], 6), round(cell["latitude"], 6)]
        properties = {"count": cell["count"], "cluster": True, "co_located": cell["co_located"]}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coordinates}, "properties": properties}


def record_summary(item: dict) -> dict:
    return {"id": item["id"], "kind": item["kind"], "name": item["name"], "city": item.get("city") or "",
            "country": item.get("country"), "country_name": item.get("country_name"),
            "summary": item.get("short_description") or "", "path": RECORD_PATHS[item["kind"]] + str(item["id"])}


def country_counts(backend: Backend, params) -> dict:
    """Matching records per country: the search's own `country` facet for the same parameters (which, as every
    facet, ignores its own selection), with the country's population and the count per million inhabitants
    (both None where GeoNames has no population)."""
    selection = parse(params)
    find = selection.find()
    find.facets = ("country",)
    counts = backend.find(find).facets.get("country", {})
    items = []
    for code, count in counts.items():
        if count:
            inhabitants = countries.population(code)
            items.append({"country": code, "name": facet_label("country", code), "count": count,
                          "population": inhabitants, "per_million": countries.per_million(count, inhabitants)})
    items.sort(key=lambda item: (-item["count"], item["country"]))
    return {"items": items}


# --- the network -----------------------------------------------------------------------------------------------

def network(backend: Backend, params) -> dict:
    """Organisations and projects that match, as one graph: nodes, the links between them with their roles, and
    the connected groups (largest first) each node belongs to. At most `limit` records (by id). Without a kind
    filter, the directory's kinds: content's items have no links to draw."""
    if isinstance(params, dict) and not params.get("kind"):
        params = {**params, "kind": list(kinds.names("directory"))}
    selection = parse(params)
    find = selection.find()
    limit = selection.options.limit
    records = backend.records([], find=find, limit=limit, brief=True)
    total = backend.count(find)
    return {**_graph(records, selection.options.linked), "total": total, "truncated": total > len(records)}


def record_network(backend: Backend, record_id) -> dict:
    """A record's own network: the record, the records linked to it and those linked to them."""
    if isinstance(record_id, bool) or not isinstance(record_id, int) or record_id < 1:
        raise InvalidInput("record_id must be a positive number.", {"record_id": "expected a positive number"})
    records = backend.records([record_id], brief=True)
    if not records:
        raise NotFound(f"No published record {record_id}.")
    frontier = [record_id]
    for _depth in range(2):  # its links, then theirs; a link counts from either side (see _graph)
        room = RECORD_NETWORK_NODES - len(records)
        wanted = [link["id"] for known in frontier for link in records[known].get("links", []) if link["id"] not in records]
        found = backend.records(list(dict.fromkeys(wanted))[:room], brief=True) if wanted and room > 0 else {}
        if len(found) < room:  # records whose links name these (their own links may be older)
            for key, value in backend.records(frontier, limit=room + len(records), naming=True,
                                                  brief=True).items():
                if key not in records and key not in found and len(found) < room:
                    found[key] = value
        if not found:
            break
        records.update(found)
        frontier = list(found)
    graph = _graph(records, linked_only=False)
    return {**graph, "record": record_id}


def _graph(records: dict[int, dict], linked_only: bool) -> dict:
    """Nodes, edges and connected groups of `records` (id → {"item", "links"}). A link counts when either of
    its records names it (a record's links are those at its last publication); the organisation's role wins."""
    edges: dict[tuple[int, int], str | None] = {}
    for record_id, record in records.items():
        kind = record["item"]["kind"]
        for link in record.get("links", []):
            if link["id"] not in records or link["id"] == record_id:
                continue
            pair = (record_id, link["id"]) if kind == "organisation" else (link["id"], record_id)
            if kind == "organisation" or pair not in edges:
                edges[pair] = link.get("role")
    degree = dict.fromkeys(records, 0)
    parent = {record_id: record_id for record_id in records}

    def root(node):
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for source, target in edges:
        degree[source] += 1
        degree[target] += 1
        parent[root(source)] = root(target)
    shown = [record_id for record_id in records if degree[record_id] or not linked_only]
    members: dict[int, list[int]] = {}
    for record_id in shown:
        members.setdefault(root(record_id), []).append(record_id)
    ordered = sorted(members.values(), key=lambda group: (-len(group), min(group)))
    group_of = {record_id: number for number, group in enumerate(ordered) for record_id in group}
    groups = []
    for number, group in enumerate(ordered):
        kinds = [records[record_id]["item"]["kind"] for record_id in group]
        groups.append({"id": number, "size": len(group), "organisations": kinds.count("organisation"),
                       "projects": kinds.count("project")})
    nodes = []
    for record_id in sorted(shown):
        item = records[record_id]["item"]
        nodes.append({"id": record_id, "kind": item["kind"], "name": item["name"], "country": item.get("country"),
                      "degree": degree[record_id], "group": group_of[record_id],
                      "path": RECORD_PATHS[item["kind"]] + str(record_id)})
    return {"nodes": nodes,
            "edges": [{"source": source, "target": target, "role": role} for (source, target), role in edges.items()],
            "groups": groups}


# --- groupings -------------------------------------------------------------------------------------------------

def groupings(backend: Backend, params) -> dict:
    """Matching records grouped `by` a facet or start year, optionally `then` by another within each group;
    each group with the directory's address of its records."""
    selection = parse(params)
    by, then = selection.options.by, selection.options.then
    find = selection.find()
    counted = backend.groups(find, by, then, MAX_GROUPS)
    search_query = _search_queries(selection.search)
    groups = []
    for value, group in counted.items():
        entry = {"value": value, "label": _label(by, value), "count": group["count"],
                 "search": search_query({by: value})}
        if then:
            inner = sorted(group["then"].items(), key=lambda pair: _order(then, pair))[:MAX_SUBGROUPS]
            entry["then"] = [{"value": sub, "label": _label(then, sub), "count": count,
                              "search": search_query({by: value, then: sub})}
                             for sub, count in inner]
        groups.append(entry)
    groups.sort(key=lambda entry: _order(by, (entry["value"], entry["count"])))
    return {"by": by, "then": then, "total": backend.count(find), "groups": groups}


def _order(grouping: str, pair) -> tuple:
    value, count = pair
    return (value, 0) if grouping == "start_year" else (-count, str(value))  # a timeline reads in time order


def _label(grouping: str, value) -> str:
    return str(value) if grouping == "start_year" else facet_label(grouping, value)


def _search_queries(search: SearchParams):
    """What gives the directory search's query string for these filters narrowed to a group (None where the
    directory has no such filter: start year). The filters' part is encoded once: a grouping in two levels asks
    for hundreds of these."""
    filters = search.filters
    encoded = {facet: urlencode([(facet, value) for value in filters.get(facet, [])]) for facet in FACETS}
    text = urlencode([("q", search.q)]) if search.q else ""

    def search_query(extra: dict) -> str | None:
        if "start_year" in extra:
            return None
        parts = [text] if text else []
        for facet in FACETS:
            if facet in extra:
                parts.append(f"{facet}={quote_plus(str(extra[facet]))}")
            elif encoded[facet]:
                parts.append(encoded[facet])
        return "&".join(parts)
    return search_query
