"""The content kinds, declared once: names, URL segment, list filters and the fields search reads.

(A later step moves these declarations into a platform-wide registry of kinds in dsi/.)
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    singular: str
    plural: str
    segment: str  # the URL segment of its pages and API: /{segment}/{slug}
    filters: tuple[str, ...]  # query parameters its list accepts
    searchable: tuple[str, ...]  # fields of the public item that search indexes
    facets: tuple[str, ...] = ()  # fields search offers as facets

    def url(self, slug: str) -> str:
        return f"/{self.segment}/{slug}"


_TEXT = ("title", "summary", "body_text")

KINDS = {
    kind.name: kind for kind in (
        Kind("story", "Story", "Stories", "stories", ("category", "cluster", "area", "organisation", "project"),
             _TEXT + ("authors",), ("category", "cluster", "social_areas")),
        Kind("case_study", "Case study", "Case studies", "case-studies",
             ("cluster", "area", "featured", "organisation", "project"),
             _TEXT + ("card_text",), ("cluster", "social_areas")),
        Kind("event", "Event", "Events", "events",
             ("when", "country", "attendance", "free", "month", "cluster", "area"),
             _TEXT + ("venue", "city", "organiser"), ("country", "attendance", "cluster")),
        Kind("funding", "Funding and support", "Funding and support", "funding",
             ("status", "type", "target", "country", "closing_before", "cluster"),
             _TEXT + ("funder_name",), ("funding_types", "targets", "countries")),
        Kind("resource", "Resource", "Resources", "resources", ("type", "cluster", "language", "area"),
             _TEXT + ("publisher",), ("resource_type", "cluster", "lang")),
        Kind("cluster", "Cluster", "Clusters", "clusters", (), _TEXT + ("subtitle", "lead_partner"), ()),
    )
}

STORY_CATEGORIES = {"news": "News", "blog": "Blog", "feature": "Feature", "interview": "Interview"}
RESOURCE_TYPES = {"report": "Report", "guide": "Guide or toolkit", "dataset": "Dataset", "video": "Video",
                  "course": "Course", "other": "Other"}
ATTENDANCE = {"online": "Online", "in_person": "In person", "hybrid": "Hybrid"}

# Kinds the public may suggest (through moderation, like directory records).
SUGGESTIBLE = ("event", "funding")


def get(name: str) -> Kind:
    from dsi.errors import InvalidInput

    kind = KINDS.get(name)
    if kind is None:
        raise InvalidInput("Unknown kind.", {"kind": f"expected one of {', '.join(KINDS)}"})
    return kind


def by_segment(segment: str) -> Kind | None:
    return next((kind for kind in KINDS.values() if kind.segment == segment), None)
