"""The "join the network" and edit forms: an HTML form to the submission body of dsi.schemas and back.

Empty inputs are left out so that the schema's defaults apply; tags are typed comma-separated; validation stays
in dsi.schemas (the same rules as the JSON API), whose errors the template shows by field (`error|field_errors`).

A record is placed by its city's name (dsi.places) and a project names its organisations: the form has no
coordinates or ids to type. The preview carries the place found, which its map may move, in hidden fields.
"""
from dsi import kinds, places
from dsi.validation import comma_list

CHOICES = ("social_areas", "technologies", "dsi_focus")  # checkboxes: many values
TAG_LISTS = ("tags", "network_tags")  # typed "a, b, c"
ORGANISATION = "organisation"  # a project's organisations: one name per input, repeated
MAX_ORGANISATIONS = 20  # inputs the form offers at most (join.js adds no more)
PLACED_FOR = "placed_for"  # the city and country the coordinates were found for
STEP, PREVIEW = "step", "preview"  # which button sent the form: preview, send, or change (back to the form)
HONEYPOT = "nickname"  # hidden from people by the stylesheet; robots fill it in
HONEYPOT_ERROR = "Leave this field empty."


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


def place(body: dict, form) -> dict:
    """`body` placed by its city: the coordinates the preview carried if they are for this city and country
    (its map may have moved them), else the gazetteer's; none for a place it does not know."""
    where = placed_for(body)
    if form.get(PLACED_FOR) == where and "latitude" in body and "longitude" in body:
        return body
    body = {key: value for key, value in body.items() if key not in ("latitude", "longitude")}
    found = places.find(body.get("city", ""), body.get("country")) if body.get("city") else None
    if found is not None:
        body.update(latitude=found.latitude, longitude=found.longitude, country=body.get("country") or found.country)
    return body


def placed_for(body: dict) -> str:
    return f"{body.get('city', '').strip().casefold()}|{body.get('country') or ''}"


def organisation_names(form) -> list[str]:
    """The organisations a project's form names, each once, in order."""
    names: dict[str, str] = {}
    for name in form.getlist(ORGANISATION):
        if name.strip():
            names.setdefault(name.strip().casefold(), name.strip())
    return list(names.values())[:MAX_ORGANISATIONS]


def split_organisations(names: list[str], found: dict[str, dict]) -> tuple[list[dict], list[str]]:
    """Links to the named organisations the directory has (`found`: name → {id, name}), and the other names."""
    links = {found[name]["id"]: {"id": found[name]["id"], "role": "partner"} for name in names if name in found}
    return list(links.values()), [name for name in names if name not in found]


def form_values(form) -> dict:
    """What the visitor typed, to show again next to the errors."""
    return {name: form.getlist(name) if name in CHOICES or name == ORGANISATION else form.get(name, "")
            for name in form}


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
    if record["kind"] == "project":
        values[ORGANISATION] = [link["name"] for link in record.get("organisations") or []]
    if record.get("latitude") is not None:
        values[PLACED_FOR] = placed_for({"city": record.get("city") or "", "country": record.get("country")})
    return values


def current_links(record: dict) -> list[dict]:
    """The links an edit keeps (the form does not change them)."""
    return [{"id": link["id"], "role": link["role"]} for link in record.get(kinds.get(record["kind"]).links) or []]
