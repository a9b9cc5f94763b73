"""Server-rendered pages: one jinja2 environment (autoescaped, translated) and the security headers every
response carries (see gateway/security.py, which adds them to every answer of the gateway).

Templates translate with `{{ _("Text") }}` / `{% trans %}`; the language is the `lang` of the context, so one
environment serves every language at once. `url("/search")` gives a page's address in the current language, and
`error|field_errors` the fields an error names with their messages in it (every form shows its errors so).
Pass `request=` to `render` and the page also learns its language and address from the request (for the
language switcher and hreflang links) and can put `{{ csrf_field() }}` in its forms.
"""
import html
from functools import lru_cache
from pathlib import Path

import nh3
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, nodes, pass_context, select_autoescape
from jinja2.ext import Extension
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from dsi import countries, kinds, vocab
from dsi.errors import PlatformError

from . import csrf, i18n

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

class _Environment(Environment):
    """Pages read the services' answers, dicts, by attribute (`item.name`): jinja tries the attribute first and
    takes the key after an AttributeError, an exception per access (a tenth of a search page's rendering). A key
    that is no attribute of dicts is looked up at once; the answer is the same."""

    _DICT_ATTRIBUTES = frozenset(dir(dict))

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in self._DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class KeptParts(Extension):
    """`{% kept "name", a, b %}…{% endkept %}`: a part of a page rendered once per name, language and inputs, not
    for every request (the header and footer; the home page's sections, the same for every visitor). One rendering
    is kept per name and language (so a name says which part: `"cluster " ~ slug`); the inputs are what the part
    shows, compared by identity (kept parts, common/caching.SharedParts, are the same objects while they are fresh:
    a new version is a new object), strings by value. The part may use nothing else of its page but its language
    and the environment's globals."""

    tags = {"kept"}
    _rendered: dict[tuple, tuple] = {}  # (template, name, language) → (inputs, HTML): one entry each

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        key = [nodes.Const(parser.name or ""), parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            key.append(parser.parse_expression())
        body = parser.parse_statements(("name:endkept",), drop_needle=True)
        call = self.call_method("_kept", [nodes.ContextReference(), nodes.List(key)])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _kept(self, context, key, caller):
        template, name, *inputs = key
        slot = (template, name, _lang(context))
        kept = self._rendered.get(slot)
        if kept is not None and len(kept[0]) == len(inputs) and all(map(_same, kept[0], inputs)):
            return kept[1]
        html = caller()
        self._rendered[slot] = (inputs, html)
        return html


def _same(kept, given) -> bool:
    return kept is given or (isinstance(kept, str) and kept == given)


environment = _Environment(
    loader=FileSystemLoader(TEMPLATES),
    auto_reload=False,  # read once: no stat of each template per render (an edited template needs a restart)
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n", KeptParts],
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def _lang(context) -> str:
    lang = context.get("lang") or i18n.DEFAULT
    return lang if lang in i18n.LANGUAGES else i18n.DEFAULT


# `_()`, `gettext()` and `ngettext()` as jinja's new-style ones behave (translated, marked safe where the template
# escapes, always %-formatted), in one call instead of three, each string's translation made once per language:
# gettext was a fifth of a page's rendering.
@pass_context
def _gettext(context, message: str, **variables) -> str:
    translated = _translation(_lang(context), message)
    if not context.eval_ctx.autoescape:
        translated = str(translated)
    return translated % variables if variables or "%" in translated else translated


@lru_cache(maxsize=4096)
def _translation(lang: str, message: str) -> Markup:
    return Markup(i18n.gettext(lang, message))


@pass_context
def _ngettext(context, singular: str, plural: str, n: int, **variables) -> str:
    translated = i18n.ngettext(_lang(context), singular, plural, n)
    return (Markup(translated) if context.eval_ctx.autoescape else translated) % {"num": n, **variables}


@pass_context
def _url(context, path: str) -> str:
    return i18n.localised(_lang(context), path)


@pass_context
def _country_of(context, item) -> str:
    return i18n.record_country(_lang(context), item)


@pass_context
def _options(context, vocabulary: dict) -> tuple[tuple[str, str], ...]:
    """A vocabulary as (slug, label in the page's language) pairs for a picker."""
    return _options_in(_lang(context), tuple(vocabulary.items()))


@lru_cache(maxsize=256)
def _options_in(lang: str, vocabulary: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((slug, i18n.gettext(lang, label)) for slug, label in vocabulary)


def _option_tags(choices, selected) -> Markup:
    """`option_tags(choices, selected)`: a picker's <option>s of (value, label) pairs, `selected` marked. Escaped
    once per list of choices, not per page: a country picker's 250 options were a fifth of an events page's
    rendering."""
    tags, position = _escaped_options(tuple(choices))
    at = position.get(selected) if isinstance(selected, str) else None
    if at is None:
        return Markup("".join(tags))
    chosen = tags[at].replace('">', '" selected>', 1)  # after the value, which escaping left without quotes
    return Markup("".join(tags[:at]) + chosen + "".join(tags[at + 1:]))


@lru_cache(maxsize=256)
def _escaped_options(choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, ...], dict[str, int]]:
    tags = tuple(f'<option value="{escape(value)}">{escape(text)}</option>' for value, text in choices)
    return tags, {str(value): index for index, (value, _) in enumerate(choices)}


def _choice_tags(name: str, choices) -> Markup:
    """`choice_tags(name, choices)`: a facet's checkboxes, one per {"value", "label", "count", "checked"}. Written
    here, not by a loop of the template: a value cost 10 µs there; and each value's escaped parts once, not per page
    (a search page shows 60–90 values)."""
    tags = []
    for choice in choices:
        head, label = _choice_parts(name, choice["value"], choice["label"])
        checked = " checked" if choice["checked"] else ""
        tags.append(f'{head}{checked}{label}{_count(choice["count"])})</span></label>')
    return Markup("".join(tags))


@lru_cache(maxsize=8192)  # the values of every facet in every language
def _choice_parts(name: str, value, label) -> tuple[str, str]:
    """A checkbox's escaped beginning, up to where `checked` goes, and the rest up to its count."""
    return (f'<label class="choice"><input type="checkbox" name="{escape(name)}" value="{escape(value)}"',
            f'> {escape(label)} <span class="count">(')


def _count(count) -> str:
    return str(count) if type(count) is int else str(escape(count))


@pass_context
def _country_options(context) -> tuple[tuple[str, str], ...]:
    return _countries_in(_lang(context))


@lru_cache(maxsize=None)
def _countries_in(lang: str) -> tuple[tuple[str, str], ...]:
    """Every country as (code, name in `lang`) pairs, sorted by that name, for a picker (made once per language)."""
    named = ((code, i18n.country_name(lang, code, name)) for code, name in countries.all_countries().items())
    return tuple(sorted(named, key=lambda pair: pair[1]))


@pass_context
def _translated(context, label: str) -> str:
    """A label that is data (a vocabulary term, a cluster) in the page's language. Unlike `_()`, whose result
    jinja2 marks safe, this stays plain text and is escaped like any other value."""
    return str(i18n.gettext(_lang(context), label))


@pass_context
def _number(context, value) -> str:
    """A count in the page language's format (1,228 · 1.228 · 1 228); a figure already rounded (a count per million
    inhabitants: 0.00357, 26.3) with all its decimals (12,5 in German)."""
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.######", locale=_lang(context))
    return format_decimal(value, locale=_lang(context)) if isinstance(value, int) else value


@pass_context
def _reason_label(context, code: str) -> str:
    """A moderation reason by its label in the page's language (its code when unknown)."""
    label = vocab.reason_label(code)
    return i18n.gettext(_lang(context), label) if label else code


@pass_context
def _term(context, code) -> str:
    """A console code (a state, a decision, a role, an actor) by its label in the page's language; an unknown one
    (a staff member's address) as it is."""
    label = vocab.moderation_term(code)
    return i18n.gettext(_lang(context), label) if label else str(code or "")


@pass_context
def _error_text(context, error) -> str:
    return i18n.error_text(_lang(context), error)


@pass_context
def _field_errors(context, error, **fields) -> dict[str, str]:
    """`error|field_errors`: the fields an error names, each with its message in the page's language, for every form
    (`organisations="organisation"`: the form's input for a validator's field where they differ)."""
    return i18n.field_errors(_lang(context), error.details, fields) if isinstance(error, PlatformError) else {}


KIND_LABELS = {kind.name: kind.label_one for kind in kinds.KINDS}  # each kind's name in English, to be translated


@pass_context
def _record_cards(context, items) -> Markup:
    """`record_cards(items)`: the cards of a list of records (search results, a cluster's, the home page's latest).
    Written here, not by a macro of the templates: a macro's call per card was a fifth of a search page's
    rendering."""
    lang = _lang(context)
    return Markup("".join(_record_card(lang, item) for item in items))


def _record_card(lang: str, item: dict) -> str:
    kind = item["kind"]
    # search results of every kind carry their own url (content's by slug); other lists' records do not
    url = i18n.localised(lang, item.get("url") or kinds.record_path(kind, item["id"]))
    card = [f'<li class="card"><p class="kind kind-{escape(kind)}">{_translation(lang, KIND_LABELS.get(kind, kind))}'
            f'</p><h3><a href="{escape(url)}">{escape(item["name"])}</a></h3>']
    if item.get("city") or item.get("country"):
        country = i18n.record_country(lang, item)
        card.append(f'<p class="place">{escape(", ".join(filter(None, (item.get("city"), country))))}</p>')
    snippet = _card_snippet(item)
    if snippet:
        card.append(f'<p class="snippet">{snippet}</p>')
    elif item.get("short_description"):
        card.append(f'<p>{escape(item["short_description"])}</p>')
    card.append("</li>")
    return "".join(card)


def _card_snippet(item: dict) -> Markup:
    """A search result's snippet (escaped text with <mark> around matches) for its card, cleaned
    so that only <mark> survives; nothing when it only repeats the place the card shows already (a record without a
    description)."""
    snippet = item.get("snippet")
    if not snippet:
        return Markup("")
    text = snippet.replace("<mark>", "").replace("</mark>", "")
    if " ".join(html.unescape(text).split()) == ", ".join(filter(None, (item.get("city"), item.get("country_name")))):
        return Markup("")
    if "<" not in text:  # as the search service writes them: nothing else to clean (a 30th of what cleaning costs)
        return Markup(snippet)
    return Markup(nh3.clean(snippet, tags={"mark"}, attributes={}))


# This page in every language, twice on every page (the head's alternates, the header's switcher): written here
# rather than by loops of the layout, which were a sixth of a short page's rendering.
_LANGUAGE_NAMES = tuple((code, escape(name)) for code, name in i18n.LANGUAGES.items())


@pass_context
def _alternate_links(context) -> Markup:
    site, path, query = (escape(context.get(name) or "") for name in ("site_url", "page_path", "page_query"))
    links = [f'<link rel="alternate" hreflang="{code}" href="{site}{i18n.localised(code, path)}{query}">'
             for code, _ in _LANGUAGE_NAMES]
    links.append(f'<link rel="alternate" hreflang="x-default" href="{site}{path}{query}">')
    return Markup("\n  ".join(links))


@pass_context
def _language_links(context) -> Markup:
    path, query = escape(context.get("page_path") or "/"), escape(context.get("page_query") or "")
    current = _lang(context)
    return Markup("".join(
        f'<li><a href="{i18n.localised(code, path)}{query}" hreflang="{code}" lang="{code}"'
        + (' aria-current="true"' if code == current else "") + f">{name}</a></li>" for code, name in _LANGUAGE_NAMES))


environment.newstyle_gettext = True  # what `{% trans %}` compiles to
environment.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
environment.globals.update(url=_url, LANGUAGES=i18n.LANGUAGES, country_of=_country_of, options=_options,
                           option_tags=_option_tags, choice_tags=_choice_tags, country_options=_country_options,
                           record_path=kinds.record_path, record_cards=_record_cards,
                           alternate_links=_alternate_links, language_links=_language_links, KIND_LABELS=KIND_LABELS)
environment.filters.update(number=_number, tr=_translated, error_text=_error_text,
                           field_errors=_field_errors, reason_label=_reason_label, term=_term)


# The request's language when its page has no prefix to say it: the console's, its staff member's pick.
LANGUAGE = "dsi.language"


def render(template: str, status: int = 200, headers: dict | None = None, request=None, **context) -> Response:
    token = None
    if request is not None:
        lang, path = i18n.split_path(request.path)
        lang = request.environ.get(LANGUAGE, lang)
        query = request.query_string.decode("latin-1")
        context = {"lang": lang, "page_path": path, "page_query": f"?{query}" if query else "",
                   "site_url": request.host_url.rstrip("/"), **context}
        token = csrf.Token(request)
        context["csrf_field"] = lambda: Markup(
            f'<input type="hidden" name="{csrf.FIELD}" value="{Markup.escape(token.value())}">')
    body = environment.get_template(template).render(**context)
    # (the security headers are added at the door, gateway/common/security.py)
    response = Response(body, status=status, mimetype="text/html", headers=headers)
    if token is not None:
        token.set_cookie(response)
        if token.used:  # a form with its CSRF token: for this visitor only, never kept by a cache
            response.headers["Cache-Control"] = "no-store"
    return response
