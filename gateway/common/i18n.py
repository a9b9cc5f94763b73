"""The gateway's side of the interface languages (dsi/i18n.py: catalogues, gettext, addresses per language): a
request's language from its path, errors and country names in a language.
"""
import functools

from babel import Locale

from dsi.errors import REASONS, PlatformError, reason_text
from dsi.i18n import DEFAULT, LANGUAGES, gettext, language, localised, ngettext, translations  # noqa: F401 (re-exported)

# A werkzeug rule part that matches a language prefix.
LANG_RULE = "<any(" + ",".join(LANGUAGES) + "):lang>"


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


@functools.lru_cache(maxsize=None)
def _territories(lang: str) -> dict:
    return Locale.parse(lang).territories


def country_name(lang: str, code: str | None, fallback: str | None = None) -> str:
    """A country's name in `lang`, from the CLDR data Babel ships."""
    if not code:
        return fallback or ""
    return _territories(lang).get(code.upper()) or fallback or code
