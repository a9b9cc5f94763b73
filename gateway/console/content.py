"""The editors' content console (/console/content): lists per kind and state, a form per kind with a Markdown
preview (live with a small script, or with the form's Preview button without one), schedule / publish /
unpublish / archive, revision history with restore, image upload with alt text, and a preview link for drafts.

Every page is a `staff_route` for editors and admins (session, role and CSRF checked by console/staff.py); the
content service checks the staff session again on every change and records who made it."""
import base64
import typing

from werkzeug.utils import redirect

from dsi import kinds
from dsi.errors import Conflict, InvalidInput
from dsi.validation import comma_list

from ..common.http import PayloadTooLarge, RpcProxy, call, json_response, paging
from ..common.templating import render
from .staff import StaffSessions, current_staff, session_value, staff_route

EDITORS = ("editor", "admin")
STATES = ("draft", "scheduled", "published", "unpublished", "archived", "pending", "rejected", "changes_requested",
          "withdrawn")
TRANSITIONS = ("publish", "unpublish", "archive", "schedule")
LONG_TEXT = {"body", "summary", "contact_text", "card_text"}
MAX_IMAGE_BYTES = 5 * 1024 * 1024
# The upload form's body: the image and a little more (its alt text, the CSRF token, the multipart boundaries).
MAX_UPLOAD = (MAX_IMAGE_BYTES + 64 * 1024, "image")
TOO_LARGE = "The image is larger than 5 MB. Choose a smaller file, or save it at a lower resolution or quality."
CHUNK_BYTES = 64 * 1024
KIND_RULE = kinds.name_rule("kind", owner="content")


def _shape(annotation) -> str:
    """How a field is typed in the form: "list" (comma-separated), "bool" (a checkbox), "int" or "text"."""
    for candidate in (annotation, *typing.get_args(annotation)):
        origin = typing.get_origin(candidate)
        if candidate is bool:
            return "bool"
        if origin is list or candidate is list:
            return "list"
        if candidate is int:
            return "int"
        if origin is typing.Annotated and _shape(typing.get_args(candidate)[0]) != "text":
            return _shape(typing.get_args(candidate)[0])
    return "text"


def form_fields(kind: str) -> list[dict]:
    """The fields of a kind's form, in the registry's order, with how each is entered."""
    model = kinds.get(kind).fields_model().model_fields
    return [{"name": name, "shape": "long" if name in LONG_TEXT else _shape(model[name].annotation)}
            for name in kinds.get(kind).form_fields]


def form_body(kind: str, form, current: dict | None = None) -> dict:
    """The posted form as the JSON body content validates; fields the form does not show (images,
    translations) are kept from the current version."""
    body = {name: value for name, value in (current or {}).items() if name not in ("kind",)}
    for field in form_fields(kind):
        name, raw = field["name"], form.get(field["name"], "").strip()
        if field["shape"] == "bool":
            body[name] = bool(form.get(name))
        elif field["shape"] == "list":
            body[name] = comma_list(raw)
        elif not raw:
            body.pop(name, None)  # an emptied field takes its default
        elif field["shape"] == "int":
            body[name] = int(raw) if raw.lstrip("-").isdigit() else raw  # content names a bad number
        else:
            body[name] = raw
    return body


def read_bounded(stream, limit: int) -> bytes:
    """At most `limit` bytes of a stream, read a chunk at a time; PayloadTooLarge as soon as there are more."""
    data = bytearray()
    while chunk := stream.read(CHUNK_BYTES):
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(TOO_LARGE)
    return bytes(data)


def form_values(fields: dict) -> dict:
    """An item's fields as the form shows them."""
    return {name: ", ".join(map(str, value)) if isinstance(value, list) else value
            for name, value in (fields or {}).items()}


