"""Shapes of the records that cross the wire: what a submission may contain, checked at the gateway and
again by the directory before it writes.

Vocabulary values are accepted by English label, slug or 2017 name and normalised to slugs; countries by
ISO 3166-1 alpha-2 code.
"""
import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal, Union
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    TypeAdapter,
    model_validator,
)

from dsi import countries, kinds, vocab
from dsi.validation import MAX_ID, parse_model

MAX_TAGS = 30


def vocabulary_slug(vocabulary: dict[str, str], value: str) -> str:
    """The slug of `value` (a label, slug or 2017 name) in `vocabulary`; a ValueError that shows its labels if none."""
    slug = vocab.to_slug(vocabulary, value)
    if slug is None:
        shown = "; ".join(list(vocabulary.values())[:20])
        raise ValueError(f"unknown value {value[:80]!r}; expected one of: {shown}")
    return slug


def cluster_slug(value: str) -> str:
    """The slug of one of the six clusters, by slug or label; a ValueError that lists them if `value` is none."""
    slug = vocab.to_slug(vocab.SOCIAL_AREAS, value)
    if slug not in vocab.CLUSTERS:
        raise ValueError(f"unknown cluster {value[:80]!r}; expected one of: {', '.join(vocab.CLUSTERS)}")
    return slug


