"""HTTP plumbing of the gateway, shared by its three rooms (api/, site/, console/): RPC calls with a deadline,
request parsing, and the two decorators every route uses — `json_route` for JSON answers and `html_route` for
pages. Both map a service's error the same way: its status, its message, and Retry-After when rate limited.
"""
import functools
import inspect
import json
import logging
import tempfile

import eventlet
from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko import rpc as nameko_rpc
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from dsi import fastjson
from dsi.errors import InvalidInput, PlatformError, RateLimited
from dsi.logs import REQUEST_ID, REQUEST_ID_HEADER
from dsi.messaging import ChannelPublisher, ReplyListener, RequestChannels
from dsi.validation import comma_list

from . import caching, i18n

log = logging.getLogger(__name__)


class _Route(HttpRequestHandler):
    """nameko's http entrypoint without its check of each call's arguments against the handler's signature
    (inspect.getcallargs, 7 % of the gateway's CPU on a 304): they come from the route's own rule."""

    def check_signature(self, args, kwargs):
        pass


http = _Route.decorator

MAX_BODY_BYTES = 256 * 1024  # any body, unless its route allows more (an image upload)
BODY_LIMIT = "dsi.body_limit"  # the request's route's limit, in bytes, and what the body is called in refusals
HTTPS = "dsi.https"  # set by security.with_headers: the visitor's connection is HTTPS (cookies are Secure then)
SET_ASIDE_RETRY_AFTER = 300  # seconds: a dead-lettered request waits for an operator (dsi dead-letters)
DRAIN_BYTES = 8 * 1024 * 1024  # what is read of a refused body before the connection is closed instead
MAX_JSON_DEPTH = 32
MAX_PER_PAGE = 100
RPC_TIMEOUT = 10
BROKER_ERRORS = (OSError, KombuError, AMQPError)


class PayloadTooLarge(PlatformError):
    code, status = "PAYLOAD_TOO_LARGE", 413


class PreconditionRequired(PlatformError):
    """A write that must say which version it was made from (If-Match), and did not."""

    code, status = "PRECONDITION_REQUIRED", 428


class ServiceUnavailable(PlatformError):
    code, status = "SERVICE_UNAVAILABLE", 503


class TimedOut(ServiceUnavailable):
    """The request went out (it may wait in the owner's durable queue) but no answer came in time."""


class BadRequest(PlatformError):
    code, status = "BAD_REQUEST", 400


class Unexpected(PlatformError):
    """What a visitor is told of a failure that is ours (it is logged in full)."""

    code, status = "INTERNAL", 500

    def __init__(self):
        super().__init__("Something went wrong on our side; please try again.")


UNAVAILABLE_RETRY_AFTER = 5  # seconds: a supervised service is back within that (dsi run, containers)


def retry_headers(error: PlatformError) -> dict | None:
    """Retry-After for a rate-limited request (when the limit says when), a set-aside one or an owner that does not
    answer: the one place it is written."""
    details = error.details if isinstance(error.details, dict) else {}
    if isinstance(error, RateLimited):
        return {"Retry-After": str(details["retry_after"])} if details.get("retry_after") else None
    if isinstance(error, ServiceUnavailable):
        return {"Retry-After": str(details.get("retry_after") or UNAVAILABLE_RETRY_AFTER)}
    return None


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        fastjson.dumps(body),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def error_response(error: PlatformError) -> Response:
    return json_response(error.to_json(), error.status, retry_headers(error))


def _answering(handler, on_error, max_body: tuple[int, str] | None = None):
    """`handler`, with every failure turned into `on_error(self, request, error, status)`; a public read answered
    from the last good answer when its owner does not answer, and given its caching headers (common/caching; while
    its kept answer is fresh, the door answers it before any route, caching.answering_from_memory).
    `max_body`: (bytes, what the body is called) where the route takes more than MAX_BODY_BYTES."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        if max_body:
            request.environ[BODY_LIMIT] = max_body
        try:
            bound_body(request)
            response = handler(self, request, *args, **kwargs)
        except ServiceUnavailable as error:
            response = caching.stale(request, getattr(error, "service", "unknown")) or on_error(
                self, request, error, error.status)
            if isinstance(response, Response) and response.status_code == 503:
                response.headers["Cache-Control"] = caching.NO_STORE
            return with_request_id(request, response)
        except PlatformError as error:
            response = on_error(self, request, error, error.status)
        except RequestEntityTooLarge:  # werkzeug, reading a form or a streamed body past the limit
            response = on_error(self, request, too_large(request), 413)
        except HTTPException as error:  # werkzeug's own refusals (a malformed form…): their status, our look
            response = on_error(self, request, BadRequest(error.description or "Bad request."), 400)
        except RecursionError:
            response = on_error(self, request, BadRequest("The body is nested too deeply."), 400)
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            return with_request_id(request, on_error(self, request, Unexpected(), 500))
        if isinstance(response, Response) and response.status_code == 413:
            response.headers["Connection"] = "close"  # what is left of a body past the drain bound is not read
        if isinstance(response, Response):
            response = caching.remember(request, response)
        return with_request_id(request, response)

    return wrapper


def with_request_id(request, answer):
    """The answer names the request's id (dsi.logs.Tracing), so a client can quote it to an operator."""
    request_id = request.environ.get(REQUEST_ID)
    if request_id and isinstance(answer, Response):
        answer.headers[REQUEST_ID_HEADER] = request_id
    return answer


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


