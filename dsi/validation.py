"""Input checking shared by every service and the gateway: one way to turn untrusted input into a pydantic
model, or into an InvalidInput that names each bad field; and the bounds every owner checks again on its RPC
arguments (ids, whole numbers, paging), whatever the caller did."""
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from dsi.errors import InvalidInput, NotFound

MAX_ID = 2**63 - 1  # the largest id a database column holds (BIGINT); larger ones name nothing


def field_errors(error: ValidationError, skip: set[str] | frozenset = frozenset()) -> dict[str, str]:
    """pydantic's errors as {"field.path": "message"}; `_` for errors of the whole body. `skip`: location parts
    that are no field (the tags of a discriminated union)."""
    details = {}
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"] if part not in skip) or "_"
        details.setdefault(path, item["msg"].removeprefix("Value error, "))
    return details


def parse_model(model: type[BaseModel] | TypeAdapter, body, message: str = "Some fields are not valid.",
                skip: set[str] | frozenset = frozenset(), not_object: str = "The body must be a JSON object."):
    """`body` (a dict) validated as `model`, or InvalidInput(message) with an error per field. A model validator
    that names its field as "field: message" is reported under that field."""
    if not isinstance(body, dict):
        raise InvalidInput(not_object, {"_": "expected an object"})
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(body)
        return model.model_validate(body)
    except ValidationError as error:
        fields = getattr(model, "model_fields", {})
        details = {}
        for path, problem in field_errors(error, skip).items():
            field, _, rest = problem.partition(": ")
            if path == "_" and rest and field in fields:
                path, problem = field, rest
            details[path] = problem
        raise InvalidInput(message, details)


def comma_list(value) -> list[str]:
    """Values given as a list or as one comma-separated string (as a query string carries them), trimmed,
    without empties: `"a, b,"` and `["a", "b"]` both give ['a', 'b']."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    parts = []
    for item in value:
        if isinstance(item, str):
            parts.extend(part.strip() for part in item.split(",") if part.strip())
    return parts


MAX_DEPTH = 10_000  # how far paging may reach (page × per_page): deeper is a crawl; exports serve that


def parse_id(value, name: str = "id") -> int:
    """An id argument as an int: InvalidInput when it is no whole number, NotFound past what a database column
    holds (such an id names nothing; the driver would fail on it)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"{name} must be a whole number.", {name: "expected a whole number"})
    if isinstance(value, str):
        if not value.strip().isascii() or not value.strip().isdigit() or len(value.strip()) > 30:
            raise InvalidInput(f"{name} must be a whole number.", {name: "expected a whole number"})
        value = int(value)
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"Nothing has the {name} {value if value.bit_length() < 128 else 'given'}.")
    return value


def parse_int(value, name: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`, or InvalidInput naming the argument."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().lstrip("-").isdigit() and len(value) < 30:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}.",
                           {name: f"expected a whole number from {low} to {high}"})
    return value


class Paging(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: int = Field(1, ge=1, le=MAX_DEPTH)
    per_page: int = Field(20, ge=1, le=100)

    @model_validator(mode="after")
    def _not_too_deep(self):
        if self.page * self.per_page > MAX_DEPTH:
            raise ValueError(f"page × per_page may not exceed {MAX_DEPTH}")
        return self


def parse_paging(page, per_page, max_per_page: int = 100) -> tuple[int, int]:
    """Validated (page, per_page): InvalidInput for anything out of bounds, never work proportional to it."""
    try:
        paging = Paging.model_validate({"page": page, "per_page": per_page})
    except ValidationError as error:
        details = field_errors(error)
        raise InvalidInput("Invalid paging.", {"page" if key == "_" else key: message
                                               for key, message in details.items()})
    if paging.per_page > max_per_page:
        raise InvalidInput("Invalid paging.", {"per_page": f"at most {max_per_page}"})
    return paging.page, paging.per_page
