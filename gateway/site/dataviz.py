"""What the map, network and groupings pages show, computed from the search service's answers: the filter form
(the directory's facets), the tables that are each view's alternative (and all a browser without JavaScript
shows), the labels the scripts use, and the embed code. The routes (site and API) only call these.
"""
import functools
import json
from urllib.parse import urlencode

import pycountry
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from dsi import kinds, vocab

from ..common import i18n
from ..common.templating import SECURITY_HEADERS
from . import views

VIEWS = ("map", "network", "groupings")
VIEW_PATHS = {"map": "/map", "network": "/map/network", "groupings": "/map/groupings"}
GROUPINGS = ("country", "social_areas", "technologies", "dsi_focus", "organisation_type", "organisation_size",
             "kind", "start_year")
FACET_TITLES = {"kind": "Type of record", "country": "Country", "social_areas": "Social area",
                "technologies": "Technology", "dsi_focus": "DSI focus", "organisation_type": "Organisation type",
                "organisation_size": "Organisation size", "start_year": "Start year"}
# The views draw the directory's records: the directory's facets, without content's cluster.
FACETS = tuple(facet for facet in views.FACETS if facet in FACET_TITLES)
MAX_GROUP_MEMBERS = 12  # names listed per connected group in the network's table
MAX_TABLE_GROUPS = 200
MAP_ATLAS = "/static/vendor/countries-110m.json"  # first; the detailed one once zoomed in
MAP_ATLAS_DETAIL = "/static/vendor/countries-50m.json"
VENDOR_SCRIPTS = {
    "map": ("d3-array", "d3-geo", "topojson-client"),
    "network": ("d3-dispatch", "d3-quadtree", "d3-timer", "d3-force"),
    "groupings": (),
}


def selection(args) -> dict:
    """The directory's filters in a query string (text and facets), as the search page reads them."""
    state = views.search_state(args)
    return {"q": state["q"], "filters": state["filters"]}


def service_params(chosen: dict, **extra) -> dict:
    """The search service's parameters for a selection (map options added by the caller)."""
    params = {"q": chosen["q"], **chosen["filters"]}
    params.update({key: value for key, value in extra.items() if value not in (None, "")})
    return params


def query_string(chosen: dict, **extra) -> str:
    pairs = [("q", chosen["q"])] if chosen["q"] else []
    for facet in FACETS:
        pairs += [(facet, value) for value in chosen["filters"].get(facet, [])]
    pairs += [(key, value) for key, value in extra.items() if value not in (None, "")]
    return urlencode(pairs)


def filter_groups(lang: str, chosen: dict, countries: list[dict]) -> list[dict]:
    """The filter form: every facet with its values in the visitor's language, the chosen ones ticked.
    Countries are those with records (and any chosen one)."""
    picked = chosen["filters"]
    groups = []
    for facet in FACETS:
        if facet == "kind":
            values = [(kind, views.term_label(lang, "kind", kind)) for kind in kinds.names()]
        elif facet == "country":
            codes = list(dict.fromkeys([item["country"] for item in countries] + picked.get("country", [])))
            values = sorted(((code, views.country_name(lang, code)) for code in codes), key=lambda pair: pair[1])
        else:
            values = [(value, views.term_label(lang, facet, value)) for value in vocab.VOCABULARIES[facet]]
        groups.append({"name": facet, "title": FACET_TITLES[facet],
                       "items": [{"value": value, "label": label, "checked": value in picked.get(facet, [])}
                                 for value, label in values]})
    return groups


def country_rows(lang: str, items: list[dict], chosen: dict) -> list[dict]:
    """The map's table: records per country (the search's country facet), each a link to the directory, and per
    million inhabitants (None where the population is unknown)."""
    rows = []
    for item in items:
        narrowed = {"q": chosen["q"], "filters": {**chosen["filters"], "country": [item["country"]]}}
        rows.append({"country": item["country"], "name": views.country_name(lang, item["country"], item.get("name")),
                     "count": item["count"], "per_million": item.get("per_million"),
                     "url": i18n.localised(lang, "/search") + "?" + query_string(narrowed)})
    return rows


@functools.lru_cache(maxsize=1)
def numeric_codes() -> str:
    """ISO 3166-1 numeric codes (the ids of world-atlas' countries) → alpha-2 codes (the platform's), as JSON."""
    return json.dumps({country.numeric: country.alpha_2 for country in pycountry.countries}, sort_keys=True)


# The phrases the scripts show (extracted into the catalogues by gateway/translations/catalogues.py).
SCRIPT_PHRASES = {
    "organisation": "Organisation", "project": "Project", "lead": "lead", "partner": "partner",
    "country": "%(name)s: %(count)s records", "cluster": "%(count)s records here: zoom in",
    "place": "%(count)s records at this place", "records": "%(count)s records",
    "countries_shown": "%(n)s countries on the map", "points_shown": "%(placed)s of %(total)s records are in view",
    "linked": "Linked records (%(n)s)", "open_page": "Open its page", "close": "Close",
    "in_directory": "Show them in the directory", "zoom_in_country": "Zoom in",
    "neighbours": "Linked records (%(n)s)", "found": "%(n)s found", "not_found": "Nothing found",
    "nodes_shown": "%(nodes)s records and %(edges)s links", "group": "Group %(n)s: %(size)s records",
    "loading": "Loading…", "no_population": "No population figure",
}


def labels(lang: str) -> dict:
    """The phrases the scripts show, in the visitor's language; %(…)s are filled in by the script."""
    return {key: str(i18n.gettext(lang, text)) for key, text in SCRIPT_PHRASES.items()}


