"""Shapes that cross the wire: sign-ups and preferences from the gateway, mail requests from other services,
an editor's changes to an edition. Checked at the gateway and again here before anything is written."""
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from dsi.schemas import Email, SocialArea
from dsi.validation import parse_model

from dsi.i18n import LANGUAGES


def _language(value: str) -> str:
    value = value.strip().lower()
    if value not in LANGUAGES:
        raise ValueError(f"expected one of: {', '.join(LANGUAGES)}")
    return value


def _ascii(value: str) -> str:
    if not value.isascii():  # our copies carry the address in a raw header (no SMTPUTF8)
        raise ValueError("only addresses written in ASCII letters can subscribe for now")
    return value


Language = Annotated[str, Field(max_length=8), AfterValidator(_language)]
TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    language: Language = "en"
    social_areas: list[SocialArea] = Field(default_factory=list, max_length=20)


class Subscription(Preferences):
    email: Annotated[Email, AfterValidator(_ascii)]


class MailRequest(BaseModel):
    """Payload of a `mail_requested` event."""

    template: str = Field(pattern=TEMPLATE_NAME.pattern)
    to: Email
    language: str = "en"
    context: dict = Field(default_factory=dict)


class TestCopy(BaseModel):
    to: Email


class EditionChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    subject: str | None = Field(default=None, min_length=1, max_length=200)
    intro: str | None = Field(default=None, max_length=5000)
    # per interface language; a language without its own falls back to `subject` / `intro`
    subjects: dict[Language, Annotated[str, Field(max_length=200)]] | None = None
    intros: dict[Language, Annotated[str, Field(max_length=5000)]] | None = None


EDITION_SECTIONS = Literal["stories", "events", "funding", "records"]


class EditionArrangement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sections: dict[EDITION_SECTIONS, Annotated[list[int], Field(max_length=1000)] | None] = Field(min_length=1)

    @field_validator("sections")
    @classmethod
    def _no_repeats(cls, sections):
        for section, ids in sections.items():
            if ids is not None and len(set(ids)) != len(ids):
                raise ValueError(f"an item is listed twice in {section}")
        return sections


def parse(model: type[BaseModel], body, what: str):
    """`body` validated as `model`, or InvalidInput naming each bad field."""
    model_ = parse_model(model, body, f"The {what} has invalid fields.")
    if hasattr(model_, "social_areas"):
        model_.social_areas = list(dict.fromkeys(model_.social_areas))
    return model_
