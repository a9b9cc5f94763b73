"""Shapes of the records that cross the wire: what a submission may contain, checked at the gateway and
again by the directory before it writes.

Vocabulary values are accepted by English label, slug or 2017 name and normalised to slugs; countries by
ISO 3166-1 alpha-2 code.
"""
from datetime import date
from typing import Annotated, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    TypeAdapter,
    model_validator,
)

from dsi import countries, kinds, vocab
from dsi.validation import parse_model

MAX_TAGS = 30


def _in(vocabulary: dict[str, str]):
    def check(value: str) -> str:
        slug = vocab.to_slug(vocabulary, value)
        if slug is None:
            shown = "; ".join(list(vocabulary.values())[:20])
            raise ValueError(f"unknown value {value[:80]!r}; expected one of: {shown}")
        return slug

    return AfterValidator(check)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _country(value: str) -> str:
    if not countries.is_code(value):
        raise ValueError("expected an ISO 3166-1 alpha-2 country code, like ES or PL")
    return value.upper()


def normalise_website(value: str) -> str:
    """A website as a full URL, so that it never renders as a link relative to our own site."""
    if value and not value.lower().startswith(("http://", "https://")):
        value = "https://" + value
    return value


Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(str.lower)]
Text = Annotated[str, Field(max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=60)]
Url = Annotated[str, Field(max_length=500), AfterValidator(normalise_website)]
Country = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_country)]
SocialArea = Annotated[str, Field(max_length=100), _in(vocab.SOCIAL_AREAS)]
Technology = Annotated[str, Field(max_length=100), _in(vocab.TECHNOLOGIES)]
Focus = Annotated[str, Field(max_length=100), _in(vocab.DSI_FOCUS)]


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int = Field(gt=0)
    role: Literal["lead", "partner"] = "partner"


class RecordFields(BaseModel):
    """Fields common to organisations and projects."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    website: Url = ""
    short_description: str = Field(min_length=1, max_length=300)
    long_description: str = Field(default="", max_length=20_000)
    country: Country | None = None
    city: Text = ""
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    start_date: date | None = None
    tags: Annotated[list[Tag], AfterValidator(_unique)] = Field(default_factory=list, max_length=MAX_TAGS)

    @model_validator(mode="after")
    def _both_coordinates(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class OrganisationFields(RecordFields):
    address: str = Field(default="", max_length=500)
    organisation_type: Annotated[str, _in(vocab.ORGANISATION_TYPES)] | None = None
    organisation_size: Annotated[str, _in(vocab.ORGANISATION_SIZES)] | None = None
    network_tags: Annotated[list[Tag], AfterValidator(_unique)] = Field(default_factory=list, max_length=MAX_TAGS)
    logo_url: Url = ""
    projects: list[Link] = Field(default_factory=list, max_length=100)


class ProjectFields(RecordFields):
    social_impact: str = Field(default="", max_length=10_000)
    status: Annotated[str, _in(vocab.PROJECT_STATUSES)] = "live"
    end_date: date | None = None
    social_areas: Annotated[list[SocialArea], AfterValidator(_unique)] = Field(default_factory=list, max_length=10)
    technologies: Annotated[list[Technology], AfterValidator(_unique)] = Field(default_factory=list, max_length=18)
    dsi_focus: Annotated[list[Focus], AfterValidator(_unique)] = Field(default_factory=list, max_length=4)
    organisations: list[Link] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class OrganisationSubmission(OrganisationFields):
    kind: Literal["organisation"]
    email: Email


class ProjectSubmission(ProjectFields):
    kind: Literal["project"]
    email: Email


Submission = Annotated[Union[OrganisationSubmission, ProjectSubmission], Field(discriminator="kind")]
FIELDS_BY_KIND = {name: kinds.get(name).fields_model() for name in kinds.names("directory")}
_submission = TypeAdapter(Submission)


def parse_submission(body) -> OrganisationSubmission | ProjectSubmission:
    """A validated submission, or InvalidInput with an error per field."""
    if isinstance(body, dict) and body.get("kind") not in FIELDS_BY_KIND:
        kinds.get(body.get("kind"), owner="directory")  # names the kinds there are
    return parse_model(_submission, body, "The submission has invalid fields.", skip=set(FIELDS_BY_KIND))


def parse_fields(kind: str, body) -> OrganisationFields | ProjectFields:
    """Validated record fields for an edit of an existing record (no kind or email in the body)."""
    return parse_model(FIELDS_BY_KIND[kind], body, "The edit has invalid fields.")
