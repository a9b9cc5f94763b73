"""The interface every index backend implements: what it stores and how it is asked (see __init__.py)."""
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol, TypeVar

from dsi.errors import InvalidInput

from ..schemas import MAX_RESULTS, BBox
from ..text import Terms

T = TypeVar("T")

# Full-text fields with their weight: the name counts most.
FIELDS = {"name": 3.0, "description": 1.0, "extra": 0.7}


@dataclass
class Find:
    terms: Terms  # empty: every document
    fields: tuple[str, ...] = tuple(FIELDS)
    filters: dict[str, list[str]] = field(default_factory=dict)  # OR within a facet, AND across facets
    bbox: BBox | None = None
    sort: str = "relevance"  # relevance | name | newest; relevance without terms means name
    offset: int = 0
    limit: int = 20
    facets: tuple[str, ...] = ()  # count these; each ignores its own selection

    def __post_init__(self):
        # backends allocate for offset + limit hits: the bound is kept here, whoever builds the request
        if not (0 <= self.offset and 0 <= self.limit and self.offset + self.limit <= MAX_RESULTS):
            raise InvalidInput(f"A search may reach at most {MAX_RESULTS} results deep.",
                               {"page": f"offset + limit may not exceed {MAX_RESULTS}"})


@dataclass
class Found:
    total: int
    hits: list[dict]  # {"id", "name", "description", "item"}
    facets: dict[str, dict[str, int]]


@dataclass
class Grid:
    cells: list[dict]  # {"count", "latitude", "longitude", "co_located", "id", "record"}; the fullest first
    placed: int  # matching records that have a position
    truncated: bool  # more cells held records than were asked for


class Backend(Protocol):
    name: str

    def upsert(self, document: dict) -> bool:
        """Store `document` (or a tombstone) unless the index holds the same or a newer version of it."""

    def find(self, find: Find) -> Found: ...

    def together(self, work: Callable[[], T]) -> T:
        """`work()`, which makes several calls of this backend, run as one unit (the embedded backend's searches
        take one hop to an OS thread for all of them)."""

    def live_versions(self) -> dict[int, int]:
        """Id → version of every searchable document."""

    def rebuild(self, documents: Iterable[dict]) -> int:
        """Build a new index from `documents` while the current one keeps answering (and keeps receiving
        upserts, which also go to the new one), then swap it in. Returns how many documents it holds."""

    def is_empty(self) -> bool: ...

    # the map, the network and the groupings (dataviz.py)
    def grid(self, find: Find, level: int, limit: int) -> Grid: ...

    def records(self, ids: list[int], find: Find | None = None, limit: int | None = None,
                naming: bool = False, brief: bool = False) -> dict[int, dict]:
        """Id → {"item", "links"}; `brief`: the item's id, kind, name and country, the links' ids and roles."""

    def count(self, find: Find) -> int: ...

    def revision(self):
        """A value that changes whenever the answers may change; None when that cannot be known here."""

    def groups(self, find: Find, by: str, then: str | None, size: int) -> dict: ...

    def close(self) -> None: ...
