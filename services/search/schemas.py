"""The shapes that cross the wire: search parameters in, validated here (again after the gateway)."""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dsi import kinds as kind_registry, vocab
from dsi.errors import InvalidInput
from dsi.schemas import cluster_slug, country_code, vocabulary_slug
from dsi.validation import comma_list, parse_model

from .models import FACETS, KINDS

MAX_PER_PAGE = 100
MAX_RESULTS = 10_000  # deep paging past this is a crawl, not a search: the directory's export serves that


def _listed(value):
    """A list, or a comma-separated string as a query string carries it."""
    if value is not None and not isinstance(value, (str, list, tuple)):
        raise ValueError("expected a list of values")
    return comma_list(value)


def _slugs(vocabulary: dict[str, str]):
    return lambda values: list(dict.fromkeys(vocabulary_slug(vocabulary, value) for value in values))


_FACET_CHECKS = {
    "social_areas": _slugs(vocab.SOCIAL_AREAS),
    "technologies": _slugs(vocab.TECHNOLOGIES),
    "dsi_focus": _slugs(vocab.DSI_FOCUS),
    "organisation_type": _slugs(vocab.ORGANISATION_TYPES),
    "organisation_size": _slugs(vocab.ORGANISATION_SIZES),
}


# a kind by its name, its plural or its URL segment: "story", "stories", "case-studies" are all fine
_KIND_NAMES = {spelling: kind.name for kind in kind_registry.KINDS
               for spelling in (kind.name, kind.plural, kind.segment, kind.segment.replace("-", "_"))}


class BBox(BaseModel):
    min_lon: float = Field(ge=-180, le=180)
    min_lat: float = Field(ge=-90, le=90)
    max_lon: float = Field(ge=-180, le=180)
    max_lat: float = Field(ge=-90, le=90)

    @model_validator(mode="after")
    def _ordered(self):
        if self.min_lat > self.max_lat:
            raise ValueError("minLat must not exceed maxLat")
        return self  # min_lon > max_lon is a box across the antimeridian

    @property
    def lon_ranges(self) -> list[tuple[float, float]]:
        if self.min_lon <= self.max_lon:
            return [(self.min_lon, self.max_lon)]
        return [(self.min_lon, 180.0), (-180.0, self.max_lon)]


class SearchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field("", max_length=200)
    # each list at most as long as its vocabulary (with room for synonyms): a longer one is an attack, not a search
    kind: list[str] = Field([], max_length=len(KINDS))
    country: list[str] = Field([], max_length=250)
    social_areas: list[str] = Field([], max_length=40)
    cluster: list[str] = Field([], max_length=len(vocab.CLUSTERS))
    technologies: list[str] = Field([], max_length=40)
    dsi_focus: list[str] = Field([], max_length=20)
    organisation_type: list[str] = Field([], max_length=20)
    organisation_size: list[str] = Field([], max_length=20)
    sort: Literal["relevance", "name", "newest"] = "relevance"
    page: int = Field(1, ge=1, le=MAX_RESULTS)
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)
    bbox: BBox | None = None

    @field_validator("q", mode="before")
    @classmethod
    def _text(cls, value):
        return (value or "").strip() if isinstance(value, str) or value is None else value

    @field_validator(*FACETS, mode="before")
    @classmethod
    def _lists(cls, value):
        return _listed(value)

    @field_validator("kind")
    @classmethod
    def _kinds(cls, values):
        kinds = [_KIND_NAMES.get(value.lower()) for value in values]
        unknown = [value for value, kind in zip(values, kinds) if kind not in KINDS]
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r}; expected {' or '.join(KINDS)}")
        return list(dict.fromkeys(kinds))

    @field_validator("country")
    @classmethod
    def _countries(cls, values):
        return list(dict.fromkeys(country_code(value) for value in values))

    @field_validator("cluster")
    @classmethod
    def _clusters(cls, values):
        return list(dict.fromkeys(cluster_slug(value) for value in values))

    @field_validator(*_FACET_CHECKS)
    @classmethod
    def _vocabulary(cls, values, info):
        return _FACET_CHECKS[info.field_name](values)

    @field_validator("bbox", mode="before")
    @classmethod
    def _bbox(cls, value):
        if value in (None, ""):
            return None
        if isinstance(value, str):
            parts = value.split(",")
            if len(parts) != 4:
                raise ValueError("expected minLon,minLat,maxLon,maxLat")
            try:
                value = [float(part) for part in parts]
            except ValueError:
                raise ValueError("expected four numbers: minLon,minLat,maxLon,maxLat")
        if isinstance(value, (list, tuple)) and len(value) == 4:
            return dict(zip(("min_lon", "min_lat", "max_lon", "max_lat"), value))
        return value

    @model_validator(mode="after")
    def _not_too_deep(self):
        # a model validator, so it also holds when per_page is left at its default
        if self.page * self.per_page > MAX_RESULTS:
            raise ValueError(f"page × per_page may not exceed {MAX_RESULTS}")
        return self

    @property
    def filters(self) -> dict[str, list[str]]:
        """The selected values of each facet that has a selection."""
        return {facet: getattr(self, facet) for facet in FACETS if getattr(self, facet)}


def parse_params(params) -> SearchParams:
    """Validated search parameters, or InvalidInput naming each bad field."""
    try:
        return parse_model(SearchParams, {} if params is None else params, "The search has invalid parameters.",
                           not_object="Search parameters must be an object.")
    except InvalidInput as error:  # a bad corner of the box is an error of the box
        details = {key.split(".")[0] if key.startswith("bbox") else key: message
                   for key, message in error.details.items()}
        if "_" in details and isinstance(params, dict):  # the only check of the whole set is how deep it pages
            details["page"] = details.pop("_")
        raise InvalidInput(error.message, details)


def parse_suggest(q, limit) -> tuple[str, int]:
    if not isinstance(q, str) or len(q) > 200:
        raise InvalidInput("q must be text of at most 200 characters.", {"q": "expected text up to 200 characters"})
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 20:
        raise InvalidInput("limit must be from 1 to 20.", {"limit": "expected a number from 1 to 20"})
    return q.strip(), limit
