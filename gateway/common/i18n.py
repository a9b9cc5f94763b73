"""Interface languages: gettext catalogues (gateway/translations/<lang>/LC_MESSAGES/messages.po), compiled in
memory when first used, so no binary .mo file lives in the repository. A string missing or fuzzy in a catalogue
shows in English.

Pages live under a language prefix (`/de/search`); English, the default, has none (`/search`).
"""
import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel import Locale
from babel.support import NullTranslations, Translations

from dsi.errors import REASONS, PlatformError, reason_text
from dsi.vocab import INTERFACE_LANGUAGES

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
DEFAULT = "en"
LANGUAGES = INTERFACE_LANGUAGES  # each language in its own name, for the language switcher
# A werkzeug rule part that matches a language prefix.
LANG_RULE = "<any(" + ",".join(LANGUAGES) + "):lang>"


@functools.lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of `lang`; English (and an unknown language) translate nothing."""
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, so they fall back to English
    compiled.seek(0)
    return Translations(compiled)


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    return translations(lang).ngettext(singular, plural, n)


# What a page says of an error that names no reason, by its code, outside English (where its own words show).
ERROR_SUMMARIES = {
    "VALIDATION_ERROR": "Some fields are not valid.",
    "NOT_FOUND": "We could not find what you asked for.",
    "FORBIDDEN": "This is not allowed.",
    "CONFLICT": "This has changed in the meantime; please reload the page.",
    "RATE_LIMITED": "Please wait a little before trying again.",
    "PAYLOAD_TOO_LARGE": "This is too large to send.",
    "SERVICE_UNAVAILABLE": "A part of the platform is not answering right now. Please try again in a moment.",
    "BAD_REQUEST": "Something in the request is not right.",
}


def error_text(lang: str, error: PlatformError) -> str:
    """An error as its visitor reads it: on English pages the service's own words (they may name specifics);
    in other languages its reason translated, or a translated summary of its code when it names no reason."""
    if lang == DEFAULT and error.message:
        return error.message
    if error.reason in REASONS:
        return reason_text(gettext(lang, REASONS[error.reason]), error.details)
    return gettext(lang, ERROR_SUMMARIES.get(error.code, ERROR_SUMMARIES["BAD_REQUEST"]))


def split_path(path: str) -> tuple[str, str]:
    """(`lang`, path without its language prefix) of a request path: `/pl/search` → ("pl", "/search")."""
    parts = path.split("/", 2)
    if len(parts) > 1 and parts[1] in LANGUAGES:
        return parts[1], "/" + (parts[2] if len(parts) > 2 else "")
    return DEFAULT, path or "/"


def localised(lang: str, path: str) -> str:
    """The address of the page at `path` (unprefixed) in `lang`."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return path
    return f"/{lang}{path}"


@functools.lru_cache(maxsize=None)
def _territories(lang: str) -> dict:
    return Locale.parse(lang).territories


def country_name(lang: str, code: str | None, fallback: str | None = None) -> str:
    """A country's name in `lang`, from the CLDR data Babel ships."""
    if not code:
        return fallback or ""
    return _territories(lang).get(code.upper()) or fallback or code
