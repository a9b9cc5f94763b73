"""JSON API of the editorial hub: published stories, case studies, events, funding, resources and cluster pages,
in the platform's list contract (`items` each with id, kind, name, url; total, page, per_page), one item by slug,
with each list page's filters. Answered by the content service."""
import uuid

from dsi import kinds
from dsi.errors import InvalidInput, NotFound
from pydantic import TypeAdapter

from services.content.schemas import SUGGESTIONS, parse_suggestion

from ..common.http import RPC_TIMEOUT, PreconditionRequired, RpcProxy, ServiceUnavailable, call, int_arg, \
    json_body, json_response, json_route
from ..common.openapi import BAD_INPUT, PAGE_PARAMS, PAGING, REF, STAMP, UNAVAILABLE, closed, error, ok, \
    operation, query, ref
from ..console.staff import session_value

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


ITEM_ID_PARAM = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
EDITOR_AUTH = ("For editors and admins: the console's session cookie. The answer's `ETag` (and `edit_version`) "
               "is the version to send back in `If-Match` when saving.")
EDITOR_ITEM = ok({"type": "object", "properties": {"id": {"type": "integer"}, "edit_version": {"type": "integer"},
                                                   "fields": {"type": "object"}, "state": {"type": "string"}},
                  "required": ["id", "edit_version", "fields"], "additionalProperties": True})
EDITORIAL_DOC = {"/api/content/{item_id}": {
    **operation("get", "get_content_item", "One content item of any state, as editors edit it", "content",
                {"200": EDITOR_ITEM, "403": error("Not signed in as an editor or admin."),
                 "404": error("No such item."), "503": UNAVAILABLE},
                description=EDITOR_AUTH, parameters=[ITEM_ID_PARAM]),
    **operation("put", "update_content_item", "Save an item's fields over the version you edited", "content",
                {"200": EDITOR_ITEM, "400": error("The body is not JSON."),
                 "403": error("Not signed in as an editor or admin."), "404": error("No such item."),
                 "409": error("Someone saved the item after the version you edited; nothing was saved."),
                 "413": error("The body is too large."), "422": BAD_INPUT,
                 "428": error("Neither If-Match nor edit_version says which version you edited."),
                 "503": UNAVAILABLE},
                description=EDITOR_AUTH + " The version is required: `If-Match: \"3\"` or `\"edit_version\": 3`.",
                parameters=[ITEM_ID_PARAM, {"name": "If-Match", "in": "header", "required": False,
                                            "schema": {"type": "string"}}],
                requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}),
}}


def editor_answer(item: dict):
    return json_response(item, headers={"ETag": f'"{item["edit_version"]}"', "Cache-Control": "no-store"})


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

    @json_route("GET,PUT", "/api/content/<int:item_id>", openapi=EDITORIAL_DOC)
    def editorial_item(self, request, item_id):
        """An editor's copy of an item, and saving it with optimistic locking: the save names the version it
        was made from, and is refused (409) if anyone saved since."""
        cookie = session_value(request)
        if request.method == "GET":
            return editor_answer(call(self.content.editor_get, cookie, item_id))
        body = json_body(request)
        if not isinstance(body, dict):
            raise InvalidInput("The body is an object of the item's fields.", {"body": "not an object"})
        fields = {name: value for name, value in body.items() if name != "edit_version"}
        version = request.headers.get("If-Match") or body.get("edit_version")
        if version in (None, ""):
            raise PreconditionRequired("Say which version you edited, with If-Match (the ETag you were given) or "
                                       "an edit_version field, so that nobody's later save is overwritten.",
                                       {"edit_version": "required"})
        return editor_answer(call(self.content.update, cookie, item_id, fields, version))
