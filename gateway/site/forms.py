"""The "join the network" and edit forms: an HTML form to the submission body of dsi.schemas and back.

Empty inputs are left out so that the schema's defaults apply; tags are typed comma-separated; validation stays
in dsi.schemas (the same rules as the JSON API), and its errors are mapped to the form's fields.
"""
from dsi import kinds
from dsi.validation import comma_list

from ..common import i18n

CHOICES = ("social_areas", "technologies", "dsi_focus")  # checkboxes: many values
TAG_LISTS = ("tags", "network_tags")  # typed "a, b, c"
HONEYPOT = "nickname"  # hidden from people by the stylesheet; robots fill it in
HONEYPOT_ERROR = "Leave this field empty."
# dsi.schemas speaks pydantic's English to API clients; the form says it plainly, in the visitor's language
# (these texts are in gateway/translations). The start of a message → what the form shows.
MESSAGES = {
    "Field required": "Please fill in this field.",
    "value is not a valid email address": "Please enter an email address, like name@example.org.",
    "Input should be a valid number": "Please enter a number, like 41.39.",
    "Input should be less than or equal": "This number is out of range.",
    "Input should be greater than or equal": "This number is out of range.",
    "String should have at most": "This is too long.",
    "String should have at least": "This is too short.",
    "Input should be a valid date": "Please enter a date, like 2024-05-31.",
    "Input should be a valid URL": "Please enter a full web address, starting with https://.",
    "expected an ISO 3166-1": "Please choose a country from the list.",
    "unknown value": "Please choose from the list.",
    "give both latitude and longitude": "Give both latitude and longitude, or neither.",
    "end_date is before start_date": "The end date is before the start date.",
    HONEYPOT_ERROR: HONEYPOT_ERROR,
}


def record_body(kind: str, form) -> dict:
    """The record fields of a submitted form (a werkzeug MultiDict)."""
    body = {}
    for name in kinds.get(kind).form_fields:
        if name in CHOICES:
            body[name] = [value for value in form.getlist(name) if value]
        elif name in TAG_LISTS:
            body[name] = comma_list(form.get(name, ""))
        elif (value := form.get(name, "").strip()):
            body[name] = value
    return body


def submission_body(kind: str, form) -> dict:
    return {"kind": kind, "email": form.get("email", "").strip(), **record_body(kind, form)}


def form_values(form) -> dict:
    """What the visitor typed, to show again next to the errors."""
    return {name: form.getlist(name) if name in CHOICES else form.get(name, "") for name in form}


def record_values(record: dict) -> dict:
    """A record as the edit form's initial values."""
    values = {}
    for name in kinds.get(record["kind"]).form_fields:
        value = record.get(name)
        if name in CHOICES:
            values[name] = [term["value"] for term in value or []]
        elif name in TAG_LISTS:
            values[name] = ", ".join(value or [])
        elif isinstance(value, dict):  # a vocabulary term {value, label}
            values[name] = value["value"]
        else:
            values[name] = "" if value is None else str(value)
    return values


def current_links(record: dict) -> list[dict]:
    """The links an edit keeps (the form does not change them)."""
    return [{"id": link["id"], "role": link["role"]} for link in record.get(kinds.get(record["kind"]).links) or []]


def field_errors(details: dict | None, lang: str = i18n.DEFAULT) -> dict[str, str]:
    """Errors of dsi.schemas (`social_areas.0`, `_` for the whole form) by form field, in `lang` where known."""
    errors: dict[str, str] = {}
    for path, message in (details or {}).items():
        plain = next((text for start, text in MESSAGES.items() if message.startswith(start)), message)
        errors.setdefault(path.split(".", 1)[0], i18n.gettext(lang, plain))
    return errors
