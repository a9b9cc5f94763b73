"""What the pages show, computed from the services' answers: the directory search page's facets, chips and pages
(all of its state lives in the URL), labels in the visitor's language, and the small map of a record.
"""
import math
from urllib.parse import urlencode

from dsi import kinds, vocab
from dsi.validation import comma_list

from ..common import i18n

FACETS = ("kind", "country", "social_areas", "cluster", "technologies", "dsi_focus", "organisation_type",
          "organisation_size")
SORTS = ("relevance", "name", "newest")
ORDERED = ("organisation_size",)
PER_PAGE = 20
MAX_PAGE = 500
FOLDED_AFTER = 8  # a facet's values shown before "Show n more"
KIND_LABELS = {kind.name: kind.label for kind in kinds.KINDS}  # translated by the templates
record_path = kinds.record_path
country_name = i18n.country_name


def term_label(lang: str, facet: str, value: str, label: str | None = None) -> str:
    """The label of a facet value in `lang` (vocabulary labels are in the catalogues; countries come from CLDR)."""
    if facet == "country":
        return country_name(lang, value, label)
    if facet == "kind":
        return i18n.gettext(lang, KIND_LABELS.get(value, value))
    english = label or (vocab.VOCABULARIES[facet].get(value, value) if facet in vocab.VOCABULARIES else value)
    return i18n.gettext(lang, english)


def search_state(args) -> dict:
    """The directory search page's state from its query string; unknown values are ignored, not errors."""
    page = args.get("page", "1")
    return {
        "q": args.get("q", "").strip()[:200],
        "filters": {facet: _values(args, facet) for facet in FACETS if _values(args, facet)},
        "sort": args.get("sort") if args.get("sort") in SORTS else "relevance",
        "page": min(int(page), MAX_PAGE) if page.isdigit() and int(page) > 0 else 1,
    }


def _values(args, facet: str) -> list[str]:
    return list(dict.fromkeys(comma_list(args.getlist(facet))))


def search_params(state: dict) -> dict:
    """The search service's parameters for a page state."""
    return {"q": state["q"], "sort": state["sort"], "page": state["page"], "per_page": PER_PAGE,
            **state["filters"]}


def state_url(path: str, state: dict, **changes) -> str:
    """The address of the search page in `state` with `changes` (q, filters, sort, page) applied."""
    merged = {**state, **changes}
    pairs = [("q", merged["q"])] if merged["q"] else []
    for facet in FACETS:
        pairs.extend((facet, value) for value in merged["filters"].get(facet, []))
    if merged["sort"] != "relevance":
        pairs.append(("sort", merged["sort"]))
    if merged["page"] > 1:
        pairs.append(("page", str(merged["page"])))
    return path + ("?" + urlencode(pairs) if pairs else "")


def without(state: dict, facet: str, value: str) -> dict:
    filters = {name: [v for v in values if not (name == facet and v == value)]
               for name, values in state["filters"].items()}
    return {name: values for name, values in filters.items() if values}


def search_view(lang: str, path: str, state: dict, result: dict) -> dict:
    """Facet groups with checked values and counts, removable chips and paging links for the template."""
    active = state["filters"]
    facets = []
    for facet in FACETS:
        values = result.get("facets", {}).get(facet, [])
        chosen = active.get(facet, [])
        shown = {item["value"] for item in values}
        # a chosen value stays visible (with its count, or 0) so that it can be unticked
        items = [{**item, "label": term_label(lang, facet, item["value"], item.get("label")),
                  "checked": item["value"] in chosen} for item in values]
        items += [{"value": value, "label": term_label(lang, facet, value), "count": 0, "checked": True}
                  for value in chosen if value not in shown]
        if facet in ORDERED:  # sizes read best smallest first, not by count
            order = list(vocab.VOCABULARIES[facet])
            items.sort(key=lambda item: order.index(item["value"]) if item["value"] in order else len(order))
        if items:  # the first 8 shown; more than 10 leave the rest folded, fewer all shown
            folded = len(items) > FOLDED_AFTER + 2
            facets.append({"name": facet, "first": items[:FOLDED_AFTER] if folded else items,
                           "more": items[FOLDED_AFTER:] if folded else []})
    chips = [{"facet": facet, "value": value, "label": term_label(lang, facet, value),
              "remove_url": state_url(path, state, filters=without(state, facet, value), page=1)}
             for facet, values in active.items() for value in values]
    pages = max(1, math.ceil(result.get("total", 0) / PER_PAGE))
    return {
        "facets": facets,
        "chips": chips,
        "clear_url": state_url(path, state, filters={}, page=1),
        "pages": pages,
        "page_links": [{"number": n, "url": state_url(path, state, page=n), "current": n == state["page"]}
                       for n in _page_numbers(state["page"], pages)],
        "previous_url": state_url(path, state, page=state["page"] - 1) if state["page"] > 1 else None,
        "next_url": state_url(path, state, page=state["page"] + 1) if state["page"] < min(pages, MAX_PAGE) else None,
        "did_you_mean_url": (state_url(path, state, q=result["did_you_mean"], page=1)
                             if result.get("did_you_mean") else None),
        "sort_urls": {sort: state_url(path, state, sort=sort, page=1) for sort in SORTS},
    }


def _page_numbers(current: int, pages: int) -> list[int]:
    """First, last and two either side of the current page."""
    pages = min(pages, MAX_PAGE)
    return sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})


# Extent of the small map of a record: Europe and its neighbours, in degrees.
MAP_WEST, MAP_EAST, MAP_SOUTH, MAP_NORTH = -25.0, 45.0, 34.0, 72.0
MAP_WIDTH, MAP_HEIGHT = 280, 200


def map_point(latitude, longitude) -> dict | None:
    """Where a record's point falls on the site's small map (an SVG of Europe's graticule), or None."""
    if latitude is None or longitude is None:
        return None
    x = (longitude - MAP_WEST) / (MAP_EAST - MAP_WEST) * MAP_WIDTH
    y = (MAP_NORTH - latitude) / (MAP_NORTH - MAP_SOUTH) * MAP_HEIGHT
    inside = 0 <= x <= MAP_WIDTH and 0 <= y <= MAP_HEIGHT
    return {
        "x": round(min(max(x, 4), MAP_WIDTH - 4), 1), "y": round(min(max(y, 4), MAP_HEIGHT - 4), 1),
        "inside": inside, "latitude": latitude, "longitude": longitude,
        "width": MAP_WIDTH, "height": MAP_HEIGHT,
        "meridians": [round((lon - MAP_WEST) / (MAP_EAST - MAP_WEST) * MAP_WIDTH, 1) for lon in range(-20, 45, 10)],
        "parallels": [round((MAP_NORTH - lat) / (MAP_NORTH - MAP_SOUTH) * MAP_HEIGHT, 1) for lat in range(40, 71, 10)],
        "osm_url": f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=12/{latitude}/{longitude}",
    }
