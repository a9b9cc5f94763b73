"""The editorial hub's public pages, answered from the content service: stories, case studies, events, funding,
resources (lists with each page's filters, and one item by slug), their RSS and iCalendar feeds, uploaded media,
and the original site's addresses, which redirect here.

An item is shown in the visitor's language when it is translated, else in its original language, marked with its
`lang` attribute. A slug an item had before answers 301 to its current one.
"""
import mimetypes
import re
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import nh3
from markupsafe import Markup
from nameko.dependency_providers import Config
from nameko.web.handlers import http
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from dsi import kinds, vocab
from dsi.errors import InvalidInput, PlatformError, RateLimited
from dsi.settings import environment as setting

from ..api.content import send_suggestion
from ..common import csrf, i18n
from ..common.dependencies import RATE_LIMITS, SETTINGS
from ..common.http import RpcProxy, call, error_response, int_arg, token_arg
from ..common.templating import environment, render
from . import forms, opendata
from .pages import PAGE_TIMEOUT, error_page, page

# Content renders Markdown through its allow-list; the page cleans it once more before trusting it as HTML.
environment.filters.setdefault("content_html", lambda html: Markup(nh3.clean(html or "")))
PER_PAGE = 20
FEED_SIZE = 20
LIST_PAGES = {  # segment → (kind, the list's fixed filters, the page's title)
    "stories": ("story", {}, "Stories"),
    "case-studies": ("case_study", {}, "Case studies"),
    "events": ("event", {"when": "upcoming"}, "Upcoming events"),
    "funding": ("funding", {"status": "open"}, "Open funding and support"),
    "resources": ("resource", {}, "Resources"),
}
ARCHIVES = {  # the second list of a kind: /events/past, /funding/closed
    ("events", "past"): ("event", {"when": "past"}, "Past events"),
    ("funding", "closed"): ("funding", {"status": "closed"}, "Closed funding calls"),
}
ITEM_SEGMENTS = '<any(stories,"case-studies",events,funding,resources):segment>'
MEDIA_NAME = re.compile(r"^[a-f0-9]{16,64}\.(jpg|jpeg|png|webp|pdf)$")
TAG = re.compile(r"<[^>]*>")


def page_filters(request, kind: str) -> dict:
    """The visitor's filters a list page honours (the registry's list filters of the kind), and paging."""
    names = {name for name, _ in kinds.get(kind).api_filters} - {"when", "status"}
    filters = {name: value.strip() for name, value in request.args.items() if name in names and value.strip()}
    filters["page"] = int_arg(request, "page", 1, 1, 10_000)
    return filters


def page_links(address: str, filters: dict, page: int, pages: int) -> dict[str, str | None]:
    """The previous and next pages' addresses of a list page at `address` under its filters (None where there is
    none): each filter encoded as a query parameter, the page last."""
    shown = [(name, value) for name, value in filters.items() if name != "page"]
    return {"previous_url": f"{address}?{urlencode([*shown, ('page', page - 1)])}" if page > 1 else None,
            "next_url": f"{address}?{urlencode([*shown, ('page', page + 1)])}" if page < pages else None}


def plain_text(html: str) -> str:
    """Text of an HTML fragment for a feed's description: tags removed (the feed escapes it)."""
    return " ".join(unescape(TAG.sub(" ", html or "")).split())


def feed_response(title: str, link: str, feed_url: str, found: dict, public_url: str) -> Response:
    entries = [{"kind": item["kind"], "id": item["slug"], "name": item["title"],
                "short_description": plain_text(item.get("summary")), "published_at": item.get("published_at")}
               for item in found["items"]]
    return Response(opendata.rss(title, link, feed_url, entries, public_url), mimetype="application/rss+xml",
                    headers={**opendata.LICENCE_HEADERS, "Cache-Control": "public, max-age=600"})


def ics_response(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="{filename}"',
                             "Cache-Control": "public, max-age=600"})


def filter_choices() -> dict:
    """The pickers of the list pages' filter forms (labels in English; the page translates them)."""
    return {"cluster": {slug: vocab.SOCIAL_AREAS[slug] for slug in vocab.CLUSTERS},
            "type_funding": vocab.FUNDING_TYPES, "target": vocab.FUNDING_TARGETS,
            "type_resource": vocab.RESOURCE_TYPES, "category": vocab.STORY_CATEGORIES,
            "attendance": vocab.ATTENDANCE, "language": {code: name for code, name in i18n.LANGUAGES.items()}}


