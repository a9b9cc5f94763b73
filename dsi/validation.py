"""Input checking shared by every service and the gateway: one way to turn untrusted input into a pydantic
model, or into an InvalidInput that names each bad field."""
from pydantic import BaseModel, TypeAdapter, ValidationError

from dsi.errors import InvalidInput


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
