"""JSON API of the editorial hub: published stories, case studies, events, funding, resources and cluster pages,
in the platform's list contract (`items` each with id, kind, name, url; total, page, per_page), one item by slug,
with each list page's filters. Answered by the content service."""
import uuid

from nameko.rpc import RpcProxy

from dsi import kinds
from dsi.errors import NotFound
from pydantic import TypeAdapter

from services.content.schemas import SUGGESTIONS, parse_suggestion

from ..common.http import RPC_TIMEOUT, ServiceUnavailable, call, int_arg, json_response, json_route
from ..common.openapi import BAD_INPUT, PAGE_PARAMS, PAGING, REF, STAMP, UNAVAILABLE, closed, error, ok, \
    operation, query, ref

CONTENT = kinds.owned_by("content")
SEGMENTS = kinds.segment_rule("collection", owner="content")
MAX_PER_PAGE = 100
LANG_PARAM = query("lang", "The visitor's language: translated items answer in it, others in their original "
                   "language (`lang` says which).", {"type": "string"})
SUGGESTIBLE = ("event", "funding")  # kinds the public may suggest: content's, through moderation
SLUG_PARAM = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}

TERM = {"anyOf": [closed({"value": {"type": "string"}, "label": {"type": "string"}}), {"type": "null"}]}
CONTENT_ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string", "enum": [kind.name for kind in CONTENT]},
        "name": {"type": "string"}, "title": {"type": "string"}, "slug": {"type": "string"},
        "url": {"type": "string"}, "lang": {"type": "string"}, "original_lang": {"type": "string"},
        "languages": {"type": "array", "items": {"type": "string"}}, "summary": {"type": "string"},
        "cluster": TERM, "social_areas": {"type": "array", "items": TERM}, "images": {"type": "array"},
        "published_at": STAMP, "updated_at": STAMP, "version": {"type": "integer"},
        "body_html": {"type": "string", "description": "Sanitised HTML rendered from Markdown (one item only)."},
    },
    "required": ["id", "kind", "name", "url", "slug", "lang"],
    "additionalProperties": True,  # each kind adds its own fields (dates, venue, funder…)
}


def _list_doc(kind: kinds.Kind) -> dict:
    filters = [query(name, description, {"type": "string"}) for name, description in kind.api_filters]
    schema = closed({"items": {"type": "array", "items": ref("ContentItem")}, **PAGING})
    return operation("get", f"list_{kind.plural}", f"Published {kind.label.lower()}", "content",
                     {"200": ok(schema), "422": BAD_INPUT, "503": UNAVAILABLE},
                     parameters=filters + [LANG_PARAM] + PAGE_PARAMS)


def _one_doc(kind: kinds.Kind) -> dict:
    return operation("get", f"get_{kind.name}", f"One published {kind.label_one.lower()}, by slug", "content",
                     {"200": ok(ref("ContentItem")), "301": {"description": "The slug changed: see Location."},
                      "404": error(f"No published {kind.label_one.lower()} with this slug.")},
                     parameters=[SLUG_PARAM, LANG_PARAM])


def list_filters(request, kind: kinds.Kind) -> dict:
    filters = {name: request.args[name] for name, _ in kind.api_filters if request.args.get(name)}
    filters["page"] = int_arg(request, "page", 1, 1, 10_000)
    filters["per_page"] = int_arg(request, "per_page", 20, 1, MAX_PER_PAGE)
    if request.args.get("lang"):
        filters["lang"] = request.args["lang"]
    return filters


def suggestion_schemas() -> dict:
    """JSON Schemas of the suggestion bodies, straight from content's models (EventSuggestion, FundingSuggestion)."""
    schemas = {}
    for kind, model in SUGGESTIONS.items():
        schema = TypeAdapter(model).json_schema(ref_template=REF, mode="validation")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def send_suggestion(content, body: dict) -> dict:
    """A public suggestion of an event or a funding call, checked at the edge with content's own schema."""
    parse_suggestion(body)
    return call(content.submit, body, str(uuid.uuid4()))


def by_owner(api, method: str, submission_id: str, token: str, timeout: float = RPC_TIMEOUT) -> dict:
    """A submission's status, confirmation or withdrawal from whichever service holds it: the directory
    (records) or, when it knows no such submission, content (suggestions of events and funding)."""
    try:
        return call(getattr(api.directory, method), submission_id, token, timeout=timeout)
    except NotFound as unknown:
        try:
            return call(getattr(api.content, method), submission_id, token, timeout=timeout)
        except ServiceUnavailable:  # content is not running: for the directory, there is no such submission
            raise unknown from None


class ContentApi:
    content = RpcProxy("content")
    openapi_schemas = {"ContentItem": CONTENT_ITEM, **suggestion_schemas()}

    @json_route("GET", "/api/" + SEGMENTS, openapi={f"/api/{kind.segment}": _list_doc(kind) for kind in CONTENT})
    def list_content(self, request, collection):
        kind = kinds.by_segment(collection)
        return json_response(call(self.content.list_items, kind.name, list_filters(request, kind)))

    @json_route("GET", "/api/" + SEGMENTS + "/<slug>",
                openapi={f"/api/{kind.segment}/{{slug}}": _one_doc(kind) for kind in CONTENT})
    def get_content(self, request, collection, slug):
        kind = kinds.by_segment(collection)
        item = call(self.content.get_item, kind.name, slug, request.args.get("lang") or None)
        if "redirect" in item:
            return json_response({"moved_to": item["redirect"]["url"]}, 301,
                                 {"Location": "/api" + item["redirect"]["url"]})
        return json_response(item)
