"""The content service's kinds, as the platform's registry (dsi/kinds.py) declares them, and the vocabularies
only content uses."""
from dsi import kinds as registry
from dsi.kinds import Kind

KINDS: dict[str, Kind] = {kind.name: kind for kind in registry.owned_by("content")}

STORY_CATEGORIES = {"news": "News", "blog": "Blog", "feature": "Feature", "interview": "Interview"}
RESOURCE_TYPES = {"report": "Report", "guide": "Guide or toolkit", "dataset": "Dataset", "video": "Video",
                  "course": "Course", "other": "Other"}
ATTENDANCE = {"online": "Online", "in_person": "In person", "hybrid": "Hybrid"}

# Kinds the public may suggest (through moderation, like directory records).
SUGGESTIBLE = ("event", "funding")


def get(name: str) -> Kind:
    """A content kind, or InvalidInput naming the content kinds."""
    return registry.get(name, owner="content")


def filter_names(kind: Kind) -> tuple[str, ...]:
    """The query parameters its list accepts."""
    return tuple(name for name, _ in kind.api_filters)