def html_route(methods: str, path: str, on_error, localised: bool = True, max_body: tuple[int, str] | None = None):
    """A page. `on_error(self, request, error, status)` renders a failure in the page's look. A localised page
    answers at `path` and at `/<lang>path`, and its handler receives the language as `lang`."""

    def decorate(handler):
        if not localised:
            return http(methods, path)(_answering(handler, on_error, max_body))

        def with_language(self, request, lang=i18n.DEFAULT, **values):
            return handler(self, request, lang, **values)

        entrypoint = _answering(functools.wraps(handler)(with_language), on_error)
        http(methods, path)(entrypoint)
        http(methods, "/" + i18n.LANG_RULE + path)(entrypoint)
        return entrypoint

    return decorate


CATCH_ALL = "/<path:anything>"
ANY_METHOD = "GET,POST,PUT,PATCH,DELETE,OPTIONS"


@functools.lru_cache(maxsize=4)
def _routes(service_class) -> Map:
    """Every route of the service but the catch-all, to tell which methods an address takes."""
    rules = []
    for _, member in inspect.getmembers(service_class, callable):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            url = getattr(entrypoint, "url", None)
            if url and url != CATCH_ALL:
                rules.append(Rule(url, methods=entrypoint.method.split(","), endpoint=url))
    return Map(rules)


def allowed_methods(service_class, path: str) -> list[str]:
    """The methods the service answers at `path`; none when no route has it."""
    try:
        return sorted(_routes(service_class).bind("gateway").allowed_methods(path))
    except HTTPException:
        return []


def method_not_allowed(allowed: list[str], as_json: bool, page) -> Response:
    """405 with Allow, as JSON under /api/ or as `page()` elsewhere."""
    message = f"This address does not take this method; it takes {', '.join(allowed)}."
    response = json_response({"error": "METHOD_NOT_ALLOWED", "message": message}, 405) if as_json else page()
    response.status_code = 405
    response.headers["Allow"] = ", ".join(allowed)
    return response


class RpcProxy(nameko_rpc.RpcProxy):
    """nameko's RPC proxy, whose requests go out on the gateway's kept channels (dsi.messaging.Channels) and whose
    replies come without acks (dsi.messaging.ReplyListener). A request for a public read (one caching.private
    does not hold back) is a transient message: lost only with the broker itself, when the visitor gets the last
    good answer or a 503 to retry, and the broker keeps nothing of it on disk. Anything else — a write, a staff
    page, an emailed link — goes out persistent, as nameko sends it."""

    kept = RequestChannels()
    rpc_reply_listener = ReplyListener()

    def get_dependency(self, worker_ctx):
        return _ServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener, channels=self.kept.channels,
                             **self.options)


class _ServiceProxy(nameko_rpc.ServiceProxy):
    """Decides when a call is made, not for every proxy of every request (most requests call one service)."""

    def __getattr__(self, name):
        options, request = self.options, self.worker_ctx.args[0] if self.worker_ctx.args else None
        if isinstance(request, Request) and not caching.private(request):
            options = {**options, "delivery_mode": NON_PERSISTENT}
        return _MethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener, **options)


class _MethodProxy(nameko_rpc.MethodProxy):
    publisher_cls = ChannelPublisher


def call(method, *args, timeout: float = RPC_TIMEOUT, **kwargs):
    """An RPC call that gives up after `timeout` seconds with a 503 instead of waiting forever; the error names
    the service that did not answer (the stale-answer figures count by it)."""
    try:
        return _call(method, *args, timeout=timeout, **kwargs)
    except ServiceUnavailable as error:
        error.service = getattr(getattr(method, "__self__", method), "service_name", "unknown")
        raise


def _call(method, *args, timeout: float, **kwargs):
    try:
        with eventlet.Timeout(timeout):
            return method(*args, **kwargs)
    except eventlet.Timeout:
        raise TimedOut("A service did not answer in time; please try again shortly.")
    except UnknownService:  # it never ran on this broker: no queue takes the request
        raise ServiceUnavailable("A service is not running; please try again shortly.")
    except RemoteError as error:
        if error.exc_type != "PoisonMessage":
            raise
        # the request made the service fail again and again and was dead-lettered (dsi/deadletters.py)
        raise ServiceUnavailable("This request could not be handled and was set aside for the operators; "
                                 "please try again later.", {"retry_after": SET_ASIDE_RETRY_AFTER})
    except BROKER_ERRORS as error:  # the broker is down or the connection broke
        log.warning("broker unreachable: %r", error)
        raise ServiceUnavailable("The platform's message broker cannot be reached; please try again shortly.")


