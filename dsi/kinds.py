"""The registry of kinds: every kind of content the platform publishes, and what each part of the platform needs
to know about it — its names, its URL segment, the service that owns it, its fields, facets and templates.

The directory, search, the newsletter and the gateway read this table instead of branching on a kind; a new kind
is one more entry here plus its model, schema, migration and templates (docs/architecture.md, "Adding a kind").
Nothing here imports a service: the field schema is named as "module:Class" and imported when first asked for.
"""
import importlib
from dataclasses import dataclass, field

from dsi.errors import InvalidInput


@dataclass(frozen=True)
class Kind:
    name: str  # singular, the `kind` of records and events on the wire: "organisation"
    plural: str  # "organisations"
    segment: str  # URL segment of its pages and API: /organisations/{id}, /api/organisations, /data/organisations.csv
    label: str  # a heading in pages ("Organisations"; the templates translate it)
    label_one: str  # one of them, as search facets show it ("Organisation")
    owner: str  # the service that stores it and answers get_record / list_records / export_published
    schema: str  # the pydantic model of its fields, "module:Class"
    facets: tuple[str, ...]  # search facets that apply to it
    searchable: tuple[str, ...]  # the text fields search reads for it (HTML ones are made plain first)
    form_fields: tuple[str, ...]  # the fields of its join and edit forms, in order
    csv_columns: tuple[str, ...]  # the columns of its open-data CSV
    api_filters: tuple[tuple[str, str], ...] = ()  # its own list filters of the JSON API: (parameter, description)
    links: str | None = None  # the field that lists linked records of another kind ("projects")
    templates: dict = field(default_factory=dict)  # page → template; see TEMPLATES for the keys

    def fields_model(self):
        """The pydantic model of this kind's fields."""
        module, _, name = self.schema.partition(":")
        return getattr(importlib.import_module(module), name)

    def path(self, record_id) -> str:
        """The public page of one of its records."""
        return f"/{self.segment}/{record_id}"

    def template(self, page: str) -> str:
        return self.templates.get(page, TEMPLATES[page])


# The default template of each page a kind has; an entry's `templates` overrides any of them.
TEMPLATES = {"page": "record.html", "form": "record_form.html"}

COMMON_FIELDS = ("name", "website", "short_description", "long_description", "country", "city", "latitude",
                 "longitude", "start_date", "tags")
COMMON_COLUMNS = ("id", "name", "url", "website", "short_description", "long_description", "country",
                  "country_name", "city", "latitude", "longitude", "start_date", "tags", "created_at",
                  "published_at")
COMMON_FACETS = ("kind", "country")
COMMON_SEARCHABLE = ("name", "short_description", "long_description", "city", "tags")

KINDS: tuple[Kind, ...] = (
    Kind(
        name="organisation", plural="organisations", segment="organisations", label="Organisations",
        label_one="Organisation", owner="directory", schema="dsi.schemas:OrganisationFields",
        facets=COMMON_FACETS + ("organisation_type", "organisation_size"),
        searchable=COMMON_SEARCHABLE + ("network_tags",),
        form_fields=COMMON_FIELDS + ("address", "organisation_type", "organisation_size", "network_tags",
                                     "logo_url"),
        csv_columns=COMMON_COLUMNS + ("organisation_type", "organisation_size", "address", "network_tags",
                                      "projects"),
        api_filters=(("type", "Organisation types (slugs, see /api/vocabularies)."),),
        links="projects",
    ),
    Kind(
        name="project", plural="projects", segment="projects", label="Projects", label_one="Project",
        owner="directory", schema="dsi.schemas:ProjectFields",
        facets=COMMON_FACETS + ("social_areas", "technologies", "dsi_focus"),
        searchable=COMMON_SEARCHABLE + ("social_impact",),
        form_fields=COMMON_FIELDS + ("social_impact", "status", "end_date", "social_areas", "technologies",
                                     "dsi_focus"),
        csv_columns=COMMON_COLUMNS + ("status", "end_date", "social_impact", "social_areas", "technologies",
                                      "dsi_focus", "organisations"),
        api_filters=(("area", "Social areas (slugs)."), ("technology", "Technologies (slugs)."),
                     ("focus", "DSI focus (slugs).")),
        links="organisations",
    ),
)
BY_NAME = {kind.name: kind for kind in KINDS}
BY_SEGMENT = {kind.segment: kind for kind in KINDS}


def names(owner: str | None = None) -> tuple[str, ...]:
    """The kinds' singular names (of one owning service)."""
    return tuple(kind.name for kind in KINDS if owner is None or kind.owner == owner)


def owned_by(owner: str) -> tuple[Kind, ...]:
    return tuple(kind for kind in KINDS if kind.owner == owner)


def get(name: str, owner: str | None = None) -> Kind:
    """The kind called `name` (of `owner`), or InvalidInput naming the ones there are."""
    kind = BY_NAME.get(name)
    if kind is None or (owner is not None and kind.owner != owner):
        known = names(owner)
        raise InvalidInput("Unknown kind.", {"kind": "expected " + " or ".join(f"'{each}'" for each in known)})
    return kind


def by_segment(segment: str) -> Kind:
    return BY_SEGMENT[segment]


def segment_rule(variable: str = "segment", owner: str | None = None) -> str:
    """A werkzeug URL rule part matching the URL segment of every kind (of `owner`): `<any(a,b):variable>`."""
    return f"<any({','.join(kind.segment for kind in KINDS if owner is None or kind.owner == owner)}):{variable}>"


def name_rule(variable: str = "kind", owner: str | None = None) -> str:
    """A werkzeug URL rule part matching the singular name of every kind (of `owner`)."""
    return f"<any({','.join(names(owner))}):{variable}>"


def record_path(name: str, record_id) -> str:
    return BY_NAME[name].path(record_id)
