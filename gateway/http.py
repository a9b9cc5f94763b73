"""HTTP plumbing of the gateway: JSON responses, errors mapped to stable codes, RPC calls with a deadline."""
import functools
import json
import logging

import eventlet
from nameko.exceptions import UnknownService
from werkzeug.wrappers import Response

from dsi.errors import InvalidInput, PlatformError, RateLimited

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
MAX_PER_PAGE = 100
RPC_TIMEOUT = 10


class PayloadTooLarge(PlatformError):
    code, status = "PAYLOAD_TOO_LARGE", 413


class ServiceUnavailable(PlatformError):
    code, status = "SERVICE_UNAVAILABLE", 503


class BadRequest(PlatformError):
    code, status = "BAD_REQUEST", 400


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def error_response(error: PlatformError) -> Response:
    headers = {"Retry-After": str(error.details["retry_after"])} if isinstance(error, RateLimited) else None
    return json_response(error.to_json(), error.status, headers)


def api(handler):
    """Wraps an HTTP handler so that every failure becomes a JSON error and nothing escapes as a bare 500."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        try:
            return handler(self, request, *args, **kwargs)
        except PlatformError as error:
            return error_response(error)
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            return json_response({"error": "INTERNAL", "message": "Something went wrong on our side."}, 500)

    return wrapper


def call(method, *args, timeout: float = RPC_TIMEOUT, **kwargs):
    """An RPC call that gives up after `timeout` seconds with a 503 instead of waiting forever."""
    try:
        with eventlet.Timeout(timeout):
            return method(*args, **kwargs)
    except eventlet.Timeout:
        raise ServiceUnavailable("A service did not answer in time; please try again shortly.")
    except UnknownService:  # it never ran on this broker: no queue takes the request
        raise ServiceUnavailable("A service is not running; please try again shortly.")


def json_body(request):
    """The request's JSON body, refusing oversized or malformed bodies with a clear 4xx."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}")


def int_arg(request, name: str, default: int, low: int = 1, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number.", {name: "expected a whole number"})
    if value < low or (high is not None and value > high):
        limits = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"{name} must be {limits}.", {name: f"expected a number {limits}"})
    return value


def list_arg(request, name: str) -> list[str]:
    """Values of a repeatable parameter; `a,b` and `?x=a&x=b` both give ['a', 'b']."""
    values = []
    for raw in request.args.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def paging(request) -> tuple[int, int]:
    return int_arg(request, "page", 1, 1, 10_000), int_arg(request, "per_page", 20, 1, MAX_PER_PAGE)
