"""HTTP plumbing of the gateway, shared by its three rooms (api/, site/, console/): RPC calls with a deadline,
request parsing, and the two decorators every route uses — `json_route` for JSON answers and `html_route` for
pages. Both map a service's error the same way: its status, its message, and Retry-After when rate limited.
"""
import functools
import json
import logging

import eventlet
from nameko.exceptions import UnknownService
from nameko.web.handlers import http
from werkzeug.wrappers import Response

from dsi.errors import InvalidInput, PlatformError, RateLimited
from dsi.validation import comma_list

from . import i18n

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


class Unexpected(PlatformError):
    """What a visitor is told of a failure that is ours (it is logged in full)."""

    code, status = "INTERNAL", 500

    def __init__(self):
        super().__init__("Something went wrong on our side; please try again.")


def retry_headers(error: PlatformError) -> dict | None:
    """Retry-After for a rate-limited request: the one place it is written."""
    return {"Retry-After": str(error.details["retry_after"])} if isinstance(error, RateLimited) else None


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def error_response(error: PlatformError) -> Response:
    return json_response(error.to_json(), error.status, retry_headers(error))


def _answering(handler, on_error):
    """`handler`, with every failure turned into `on_error(self, request, error, status)`."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        try:
            return handler(self, request, *args, **kwargs)
        except PlatformError as error:
            return on_error(self, request, error, error.status)
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            return on_error(self, request, Unexpected(), 500)

    return wrapper


def _json_error(self, request, error: PlatformError, status: int) -> Response:
    if isinstance(error, Unexpected):
        return json_response({"error": "INTERNAL", "message": "Something went wrong on our side."}, 500)
    return error_response(error)


def json_route(methods: str, path: str, openapi: dict | None = None):
    """A JSON endpoint: every failure becomes a JSON error, nothing escapes as a bare 500. `openapi`: the route's
    operations for /api/openapi.json as {path: {method: operation}} (gateway/api/document.py gathers them)."""

    def decorate(handler):
        entrypoint = _answering(handler, _json_error)
        entrypoint.openapi = openapi or {}
        return http(methods, path)(entrypoint)

    return decorate


def html_route(methods: str, path: str, on_error, localised: bool = True):
    """A page. `on_error(self, request, error, status)` renders a failure in the page's look. A localised page
    answers at `path` and at `/<lang>path`, and its handler receives the language as `lang`."""

    def decorate(handler):
        if not localised:
            return http(methods, path)(_answering(handler, on_error))

        def with_language(self, request, lang=i18n.DEFAULT, **values):
            return handler(self, request, lang, **values)

        entrypoint = _answering(functools.wraps(handler)(with_language), on_error)
        http(methods, path)(entrypoint)
        http(methods, "/" + i18n.LANG_RULE + path)(entrypoint)
        return entrypoint

    return decorate


def call(method, *args, timeout: float = RPC_TIMEOUT, **kwargs):
    """An RPC call that gives up after `timeout` seconds with a 503 instead of waiting forever."""
    try:
        with eventlet.Timeout(timeout):
            return method(*args, **kwargs)
    except eventlet.Timeout:
        raise ServiceUnavailable("A service did not answer in time; please try again shortly.")
    except UnknownService:  # it never ran on this broker: no queue takes the request
        raise ServiceUnavailable("A service is not running; please try again shortly.")


def optional(method, *args, timeout: float = 5):
    """A service's answer for a part of a page that can be left out while the service is down."""
    try:
        return call(method, *args, timeout=timeout)
    except PlatformError:
        return None


def check_size(request, what: str = "body") -> None:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The {what} is larger than {MAX_BODY_BYTES // 1024} KiB.")


def json_body(request):
    """The request's JSON body, refusing oversized or malformed bodies with a clear 4xx."""
    check_size(request)
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}")


def token_arg(request) -> str:
    """The signed token of an emailed link."""
    return request.args.get("token", "")


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
    return comma_list(request.args.getlist(name))


def paging(request) -> tuple[int, int]:
    return int_arg(request, "page", 1, 1, 10_000), int_arg(request, "per_page", 20, 1, MAX_PER_PAGE)
