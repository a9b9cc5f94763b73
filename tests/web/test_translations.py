"""Unit tier: every string a visitor reads exists in every interface language. A template's text outside `_()`
and a catalogue entry without a translation both fail here, naming the string."""
import re
from html.parser import HTMLParser

import pytest

from dsi.errors import REASONS, Conflict, Forbidden, NotFound, RateLimited
from gateway.common import i18n
from gateway.common.templating import TEMPLATES, environment
from gateway.translations import catalogues

# Words that are the same in every language: formats, names, code.
UNTRANSLATED = {"RSS", "JSON", "CSV", "DSI", "… · Digital Social Innovation"}
ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}
WORD = re.compile(r"[^\W\d_]{2,}")
TAG = "\x00"  # where a template puts a value or a tag of its own


class _Text(HTMLParser):
    """The text and labelling attributes of a template's literal HTML, outside scripts and styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style", "textarea")
        self.found += [value for name, value in attrs if name in ATTRIBUTES and value]

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style", "textarea")

    def handle_data(self, data):
        if not self.hidden:
            self.found.append(data)


def literal_text(source: str) -> list[str]:
    """What a template writes in plain words rather than through `_()`."""
    html = re.sub(TAG + "+", TAG, "".join(value if kind == "data" else TAG for _, kind, value in
                                         environment.lex(source)))
    parser = _Text()
    parser.feed(html)
    parser.close()
    texts = (" ".join(text.replace(TAG, "…").split()) for text in parser.found)
    return [text for text in texts if WORD.search(text) and text not in UNTRANSLATED and
            not re.fullmatch(r"[\w.]+\.(json|csv)", text) and not _markup(text)]


def _markup(text: str) -> bool:
    """A piece of a tag that the template writes in parts (`<div{% if … %} lang="…"{% endif %}>`)."""
    return '="' in text or re.fullmatch(r"[…\s]*<\w+[…\s]*", text) is not None


TEMPLATE_NAMES = sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_templates_write_no_words_outside_the_catalogues(name):
    assert literal_text((TEMPLATES / name).read_text()) == []


def test_the_check_finds_untranslated_words():
    source = '<p title="Open it">{{ _("Fine") }} Hello <b>{{ name }}</b> and bye</p><script>var x = "no";</script>'
    assert literal_text(source) == ["Open it", "… Hello", "and bye"]


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT])
def test_every_string_is_translated(lang):
    catalog = catalogues.read(catalogues.HERE / lang / "LC_MESSAGES" / "messages.po", lang)
    wanted = {message.id for message in catalogues.template() if message.id}
    translated = {message.id for message in catalog if message.id and not message.fuzzy and (
        all(message.string) if isinstance(message.string, tuple) else message.string)}
    assert sorted(wanted - translated, key=str) == []


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT])
def test_translations_keep_their_placeholders(lang):
    """A translation naming another value than its English would fail, or lose it, when it is filled in."""
    catalog = catalogues.read(catalogues.HERE / lang / "LC_MESSAGES" / "messages.po", lang)
    names = re.compile(r"%\((\w+)\)s|\{(\w+)\}")
    wrong = []
    for message in catalog:
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        translated = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {name for text in english for name in names.findall(text or "")}
        if message.id and all(translated) and any(
                {name for name in names.findall(text)} != wanted for text in translated):
            wrong.append(message.id)
    assert wrong == []


@pytest.mark.parametrize("error, lang, expected", [
    (Forbidden.because("link_expired"), "pl", "Ten link wygasł; poproś o nowy."),
    (Conflict.because("already_reported"), "ca", "Ja has denunciat aquesta fitxa; gràcies."),
    (RateLimited.because("too_many_requests", {"retry_after": 7}), "de",
     "Zu viele Anfragen; versuchen Sie es in 7 Sekunden erneut."),
    (NotFound("No published project with id 9."), "en", "No published project with id 9."),  # its own words
    (NotFound("No published project with id 9."), "fr", "Nous n'avons pas trouvé ce que vous cherchez."),
])
def test_errors_read_in_the_visitors_language(error, lang, expected):
    assert i18n.error_text(lang, error) == expected


def test_a_reason_crosses_rpc_with_its_error():
    """nameko rebuilds a remote error from its args: the reason must be one of them."""
    error = Conflict.because("submission_decided", {"state": "approved"})
    again = Conflict(*error.args)
    assert (again.reason, again.message, again.details) == ("submission_decided", REASONS["submission_decided"],
                                                            {"state": "approved"})
    assert Conflict(*Conflict("plain").args).reason is None
    assert None not in Forbidden.because("link_invalid").args  # nameko would send a None as the text "None"