class ContentConsole(StaffSessions):
    content = RpcProxy("content")

    def _content_form(self, request, kind, values, item=None, error=None, preview=None, status=200):
        """The form; `edit_version` is the version the editor's copy is of: the one they opened (kept through
        previews and errors), or the latest after a conflict, so that saving again replaces it knowingly."""
        edit_version = (error.details or {}).get("version") if isinstance(error, Conflict) else None
        edit_version = edit_version or request.form.get("edit_version") or (item or {}).get("edit_version")
        return render("console/content/form.html", error.status if error else status, request=request,
                      staff=current_staff(request), kind=kind, fields=form_fields(kind), values=values, item=item,
                      error=error, preview=preview, transitions=TRANSITIONS, done=request.args.get("done"),
                      edit_version=edit_version)

    @staff_route("GET", "/console/content", *EDITORS)
    def content_items(self, request):
        page, per_page = paging(request)
        kind = request.args.get("kind") or None
        state = request.args.get("state") or None
        found = call(self.content.editor_list, session_value(request), kind, state,
                     request.args.get("q") or None, page, per_page)
        return render("console/content/list.html", request=request, staff=current_staff(request), found=found,
                      kinds=kinds.owned_by("content"), states=STATES, kind=kind, state=state,
                      q=request.args.get("q", ""))

    @staff_route("GET,POST", "/console/content/new/" + KIND_RULE, *EDITORS)
    def content_new(self, request, kind):
        if request.method == "GET":
            return self._content_form(request, kind, {})
        body = form_body(kind, request.form)
        if request.form.get("action") == "preview":
            return self._content_form(request, kind, request.form, preview=self._markdown_preview(request, body))
        try:
            item = call(self.content.create, session_value(request), kind, body)
        except (InvalidInput, Conflict) as error:
            return self._content_form(request, kind, request.form, error=error)
        return redirect(f"/console/content/{item['id']}?done=created", 303)

    @staff_route("GET,POST", "/console/content/<int:item_id>", *EDITORS)
    def content_edit(self, request, item_id):
        cookie = session_value(request)
        item = call(self.content.editor_get, cookie, item_id)
        if request.method == "GET":
            return self._content_form(request, item["kind"], form_values(item["fields"]), item=item)
        body = form_body(item["kind"], request.form, item["fields"])
        if request.form.get("action") == "preview":
            return self._content_form(request, item["kind"], request.form, item=item, preview=self._markdown_preview(request, body))
        try:
            call(self.content.update, cookie, item_id, body, request.form.get("edit_version"))
        except (InvalidInput, Conflict) as error:
            return self._content_form(request, item["kind"], request.form, item=item, error=error)
        return redirect(f"/console/content/{item_id}?done=saved", 303)

    def _markdown_preview(self, request, body) -> str:
        return call(self.content.render_preview, session_value(request), body.get("body") or "")["html"]

    @staff_route("POST", "/console/content/preview", *EDITORS)
    def content_preview(self, request):
        """The live preview's HTML of the posted Markdown (the form's script asks for it as you type)."""
        return json_response(call(self.content.render_preview, session_value(request),
                                  request.form.get("markdown", "")))

    @staff_route("POST", "/console/content/<int:item_id>/<any(publish,unpublish,archive,schedule):action>",
                 *EDITORS)
    def content_transition(self, request, item_id, action):
        cookie = session_value(request)
        try:
            if action == "schedule":
                at = (request.form.get("publish_at") or "").strip()
                call(self.content.schedule, cookie, item_id, f"{at}+00:00" if len(at) == 16 else at)
            else:
                call(getattr(self.content, action), cookie, item_id)
        except (InvalidInput, Conflict) as error:
            item = call(self.content.editor_get, cookie, item_id)
            return self._content_form(request, item["kind"], form_values(item["fields"]), item=item, error=error)
        return redirect(f"/console/content/{item_id}?done={action}", 303)

    @staff_route("GET", "/console/content/<int:item_id>/history", *EDITORS)
    def content_history(self, request, item_id):
        cookie = session_value(request)
        return render("console/content/history.html", request=request, staff=current_staff(request),
                      item=call(self.content.editor_get, cookie, item_id),
                      revisions=call(self.content.history, cookie, item_id))

    @staff_route("POST", "/console/content/<int:item_id>/restore/<int:revision_id>", *EDITORS)
    def content_restore(self, request, item_id, revision_id):
        call(self.content.restore, session_value(request), item_id, revision_id)
        return redirect(f"/console/content/{item_id}?done=restored", 303)

    @staff_route("GET,POST", "/console/content/images", *EDITORS, max_body=MAX_UPLOAD)
    def content_images(self, request):
        """An upload whose declared length is over the limit is refused (413) before its body is read; one that
        gets past it is read in chunks, and refused as soon as it is over 5 MB."""
        uploaded, error = None, None
        if request.method == "POST":
            upload = request.files.get("image")
            try:
                data = read_bounded(upload.stream, MAX_IMAGE_BYTES) if upload else b""
                if not data:
                    raise InvalidInput("Choose an image to upload.", {"image": "required"})
                uploaded = call(self.content.upload_image, session_value(request),
                                base64.b64encode(data).decode(), request.form.get("alt", ""), timeout=30)
            except (InvalidInput, PayloadTooLarge) as refused:
                error = refused
        return render("console/content/images.html", error.status if error else 200, request=request,
                      staff=current_staff(request), uploaded=uploaded, error=error)