def suggestion_body(kind: str, form) -> dict:
    """A suggestion form as the JSON body content validates: empty fields left out, checkboxes as booleans."""
    text = ("title", "summary", "body", "email", "start", "end", "timezone", "attendance", "venue", "city",
            "country", "price", "registration_url", "organiser", "funder_name", "funder_url", "amount",
            "closes_on", "apply_url")
    body = {"kind": kind}
    body.update({name: form[name].strip() for name in text if form.get(name, "").strip()})
    for flag in ("free", "rolling", "europe_wide"):
        if form.get(flag):
            body[flag] = True
    if kind == "funding":
        body.update({name: form.getlist(name) for name in ("funding_types", "targets") if form.getlist(name)})
        if body.get("country"):
            body["countries"] = [body.pop("country")]
    return body


def suggestion_values(fields: dict) -> dict:
    """A suggestion's stored fields as its form shows them (the inverse of suggestion_body)."""
    values = {name: value for name, value in fields.items() if value is not None}
    if values.get("countries"):
        values["country"] = values.pop("countries")[0]
    for name in ("start", "end"):  # datetime-local takes minutes
        if isinstance(values.get(name), str):
            values[name] = values[name][:16]
    return values


class ContentPages:
    content = RpcProxy("content")
    settings = SETTINGS
    limits = RATE_LIMITS
    media_config = Config()  # MEDIA_DIR: the folder content writes uploads to (config.yml, as content's)

    def _content_list(self, request, lang, kind, fixed, title, segment, path):
        filters = page_filters(request, kind)
        found = call(self.content.list_items, kind, {**filters, **fixed, "lang": lang, "per_page": PER_PAGE},
                     timeout=PAGE_TIMEOUT)
        pages = max(1, -(-found["total"] // PER_PAGE))
        return render("content/list.html", request=request, kind=kind, segment=segment, title=title, found=found,
                      filters=filters, path=path, choices=filter_choices(), pages=pages,
                      **page_links(i18n.localised(lang, path), filters, found["page"], pages))

    @page("/" + ITEM_SEGMENTS)
    def content_list(self, request, lang, segment):
        kind, fixed, title = LIST_PAGES[segment]
        return self._content_list(request, lang, kind, fixed, title, segment, f"/{segment}")

    @page("/" + ITEM_SEGMENTS + "/<slug>")
    def content_item(self, request, lang, segment, slug):
        if (segment, slug) in ARCHIVES:  # /events/past, /funding/closed (no item takes these slugs)
            kind, fixed, title = ARCHIVES[(segment, slug)]
            return self._content_list(request, lang, kind, fixed, title, segment, f"/{segment}/{slug}")
        kind = LIST_PAGES[segment][0]
        item = call(self.content.get_item, kind, slug, lang, timeout=PAGE_TIMEOUT)
        if "redirect" in item:
            return redirect(i18n.localised(lang, item["redirect"]["url"]), 301)
        related = None
        if kind == "case_study" and (item.get("organisation_id") or item.get("project_id")):
            related = [(name, item[f"{name}_id"]) for name in ("organisation", "project") if item.get(f"{name}_id")]
        return render(kinds.get(kind).template("page"), request=request, item=item, kind=kind, segment=segment,
                      kind_label=kinds.get(kind).label, related=related)

    @page("/preview/<token>")
    def content_preview_link(self, request, lang, token):
        """A draft as it will look, through the signed link an editor shares; never indexed."""
        item = call(self.content.preview, token, lang, timeout=PAGE_TIMEOUT)
        segment = kinds.get(item["kind"]).segment
        return render(kinds.get(item["kind"]).template("page"), 200,
                      {"X-Robots-Tag": "noindex", "Cache-Control": "no-store"}, request=request, item=item,
                      kind=item["kind"], segment=segment, kind_label=kinds.get(item["kind"]).label, related=None,
                      preview=True)

    # --- suggestions from the public (no account; moderated, then published) ----------------------------------

    @page("/events/suggest", "GET,POST")
    def suggest_event(self, request, lang):
        return self._suggest(request, lang, "event")

    @page("/funding/suggest", "GET,POST")
    def suggest_funding(self, request, lang):
        return self._suggest(request, lang, "funding")

    @page("/suggestions/<submission_id>/edit", "GET,POST")
    def edit_suggestion(self, request, lang, submission_id):
        """A suggestion the moderators sent back for changes, through the signed link mailed to its suggester:
        the form filled in with what they sent; sending it again puts it back in moderation."""
        token = token_arg(request)
        found = call(self.content.suggestion_for_editing, submission_id, token, timeout=PAGE_TIMEOUT)
        edit = {**found, "path": f"/suggestions/{submission_id}/edit", "token": token}
        if request.method == "GET":
            return self._suggest_form(request, found["kind"], suggestion_values(found["fields"]), edit=edit)
        return self._suggest(request, lang, found["kind"], edit,
                             lambda body: call(self.content.resubmit, submission_id, token, body))

    def _suggest(self, request, lang, kind, edit=None, send=None):
        if request.method == "GET":
            return self._suggest_form(request, kind, {})
        values = {name: request.form.get(name, "") for name in request.form}
        values.update({name: request.form.getlist(name) for name in ("funding_types", "targets")})
        try:
            csrf.check(request)
            if request.form.get(forms.HONEYPOT):
                raise InvalidInput.because("honeypot", {forms.HONEYPOT: forms.HONEYPOT_ERROR})
            self.limits.hit("submit", request)
            body = {**suggestion_body(kind, request.form), "language": lang}  # its mails speak the page's language
            result = send(body) if send else send_suggestion(self.content, body)
        except (InvalidInput, RateLimited) as error:
            return self._suggest_form(request, kind, values, error, edit)
        return redirect(i18n.localised(lang, f"/submissions/{result['id']}?token={result['status_token']}&sent=1"),
                        303)

    def _suggest_form(self, request, kind, values, error=None, edit=None):
        status = 200 if error is None else (429 if isinstance(error, RateLimited) else 422)
        return render("content/suggest.html", status, request=request, kind=kind, values=values, error=error,
                      choices=filter_choices(), edit=edit)

    # --- feeds -------------------------------------------------------------------------------------------------

    @http("GET", "/feeds/<any(stories,events,funding):segment>.rss")
    def content_feed(self, request, segment):
        kind, fixed, title = LIST_PAGES[segment]
        return self._content_feed(f"DSI network: {title.lower()}", f"/{segment}", f"/feeds/{segment}.rss", kind, fixed)

    @http("GET", "/feeds/clusters/<slug>.rss")
    def cluster_feed(self, request, slug):
        if slug not in vocab.CLUSTERS:
            return error_page(request, 404)
        name = vocab.SOCIAL_AREAS[slug]
        return self._content_feed(f"DSI network: stories of the {name} cluster", f"/clusters/{slug}",
                          f"/feeds/clusters/{slug}.rss", "story", {"cluster": slug})

    def _content_feed(self, title, path, feed_path, kind, filters):
        public_url = self.settings.public_url
        try:
            found = call(self.content.list_items, kind, {**filters, "per_page": FEED_SIZE}, timeout=PAGE_TIMEOUT)
        except PlatformError as error:
            return error_response(error)
        return feed_response(title, public_url + path, public_url + feed_path, found, public_url)

    @http("GET", "/events.ics")
    def events_ics(self, request):
        filters = {name: value for name, value in request.args.items()
                   if name in {"country", "attendance", "free", "month", "cluster", "area"} and value.strip()}
        try:
            text = call(self.content.events_ics, filters, timeout=30)
        except PlatformError as error:
            return error_response(error)
        return ics_response(text, "dsi-events.ics")

    @http("GET", "/events/<slug>.ics")
    def event_ics(self, request, slug):
        try:
            text = call(self.content.event_ics, slug, timeout=PAGE_TIMEOUT)
        except PlatformError as error:
            return error_response(error)
        return ics_response(text, f"{slug[:100]}.ics")

    # --- uploaded media ----------------------------------------------------------------------------------------

    @http("GET", "/media/<name>")
    def media(self, request, name):
        """An uploaded image or file: only names content gives (a hash and a known extension), from MEDIA_DIR."""
        if not MEDIA_NAME.match(name):
            return error_page(request, 404)
        target = Path(self.media_config.get("MEDIA_DIR") or setting("MEDIA_DIR") or "var/media") / name
        if not target.is_file():
            return error_page(request, 404)
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response(target.read_bytes(), mimetype=mimetype,
                        headers={"Cache-Control": "public, max-age=31536000, immutable",
                                 "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'; sandbox"})

    # --- the original site's addresses -------------------------------------------------------------------------

    @http("GET", "/blog")
    def old_blog(self, request):
        return redirect("/stories", 301)

    @http("GET", "/blog/<int:old_id>/<slug>")
    def old_blog_post(self, request, old_id, slug):
        return redirect(f"/stories/{_slug(slug)}", 301)

    @http("GET", "/case-study/<path:rest>")
    def old_case_study(self, request, rest):
        last = rest.strip("/").rsplit("/", 1)[-1]
        return redirect(f"/case-studies/{_slug(last)}" if last and not last.isdigit() else "/case-studies", 301)

    @http("GET", "/event/<path:rest>")
    def old_event(self, request, rest):
        return redirect("/events", 301)

    @http("GET", "/open-data-research-and-resources")
    def old_resources(self, request):
        return redirect("/resources", 301)


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:120] or "-"
