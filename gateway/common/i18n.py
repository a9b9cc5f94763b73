"""The gateway's side of the interface languages (dsi/i18n.py: catalogues, gettext, addresses per language): a
request's language from its path, errors, their field errors and country names in a language.
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


# The validators (dsi.schemas, the services' schemas) speak pydantic's English to API clients; a form says it
# plainly, in its visitor's language (these texts are in gateway/translations). The start of a message → the form's.
FIELD_MESSAGES = {
    "Field required": "Please fill in this field.",
    "value is not a valid email address": "Please enter an email address, like name@example.org.",
    "Input should be a valid number": "Please enter a number, like 41.39.",
    "Input should be less than or equal": "This number is out of range.",
    "Input should be greater than or equal": "This number is out of range.",
    "String should have at most": "This is too long.",
    "String should have at least": "This is too short.",
    "Input should be a valid date": "Please enter a date, like 2024-05-31.",
    "Input should be a valid URL": "Please enter a full web address, starting with https://.",
    "unknown country code": "Please choose a country from the list.",
    "unknown value": "Please choose from the list.",
    "give both latitude and longitude": "Give both latitude and longitude, or neither.",
    "end_date is before start_date": "The end date is before the start date.",
    "not in the directory": "Only organisations already in the directory can be added here.",
}
NOT_FIELDS = ("retry_after", "reason", "version")  # details an error carries besides its fields


def field_errors(lang: str, details, fields: dict[str, str] | None = None) -> dict[str, str]:
    """An error's details (`social_areas.0`, `_` for the whole form) by form field, in `lang` where known.
    `fields` names the form's input for a validator's field where they differ."""
    errors: dict[str, str] = {}
    for path, message in (details.items() if isinstance(details, dict) else ()):
        field = path.split(".", 1)[0]
        if field in NOT_FIELDS or not isinstance(message, str):
            continue
        plain = next((text for start, text in FIELD_MESSAGES.items() if message.startswith(start)), message)
        errors.setdefault((fields or {}).get(field, field), gettext(lang, plain))
    return errors


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


def record_country(lang: str, record: dict) -> str:
    """A record's country in `lang`: its code's name, or the name the record carries."""
    return country_name(lang, record.get("country"), record.get("country_name"))