@functools.lru_cache(maxsize=len(i18n.LANGUAGES))  # every record page carries it: written once per language
def labels_attribute(lang: str) -> Markup:
    """`labels(lang)` as an HTML attribute's value, as `labels(lang)|tojson|forceescape` writes it."""
    return escape(str(htmlsafe_json_dumps(labels(lang), sort_keys=True)))


def embed_url(site_url: str, path: str, query: str) -> str:
    kept = [part for part in query.split("&") if part and not part.startswith("embed=")]
    return f"{site_url}{path}?{'&'.join(kept + ['embed=1'])}"


def grouping_view(lang: str, answer: dict) -> dict:
    """Groups with their label in the visitor's language, a bar as a share of the largest, and the directory's
    address of their records."""
    search = i18n.localised(lang, "/search")
    largest = max((group["count"] for group in answer["groups"]), default=1) or 1

    def label(grouping, value, fallback):
        return str(value) if grouping == "start_year" else views.term_label(lang, grouping, value, fallback)

    groups = []
    for group in answer["groups"]:
        entry = {"value": group["value"], "label": label(answer["by"], group["value"], group["label"]),
                 "count": group["count"], "share": round(100 * group["count"] / largest, 1),
                 "url": f"{search}?{group['search']}" if group.get("search") is not None else None, "then": []}
        inner_largest = max((sub["count"] for sub in group.get("then") or []), default=1) or 1
        for sub in group.get("then") or []:
            entry["then"].append({"label": label(answer["then"], sub["value"], sub["label"]), "count": sub["count"],
                                  "share": round(100 * sub["count"] / inner_largest, 1),
                                  "url": f"{search}?{sub['search']}" if sub.get("search") is not None else None})
        groups.append(entry)
    return {"by": answer["by"], "then": answer["then"], "total": answer["total"], "groups": groups,
            "timeline": answer["by"] == "start_year"}


def network_table(lang: str, graph: dict) -> list[dict]:
    """The network's table: its connected groups, largest first and numbered, with the names of their first
    members."""
    members: dict[int, list[dict]] = {}
    for node in sorted(graph["nodes"], key=lambda node: (-node["degree"], node["name"])):
        listed = members.setdefault(node["group"], [])
        if len(listed) < MAX_GROUP_MEMBERS:
            listed.append({"name": node["name"], "kind": node["kind"], "url": i18n.localised(lang, node["path"]),
                           "degree": node["degree"]})
    return [{**group, "number": number, "members": members.get(group["id"], [])}
            for number, group in enumerate(graph["groups"][:MAX_TABLE_GROUPS], start=1)]


# --- whole pages -----------------------------------------------------------------------------------------------

def view_options(args, view: str) -> dict:
    """The view's own parameters from a query string, passed on to the search service as they are (it checks
    them): the network's `linked` and `limit`, the groupings' `by` and `then`."""
    if view == "network":
        return {"linked": args.get("linked") == "1", "limit": args.get("limit") or None}
    if view == "groupings":
        return {"by": args.get("by") or "country", "then": args.get("then") or None}
    return {}


def page_context(lang: str, view: str, args, raw_query: str, site_url: str, countries: list[dict]) -> dict:
    """What every view's template needs besides its own data (see templates/map/_parts.html)."""
    chosen = selection(args)
    kept = "&".join(part for part in raw_query.split("&") if part and not part.startswith("embed="))
    return {
        "view": view, "embed": args.get("embed") == "1", "chosen": chosen, "query": query_string(chosen),
        "groups": filter_groups(lang, chosen, countries), "labels": labels(lang),
        "embed_src": embed_url(site_url, i18n.localised(lang, VIEW_PATHS[view]), kept),
        "full_query": f"?{kept}" if kept else "", "vendor_scripts": VENDOR_SCRIPTS[view],
    }


def map_page(lang: str, args, raw_query: str, site_url: str, countries: dict) -> dict:
    chosen = selection(args)
    rows = country_rows(lang, countries["items"], chosen)
    return {**page_context(lang, "map", args, raw_query, site_url, countries["items"]),
            "rows": rows, "total": sum(row["count"] for row in rows), "numeric": numeric_codes(), "atlas": MAP_ATLAS,
            "atlas_detail": MAP_ATLAS_DETAIL}


def network_page(lang: str, args, raw_query: str, site_url: str, countries: dict, graph: dict) -> dict:
    options = view_options(args, "network")
    return {**page_context(lang, "network", args, raw_query, site_url, countries["items"]),
            "graph": graph, "table": network_table(lang, graph), "linked": options["linked"],
            "limit": options["limit"] or DEFAULT_NETWORK_NODES}


def groupings_page(lang: str, args, raw_query: str, site_url: str, countries: dict, answer: dict) -> dict:
    choices = [(grouping, str(i18n.gettext(lang, FACET_TITLES[grouping]))) for grouping in GROUPINGS]
    return {**page_context(lang, "groupings", args, raw_query, site_url, countries["items"]),
            "grouped": grouping_view(lang, answer), "choices": choices}


DEFAULT_NETWORK_NODES = 5000


def frame_policy(embed: bool) -> dict:
    """The headers that decide who may frame a view: only the embed variant (?embed=1) may be framed, by any
    site; every other page keeps the site's `frame-ancestors 'none'` (and X-Frame-Options: DENY)."""
    if not embed:
        return {}
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace("frame-ancestors 'none'", "frame-ancestors *")
    return {"Content-Security-Policy": policy}
