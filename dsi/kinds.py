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

# The list filters of every directory kind; each kind adds its own.
DIRECTORY_FILTERS = (("country", "ISO country codes."), ("tag", "Free tags."))

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
        api_filters=DIRECTORY_FILTERS + (("type", "Organisation types (slugs, see /api/vocabularies)."),),
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
        api_filters=DIRECTORY_FILTERS + (("area", "Social areas (slugs)."), ("technology", "Technologies (slugs)."),
                                         ("focus", "DSI focus (slugs).")),
        links="organisations",
    ),
)
# The editorial kinds, owned by the content service: addressed by slug (/stories/{slug}), listed and filtered by
# content's own list filters; their fields are content's models (imported only when asked for).
CONTENT_SCHEMAS = "services.content.schemas"
CONTENT_TEXT = ("title", "summary", "body_text")
CONTENT_COLUMNS = ("id", "kind", "slug", "title", "url", "lang", "summary", "cluster", "social_areas",
                   "published_at")
CONTENT_TEMPLATES = {"page": "content/item.html", "form": "content/form.html"}
CONTENT_FORM = ("title", "slug", "lang", "summary", "body", "cluster", "social_areas")
_CLUSTER_FILTERS = (("cluster", "A cluster (its slug, see /api/clusters)."), ("area", "A social area (slug)."))
_ABOUT_FILTERS = (("organisation", "Only items about this directory organisation (id)."),
                  ("project", "Only items about this directory project (id)."))

KINDS += (
    Kind(
        name="story", plural="stories", segment="stories", label="Stories", label_one="Story", owner="content",
        schema=f"{CONTENT_SCHEMAS}:StoryFields", facets=("kind", "category", "cluster", "social_areas"),
        searchable=CONTENT_TEXT + ("authors",),
        form_fields=CONTENT_FORM + ("category", "authors", "related_organisations", "related_projects",
                                    "published_on"),
        csv_columns=CONTENT_COLUMNS + ("category", "authors"),
        api_filters=(("category", "news, blog, feature or interview."),) + _CLUSTER_FILTERS + _ABOUT_FILTERS,
        templates=CONTENT_TEMPLATES,
    ),
    Kind(
        name="case_study", plural="case_studies", segment="case-studies", label="Case studies",
        label_one="Case study", owner="content", schema=f"{CONTENT_SCHEMAS}:CaseStudyFields",
        facets=("kind", "cluster", "social_areas"), searchable=CONTENT_TEXT + ("card_text",),
        form_fields=CONTENT_FORM + ("card_text", "organisation_id", "project_id", "start_date", "end_date",
                                    "link_url", "link_label", "featured_position"),
        csv_columns=CONTENT_COLUMNS + ("card_text", "organisation_id", "project_id"),
        api_filters=_CLUSTER_FILTERS + (("featured", "true: only the home page's featured ones."),)
        + _ABOUT_FILTERS,
        templates=CONTENT_TEMPLATES,
    ),
    Kind(
        name="event", plural="events", segment="events", label="Events", label_one="Event", owner="content",
        schema=f"{CONTENT_SCHEMAS}:EventFields", facets=("kind", "country", "attendance", "cluster"),
        searchable=CONTENT_TEXT + ("venue", "city", "organiser"),
        form_fields=CONTENT_FORM + ("start", "end", "timezone", "all_day", "attendance", "venue", "city",
                                    "country", "latitude", "longitude", "free", "price", "registration_url",
                                    "organiser"),
        csv_columns=CONTENT_COLUMNS + ("start", "end", "timezone", "attendance", "city", "country"),
        api_filters=(("when", "upcoming (soonest first, the default) or past."),
                     ("country", "A country (ISO code)."), ("attendance", "online, in_person or hybrid."),
                     ("free", "true: only free events."), ("month", "YYYY-MM.")) + _CLUSTER_FILTERS,
        templates=CONTENT_TEMPLATES,
    ),
    Kind(
        name="funding", plural="funding", segment="funding", label="Funding and support",
        label_one="Funding and support", owner="content", schema=f"{CONTENT_SCHEMAS}:FundingFields",
        facets=("kind", "funding_types", "targets", "countries"), searchable=CONTENT_TEXT + ("funder_name",),
        form_fields=CONTENT_FORM + ("funding_types", "targets", "countries", "europe_wide", "funder_name",
                                    "funder_url", "amount", "closes_on", "rolling", "apply_url"),
        csv_columns=CONTENT_COLUMNS + ("funding_types", "targets", "countries", "closes_on", "rolling"),
        api_filters=(("status", "open (soonest closing first, rolling last; the default) or closed."),
                     ("type", "A funding type (slug)."), ("target", "A target (slug)."),
                     ("country", "A country (ISO code); Europe-wide calls match every country."),
                     ("closing_before", "YYYY-MM-DD."), ("cluster", "A cluster (slug).")),
        templates=CONTENT_TEMPLATES,
    ),
    Kind(
        name="resource", plural="resources", segment="resources", label="Resources", label_one="Resource",
        owner="content", schema=f"{CONTENT_SCHEMAS}:ResourceFields", facets=("kind", "resource_type", "cluster"),
        searchable=CONTENT_TEXT + ("publisher",),
        form_fields=CONTENT_FORM + ("resource_type", "publisher", "resource_url", "year"),
        csv_columns=CONTENT_COLUMNS + ("resource_type", "publisher", "language", "year"),
        api_filters=(("type", "report, guide, dataset, video, course or other."),
                     ("language", "The resource's language (code).")) + _CLUSTER_FILTERS,
        templates=CONTENT_TEMPLATES,
    ),
    Kind(
        name="cluster", plural="clusters", segment="clusters", label="Clusters", label_one="Cluster",
        owner="content", schema=f"{CONTENT_SCHEMAS}:ClusterFields", facets=("kind",),
        searchable=CONTENT_TEXT + ("subtitle", "lead_partner"),
        form_fields=CONTENT_FORM + ("subtitle", "contact_text", "lead_partner", "lead_partner_id"),
        csv_columns=CONTENT_COLUMNS + ("subtitle", "lead_partner"),
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
    kind = BY_NAME.get(name) if isinstance(name, str) else None  # a name from a body may be any JSON value
    if kind is None or (owner is not None and kind.owner != owner):
        known = names(owner)
        raise InvalidInput("Unknown kind.", {"kind": "expected " + " or ".join(f"'{each}'" for each in known)})
    return kind


def by_segment(segment: str) -> Kind:
    return BY_SEGMENT[segment]


def segment_rule(variable: str = "segment", owner: str | None = None) -> str:
    """A werkzeug URL rule part matching the URL segment of every kind (of `owner`): `<any(a,b):variable>`."""
    segments = (_rule_word(kind.segment) for kind in KINDS if owner is None or kind.owner == owner)
    return f"<any({','.join(segments)}):{variable}>"


def _rule_word(word: str) -> str:
    """A word as werkzeug's converter arguments take it: quoted when it is not a plain identifier (case-studies)."""
    return word if word.isidentifier() else f'"{word}"'


def name_rule(variable: str = "kind", owner: str | None = None) -> str:
    """A werkzeug URL rule part matching the singular name of every kind (of `owner`)."""
    return f"<any({','.join(names(owner))}):{variable}>"


def record_path(name: str, record_id) -> str:
    return BY_NAME[name].path(record_id)