def in_vocabulary(vocabulary: dict[str, str]) -> AfterValidator:
    """A field's check that its value is one of `vocabulary`'s, normalised to its slug."""
    return AfterValidator(lambda value: vocabulary_slug(vocabulary, value))


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 code in capitals; a ValueError if `value` is none."""
    if not countries.is_code(value):
        raise ValueError(f"unknown country code {value[:80]!r}; expected an ISO 3166-1 alpha-2 code, like ES or PL")
    return value.upper()


# Bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069) can make a name display as another;
# other format and control characters (NUL, escapes) have no place in a name or a short text.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_KEPT_IN_LONG_TEXT = set("\n\t")


def inert(value: str, keep=frozenset()) -> str:
    """`value` without bidi controls and control characters (Unicode category Cc; `keep` lists exceptions)."""
    if not isinstance(value, str):
        return value
    return "".join(char for char in value if char in keep or not (
        char in _BIDI_CONTROLS or unicodedata.category(char) == "Cc"))


def inert_long(value: str) -> str:
    """As `inert`, keeping line breaks and tabs (descriptions)."""
    if not isinstance(value, str):
        return value
    return inert(value.replace("\r\n", "\n").replace("\r", "\n"), _KEPT_IN_LONG_TEXT)


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+", re.I)  # a DNS name with at least one dot


def normalise_website(value: str) -> str:
    """A website as a full http(s) URL, so that it never renders as a link relative to our own site; anything
    that does not parse as one (spaces, another scheme, no host name) is refused."""
    if not value:
        return value
    if "://" not in value and not value.lower().startswith(("http:", "https:")):
        value = "https://" + value
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in value):
        raise ValueError("a web address may not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError("expected a web address like https://example.org")
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("expected an http or https address, like https://example.org")
    host = (parts.hostname or "").rstrip(".")
    try:
        ascii_host = host.encode("idna").decode("ascii") if host else ""
    except UnicodeError:
        ascii_host = ""
    if not _HOST.fullmatch(ascii_host) or parts.username or parts.password or port == 0:
        raise ValueError("expected a web address with a host name, like https://example.org")
    return value


def website_or_blank(value: str) -> str:
    """For imported data, which cannot be sent back: a valid website, or none."""
    try:
        return normalise_website(value)
    except ValueError:
        return ""


Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(str.lower)]
# The language a person wrote in: their mails are in it and link to pages in it.
InterfaceLanguage = Literal[tuple(vocab.INTERFACE_LANGUAGES)]
Inert = AfterValidator(inert)
Text = Annotated[str, Field(max_length=200), Inert]
Tag = Annotated[str, Field(min_length=1, max_length=60), Inert]
Name = Annotated[str, Field(min_length=2, max_length=200), Inert]
ShortText = Annotated[str, Field(min_length=1, max_length=300), Inert]
LongText = Annotated[str, AfterValidator(inert_long)]
Url = Annotated[str, Field(max_length=500), AfterValidator(normalise_website)]
Country = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(country_code)]
SocialArea = Annotated[str, Field(max_length=100), in_vocabulary(vocab.SOCIAL_AREAS)]
Technology = Annotated[str, Field(max_length=100), in_vocabulary(vocab.TECHNOLOGIES)]
Focus = Annotated[str, Field(max_length=100), in_vocabulary(vocab.DSI_FOCUS)]


def _written_as_a_date(value):
    """A date comes as text (YYYY-MM-DD), not as a number pydantic would read as seconds since 1970."""
    if value is not None and not isinstance(value, (str, date)):
        raise ValueError("expected a date written YYYY-MM-DD")
    return value


def _written_as_a_time(value):
    """A time comes as ISO 8601 text, not as a number pydantic would read as seconds since 1970."""
    if value is not None and not isinstance(value, (str, datetime)):
        raise ValueError("expected a date and time written YYYY-MM-DDTHH:MM")
    return value


IsoDate = Annotated[date, BeforeValidator(_written_as_a_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_written_as_a_time)]


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int = Field(gt=0, le=MAX_ID)
    role: Literal["lead", "partner"] = "partner"


class RecordFields(BaseModel):
    """Fields common to organisations and projects."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    website: Url = ""
    short_description: ShortText
    long_description: LongText = Field(default="", max_length=20_000)
    country: Country | None = None
    city: Text = ""
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    start_date: IsoDate | None = None
    tags: Annotated[list[Tag], AfterValidator(_unique)] = Field(default_factory=list, max_length=MAX_TAGS)

    @model_validator(mode="after")
    def _both_coordinates(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class OrganisationFields(RecordFields):
    address: LongText = Field(default="", max_length=500)
    organisation_type: Annotated[str, in_vocabulary(vocab.ORGANISATION_TYPES)] | None = None
    organisation_size: Annotated[str, in_vocabulary(vocab.ORGANISATION_SIZES)] | None = None
    network_tags: Annotated[list[Tag], AfterValidator(_unique)] = Field(default_factory=list, max_length=MAX_TAGS)
    logo_url: Url = ""
    projects: list[Link] = Field(default_factory=list, max_length=100)


class ProjectFields(RecordFields):
    social_impact: LongText = Field(default="", max_length=10_000)
    status: Annotated[str, in_vocabulary(vocab.PROJECT_STATUSES)] = "live"
    end_date: IsoDate | None = None
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
    language: InterfaceLanguage = "en"


MAX_NEW_ORGANISATIONS = 10


class ProjectSubmission(ProjectFields):
    kind: Literal["project"]
    email: Email
    language: InterfaceLanguage = "en"
    # Organisations not yet in the directory, proposed by name with the project: each becomes a pending
    # organisation of its own, linked to the project, reviewed beside it.
    new_organisations: Annotated[list[Name], AfterValidator(_unique)] = Field(
        default_factory=list, max_length=MAX_NEW_ORGANISATIONS)


Submission = Annotated[Union[OrganisationSubmission, ProjectSubmission], Field(discriminator="kind")]
FIELDS_BY_KIND = {name: kinds.get(name).fields_model() for name in kinds.names("directory")}
_submission = TypeAdapter(Submission)


def parse_submission(body) -> OrganisationSubmission | ProjectSubmission:
    """A validated submission, or InvalidInput with an error per field."""
    if isinstance(body, dict) and not (isinstance(body.get("kind"), str) and body["kind"] in FIELDS_BY_KIND):
        kinds.get(str(body.get("kind")), owner="directory")  # names the kinds there are
    return parse_model(_submission, body, "The submission has invalid fields.", skip=set(FIELDS_BY_KIND))


def parse_fields(kind: str, body) -> OrganisationFields | ProjectFields:
    """Validated record fields for an edit of an existing record (no kind or email in the body)."""
    return parse_model(FIELDS_BY_KIND[kind], body, "The edit has invalid fields.")
