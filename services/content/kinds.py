"""The content service's kinds, as the platform's registry (dsi/kinds.py) declares them, and its vocabularies
(kept in dsi/vocab.py, where the gateway's pages find them too)."""
from dsi import kinds as registry
from dsi.kinds import Kind
from dsi.vocab import ATTENDANCE, RESOURCE_TYPES, STORY_CATEGORIES  # noqa: F401 (the pages show them too)

KINDS: dict[str, Kind] = {kind.name: kind for kind in registry.owned_by("content")}

# Kinds the public may suggest (through moderation, like directory records).
SUGGESTIBLE = ("event", "funding")


def get(name: str) -> Kind:
    """A content kind, or InvalidInput naming the content kinds."""
    return registry.get(name, owner="content")


def filter_names(kind: Kind) -> tuple[str, ...]:
    """The query parameters its list accepts."""
    return tuple(name for name, _ in kind.api_filters)
