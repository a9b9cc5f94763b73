"""What crosses the wire: the editable fields of each kind (validated here before anything is written), list
filters, and the public view of an item."""
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from dsi import vocab
from dsi.errors import InvalidInput
from dsi.schemas import Country, Email, IsoDate, IsoDateTime, SocialArea, Url, cluster_slug, in_vocabulary
from dsi.validation import parse_model

from .kinds import ATTENDANCE, RESOURCE_TYPES, STORY_CATEGORIES

Lang = Literal["en", "de", "fr", "it", "es", "ca", "pl"]
MAX_PER_PAGE = 100


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA time zone, like Europe/Brussels")
    if value not in available_timezones():
        raise ValueError("expected an IANA time zone, like Europe/Brussels")
    return value


Cluster = Annotated[str, Field(max_length=100), AfterValidator(cluster_slug)]
Areas = Annotated[list[SocialArea], AfterValidator(_unique)]
Slug = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Markdown = Annotated[str, Field(max_length=100_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ImageRef(Strict):
    image_id: str = Field(min_length=1, max_length=36)
    alt: str = Field(min_length=1, max_length=300)
    caption: str = Field(default="", max_length=500)


class TranslationIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(default="", max_length=1000)
    body: Markdown = ""


class ContentFields(Strict):
    """Fields every kind has."""

    title: str = Field(min_length=1, max_length=300)
    slug: Slug | None = None
    lang: Lang = "en"
    summary: str = Field(default="", max_length=1000)
    body: Markdown = ""
    cluster: Cluster | None = None
    social_areas: Areas = Field(default_factory=list, max_length=10)
    images: list[ImageRef] = Field(default_factory=list, max_length=20)
    translations: dict[Lang, TranslationIn] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _no_translation_into_itself(self):
        if self.lang in self.translations:
            raise ValueError(f"translations: {self.lang} is the original language")
        return self


class StoryFields(ContentFields):
    kind: Literal["story"] = "story"
    summary: str = Field(default="", max_length=300)  # the standfirst
    category: Literal["news", "blog", "feature", "interview"] = "news"
    authors: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=20)
    related_organisations: list[int] = Field(default_factory=list, max_length=50)
    related_projects: list[int] = Field(default_factory=list, max_length=50)
    published_on: IsoDate | None = None  # the date the story shows (the original's, for imported stories)


class CaseStudyFields(ContentFields):
    kind: Literal["case_study"] = "case_study"
    card_text: str = Field(default="", max_length=300)
    organisation_id: int | None = Field(default=None, gt=0)
    project_id: int | None = Field(default=None, gt=0)
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    link_url: Url = ""
    link_label: str = Field(default="", max_length=200)
    featured_position: int | None = Field(default=None, ge=1, le=100)


class EventFields(ContentFields):
    kind: Literal["event"] = "event"
    start: IsoDateTime | None = None  # local time in `timezone` (its date alone when all day)
    end: IsoDateTime | None = None
    timezone: Annotated[str, Field(max_length=64), AfterValidator(_zone)] = "Europe/Brussels"
    all_day: bool = False
    attendance: Literal["online", "in_person", "hybrid"] = "in_person"
    venue: str = Field(default="", max_length=300)
    city: str = Field(default="", max_length=200)
    country: Country | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    free: bool = False
    price: str = Field(default="", max_length=200)
    registration_url: Url = ""
    organiser: str = Field(default="", max_length=200)

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value):
        return value.replace(tzinfo=None) if value is not None else None  # local wall time in `timezone`

    @model_validator(mode="after")
    def _in_order(self):
        if self.start and self.end and self.end < self.start:
            raise ValueError("end: the event ends before it starts")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude: give both latitude and longitude, or neither")
        return self


class FundingFields(ContentFields):
    kind: Literal["funding"] = "funding"
    funding_types: Annotated[list[Annotated[str, in_vocabulary(vocab.FUNDING_TYPES)]],
                             AfterValidator(_unique)] = Field(default_factory=list, max_length=6)
    targets: Annotated[list[Annotated[str, in_vocabulary(vocab.FUNDING_TARGETS)]],
                       AfterValidator(_unique)] = Field(default_factory=list, max_length=5)
    countries: Annotated[list[Country], AfterValidator(_unique)] = Field(default_factory=list, max_length=60)
    europe_wide: bool = False
    funder_name: str = Field(default="", max_length=200)
    funder_url: Url = ""
    amount: str = Field(default="", max_length=200)
    closes_on: IsoDate | None = None
    rolling: bool = False
    apply_url: Url = ""

    @model_validator(mode="after")
    def _closing(self):
        if self.rolling and self.closes_on:
            raise ValueError("closes_on: a rolling call has no closing date")
        return self