def in_parallel(*parts):
    """Each of `parts` (functions of no argument, such as RPC calls) at the same time, each but the last in a green
    thread of its own, so that their owners answer together rather than one after the other; their results in
    order, or the first part's error, raised on the caller's green thread (which answers for it)."""
    threads = [eventlet.spawn(_outcome, part) for part in parts[:-1]]
    try:
        last = parts[-1]()  # the last on this green thread: one spawn fewer, the same concurrency
    except Exception:
        for thread in threads:  # an earlier part's error first, as their order says
            _result(thread)
        raise
    return [_result(thread) for thread in threads] + [last]


def _outcome(part) -> tuple[Exception | None, object]:
    """A part's (error, result). Its error is a value here: eventlet writes a traceback to the log for every green
    thread that ends with one, even a record that does not exist (a 404)."""
    try:
        return None, part()
    except Exception as error:
        return error, None


def _result(thread):
    error, result = thread.wait()
    if error is not None:
        raise error
    return result


def optional(method, *args, timeout: float = 5):
    """A service's answer for a part of a page that can be left out while the service is down."""
    try:
        return call(method, *args, timeout=timeout)
    except PlatformError:
        return None


def over_https(request) -> bool:
    """The visitor's connection is HTTPS (see security.is_https: a forwarded scheme counts from trusted proxies
    only)."""
    return bool(request.environ.get(HTTPS, request.scheme == "https"))


def body_limit(request) -> tuple[int, str]:
    return request.environ.get(BODY_LIMIT, (MAX_BODY_BYTES, "body"))


def too_large(request) -> PayloadTooLarge:
    drain(request)
    limit, what = body_limit(request)
    size = f"{limit // 1024} KiB" if limit < 1024 * 1024 else f"{limit // (1024 * 1024)} MB"
    return PayloadTooLarge(f"The {what} is larger than {size}.")


def drain(request) -> None:
    """Read (and drop) what is left of a refused body, up to DRAIN_BYTES, so that a client still sending it can
    read the answer (Python's urllib sees a broken pipe otherwise); past the bound the connection is closed."""
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return
    left = DRAIN_BYTES
    try:
        while left > 0 and (chunk := stream.read(min(64 * 1024, left))):
            left -= len(chunk)
    except (OSError, ValueError):
        pass


def bound_body(request) -> None:
    """Bodies at the door: a declared length over the route's limit is refused at once (its body drained, not
    kept); a streamed (chunked) body is read in chunks, not taken as empty, up to the same limit, into a file
    that stays in memory only while it is small."""
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return
    limit = body_limit(request)[0]
    request.max_content_length = limit  # werkzeug's form parser stops at it too
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # eventlet decodes the chunks; read them here, bounded, and hand the rest of the gateway a plain body
        stream, size = request.environ["wsgi.input"], 0
        body = tempfile.SpooledTemporaryFile(MAX_BODY_BYTES)  # noqa: SIM115 (the request's body from here on)
        while size <= limit and (chunk := stream.read(min(64 * 1024, limit + 1 - size))):
            body.write(chunk)
            size += len(chunk)
        if size > limit:
            raise too_large(request)
        body.seek(0)
        request.environ.update({"wsgi.input": body, "CONTENT_LENGTH": str(size)})
        request.environ.pop("HTTP_TRANSFER_ENCODING", None)
    if (request.content_length or 0) > limit:
        raise too_large(request)


def check_size(request, what: str = "body") -> None:
    if (request.content_length or 0) > body_limit(request)[0]:
        raise too_large(request)


def json_body(request):
    """The request's JSON body, refusing oversized, malformed or too deeply nested bodies with a clear 4xx."""
    check_size(request)
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise too_large(request)
    too_deep = BadRequest(f"The body is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}")
    except RecursionError:
        raise too_deep
    if nesting(value) > MAX_JSON_DEPTH:
        raise too_deep
    return value


def nesting(value) -> int:
    """How deeply arrays and objects nest in a parsed JSON value."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def token_arg(request) -> str:
    """The signed token of an emailed link."""
    return request.args.get("token", "")


def int_arg(request, name: str, default: int, low: int = 1, high: int | None = None) -> int:
    given = request.args.getlist(name)
    if not given:
        return default
    if len(given) > 1:
        raise InvalidInput(f"{name} is given more than once.", {name: "expected one whole number"})
    raw = given[0]
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
