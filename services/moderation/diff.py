"""Field-by-field difference between a record's public version and a proposal.

The directory sends the proposal as validated fields (slugs, links as {id, role}) and the public version as the
public record (terms as {value, label}, links with names, descriptions sanitised); both are brought to the
proposal's shape first, so only real changes show.
"""
from dsi.sanitise import clean_html

HTML_FIELDS = ("long_description", "social_impact")
LINK_FIELDS = ("projects", "organisations")


def _comparable(field: str, value):
    if isinstance(value, dict) and "value" in value:  # a vocabulary term
        return value["value"]
    if isinstance(value, list):
        if field in LINK_FIELDS:
            return sorted(({"id": link["id"], "role": link.get("role", "partner")} for link in value),
                          key=lambda link: link["id"])
        return [_comparable(field, item) for item in value]
    if value in ("", [], None):
        return None
    return value


def name_links(changes: list[dict], names: dict[int, str]) -> list[dict]:
    """The diff with each linked record's name beside its id, so moderators read links by name."""
    def named(field, value):
        if field not in LINK_FIELDS or not isinstance(value, list):
            return value
        return [{**link, "name": names.get(link["id"])} for link in value]

    return [{**change, "before": named(change["field"], change["before"]),
             "after": named(change["field"], change["after"])} for change in changes]


def field_diff(published: dict | None, proposed: dict) -> list[dict]:
    """[{field, before, after}] for every field the proposal changes; for a new record, every field it sets."""
    changes = []
    for field, after in proposed.items():
        if field in HTML_FIELDS and after:
            after = clean_html(after)  # as the directory will store it
        after = _comparable(field, after)
        before = _comparable(field, (published or {}).get(field))
        if before != after and not (before is None and after in (None, [])):
            changes.append({"field": field, "before": before, "after": after})
    return changes