class ResourceFields(ContentFields):
    kind: Literal["resource"] = "resource"
    resource_type: Literal["report", "guide", "dataset", "video", "course", "other"] = "other"
    publisher: str = Field(default="", max_length=300)
    resource_url: Url = ""  # where to read or download it (`url` is its page here)
    year: int | None = Field(default=None, ge=1900, le=2100)


class ClusterFields(ContentFields):
    kind: Literal["cluster"] = "cluster"
    subtitle: str = Field(default="", max_length=300)
    contact_text: Markdown = ""
    lead_partner: str = Field(default="", max_length=200)
    lead_partner_id: int | None = Field(default=None, gt=0)


FIELDS = {model.model_fields["kind"].default: model for model in (
    StoryFields, CaseStudyFields, EventFields, FundingFields, ResourceFields, ClusterFields)}


class SuggestionIn(Strict):
    email: Email
    language: Lang = "en"  # of the page it came from: the suggester's mails are in it and link to pages in it


class EventSuggestion(EventFields, SuggestionIn):
    pass


class FundingSuggestion(FundingFields, SuggestionIn):
    pass


SUGGESTIONS = {"event": EventSuggestion, "funding": FundingSuggestion}


def parse_suggestion(body) -> EventSuggestion | FundingSuggestion:
    """A suggestion of an event or a funding call, validated (the gateway checks it at the edge with this too),
    or InvalidInput naming each bad field."""
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.", {"_": "expected an object"})
    if body.get("kind") not in SUGGESTIONS:
        raise InvalidInput("Unknown kind.", {"kind": "expected 'event' or 'funding'"})
    fields = parse(SUGGESTIONS[body["kind"]], body, "The suggestion has invalid fields.")
    if fields.kind == "event" and fields.start is None:  # what approval needs to publish it, asked for up front
        raise InvalidInput("When does the event start?", {"start": "required"})
    if fields.kind == "funding" and not (fields.closes_on or fields.rolling):
        raise InvalidInput("When does the call close?", {"closes_on": "give a date, or mark the call rolling"})
    return fields


def parse(model, body, message: str = "Some fields are not valid."):
    """A validated model, or InvalidInput naming each bad field."""
    return parse_model(model, body, message, not_object="Expected an object.")


def parse_fields(kind: str, body) -> ContentFields:
    if kind not in FIELDS:
        raise InvalidInput("Unknown kind.", {"kind": f"expected one of {', '.join(FIELDS)}"})
    if isinstance(body, dict):
        body = {**body, "kind": kind}
    return parse(FIELDS[kind], body)


# --- list filters ------------------------------------------------------------------------------------------------

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class Page(Strict):
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE)
    lang: Lang = "en"


class AboutRecords(Page):
    organisation: int | None = Field(default=None, gt=0)  # a directory id: what is about this organisation
    project: int | None = Field(default=None, gt=0)


class StoryFilters(AboutRecords):
    category: Literal["news", "blog", "feature", "interview"] | None = None
    cluster: Cluster | None = None
    area: SocialArea | None = None


class CaseStudyFilters(AboutRecords):
    cluster: Cluster | None = None
    area: SocialArea | None = None
    featured: bool | None = None


class EventFilters(Page):
    when: Literal["upcoming", "past"] = "upcoming"
    country: Country | None = None
    attendance: Literal["online", "in_person", "hybrid"] | None = None
    free: bool | None = None
    month: Month | None = None
    cluster: Cluster | None = None
    area: SocialArea | None = None


class FundingFilters(Page):
    status: Literal["open", "closed"] = "open"
    type: Annotated[str, in_vocabulary(vocab.FUNDING_TYPES)] | None = None
    target: Annotated[str, in_vocabulary(vocab.FUNDING_TARGETS)] | None = None
    country: Country | None = None
    closing_before: date | None = None
    cluster: Cluster | None = None


class ResourceFilters(Page):
    type: Literal["report", "guide", "dataset", "video", "course", "other"] | None = None
    cluster: Cluster | None = None
    language: Lang | None = None
    area: SocialArea | None = None


class ClusterFilters(Page):
    pass


FILTERS = {"story": StoryFilters, "case_study": CaseStudyFilters, "event": EventFilters,
           "funding": FundingFilters, "resource": ResourceFilters, "cluster": ClusterFilters}

LABELS = {"category": STORY_CATEGORIES, "resource_type": RESOURCE_TYPES, "attendance": ATTENDANCE}
