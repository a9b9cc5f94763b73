"""Public GET answers, remembered (gateway/answers.py): HTTP caching and answering when an owner does not.

- Every public 2xx GET (or HEAD) answer is kept as the last good answer to its request and carries an ETag, a
  Last-Modified and `Cache-Control: public, max-age=…, stale-while-revalidate=…, stale-if-error=…`. While it is
  fresh the same request is answered from memory without asking the owner: a 304 when its `If-None-Match` (or,
  without one, its `If-Modified-Since`) names it, the kept answer otherwise. No `Vary`: a public answer depends on
  its address only — scheme, host, path and query (the language is in the path; what depends on a cookie — a CSRF
  form — is never kept).
- When the owner does not answer within its budget (a 503 `SERVICE_UNAVAILABLE`), the last good answer is served
  instead, marked stale: `"stale": true` in a JSON object, a notice on a page, its `Age` header.
- Answers that carry a token (an emailed link), a CSRF form, a cookie, or anything of the staff console are never
  kept and say `Cache-Control: no-store`.
- The directory's and content's events mark every kept answer out of date: a published change is visible at
  once (what was kept still serves while an owner is down).
- Parts that many pages show (the public counts, the home page's sections, a cluster's page) are kept beside the
  answers (`SharedParts`), fresh as long and out of date on the same events: a page asks its owners only for
  what is its own.
"""
import re
import time
import uuid

from eventlet.event import Event
from nameko.extensions import DependencyProvider
from werkzeug.http import http_date
from werkzeug.wrappers import Request, Response

from dsi import events, fastjson, logs, metrics
from dsi.messaging import forgets_on

from .. import answers as answers_module
from ..answers import Answer

FRESH_FOR = 30  # seconds a kept answer is fresh (max-age; a 304 from memory)
REVALIDATE_WITHIN = 30  # seconds a cache may serve it while it asks again in the background
# Seconds after an event during which what is made may still miss it (search indexes the change meanwhile): kept
# then, it is not fresh.
SETTLE = 2.0
STALE_IF_ERROR = 24 * 3600  # seconds a cache may serve it when the gateway fails
PUBLIC = f"public, max-age={FRESH_FOR}, stale-while-revalidate={REVALIDATE_WITHIN}, stale-if-error={STALE_IF_ERROR}"
NO_STORE = "no-store"
PRIVATE_PREFIXES = ("/console", "/staff", "/api/newsletter/", "/metrics", "/readyz", "/healthz")  # staff pages, subscribers' own data, live figures
# Every page carries its notice, in its own language, in a comment (layout.html); a stale answer shows it.
STALE_MARKER = re.compile(rb"<!--stale-notice:(.*?)-->", re.DOTALL)
STALE_NOTICE = rb'<div class="notice stale" role="status"><p>\1</p></div>'
TOKEN_ARGS = ("token",)
# What changes public answers: the directory's records and the content service's pages (when it runs).
CHANGES = [(events.DIRECTORY, events.RECORD_PUBLISHED), (events.DIRECTORY, events.RECORD_UNPUBLISHED),
           ("content", "content_published"), ("content", "content_updated"), ("content", "content_unpublished")]

ANSWERS = answers_module.Answers(max_bytes=64 * 1024 * 1024, max_entries=20_000)  # ~3,000–6,000 pages and lists
_out_of_date_before = 0.0  # answers stored before this moment are not fresh (an event changed what they show)


def key_of(request) -> str:
    """A public read as a key: its address with the query parameters in order. The host is part of it, as in any
    HTTP cache: a page names its own site in its links, so a request with another Host never shares its answer."""
    query = "&".join(f"{name}={value}" for name, value in sorted(request.args.items(multi=True)))
    environ = request.environ  # (werkzeug's host_url, which checks and normalises, cost half of this function)
    return f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST', '')}{request.path}?{query}"


def private(request) -> bool:
    return (request.method not in ("GET", "HEAD") or request.path.startswith(PRIVATE_PREFIXES)
            or any(name in request.args for name in TOKEN_ARGS))


def answering_from_memory(app):
    """WSGI middleware before the routes: a public read whose kept answer is fresh is answered here, without a
    worker — a 304 when the request's validator names it, the answer itself otherwise — with its request id,
    access line and metrics as a worker's answer has them. A worker's routing, dependencies and hooks were a third
    of the platform's CPU for such an answer (bench/RESULTS.md). Everything else goes on to the routes."""

    def door(environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return app(environ, start_response)
        request = Request(environ)
        request_id = logs.request_arrived(request)
        answer = fresh_answer(request)
        if answer is None:
            return app(environ, start_response)
        response = _from_memory(request, answer)
        response.headers[logs.REQUEST_ID_HEADER] = request_id
        logs.log_access(request, response.status_code, "from memory")
        methods, template = answer.route or (request.method, "unknown")  # (kept outside a worker: tests)
        metrics.count_http(template, methods, response.status_code,
                           time.perf_counter() - environ[logs.STARTED])
        return response(environ, start_response)

    return door


def fresh_answer(request) -> Answer | None:
    """The kept answer to a public read while it is fresh; None to ask the owner."""
    if private(request):
        return None
    answer = ANSWERS.get(key_of(request))
    return answer if answer is not None and _fresh(answer, time.time()) else None


def _from_memory(request, answer: Answer) -> Response:
    now = time.time()
    if _unchanged_for(request, answer):
        return _not_modified(answer, now)
    response = Response(answer.body, status=answer.status, headers=answer.headers)
    response.headers.setdefault("Cache-Control", PUBLIC)
    response.headers.update({"ETag": answer.etag, "Last-Modified": http_date(answer.modified_at),
                             "Age": str(answer.age(now))})
    return response


def _unchanged_for(request, answer) -> bool:
    """The request's validator names this answer: its ETag, or else (RFC 9110 §13.2.2) a date not before it."""
    if request.headers.get("If-None-Match"):
        return answer.matches(request.headers["If-None-Match"])
    since = request.if_modified_since
    return since is not None and int(answer.modified_at) <= since.timestamp()


def remember(request, response: Response) -> Response:
    """Keep a good public answer and give it its caching headers; everything else says no-store."""
    if response.direct_passthrough or response.is_streamed:
        return response
    cacheable = (not private(request) and 200 <= response.status_code < 300 and "Set-Cookie" not in response.headers
                 and response.headers.get("Cache-Control") != NO_STORE)
    if not cacheable:
        if request.method in ("GET", "HEAD") and 200 <= response.status_code < 300 or private(request):
            response.headers["Cache-Control"] = NO_STORE
        return response
    answer = ANSWERS.put(key_of(request), response.status_code, _own_headers(response), response.get_data(),
                         request.environ.get(logs.ROUTE))
    response.headers.setdefault("Cache-Control", PUBLIC)
    if answer is None:
        return response
    response.headers["ETag"] = answer.etag
    response.headers["Last-Modified"] = http_date(answer.modified_at)
    if _unchanged_for(request, answer):
        return _not_modified(answer, time.time())
    return response


# What a kept answer does not keep: what is made per request or per answer (the door adds the security headers to
# every answer, gateway/common/security.py; a route's own, such as the map's embeddable variant's policy, are kept).
PER_REQUEST = {"content-length", "etag", "last-modified", "age", "date", "set-cookie", "x-request-id"}


def _own_headers(response: Response) -> list[tuple[str, str]]:
    return [(name, value) for name, value in response.headers.items() if name.lower() not in PER_REQUEST]


def stale(request, service: str) -> Response | None:
    """The last good answer to this request, marked stale, as `service` did not answer; None when there is none."""
    if private(request):
        return None
    answer = ANSWERS.get(key_of(request))
    if answer is None:
        return None
    metrics.STALE_ANSWERS.labels(service=service).inc()
    content_type = dict(answer.headers).get("Content-Type", "application/octet-stream")
    body = answer.body
    if content_type.startswith("application/json"):
        try:
            document = fastjson.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict):
            body = fastjson.dumps({**document, "stale": True})
    elif content_type.startswith("text/html"):
        body = STALE_MARKER.sub(STALE_NOTICE, body, count=1)
    response = Response(body, status=answer.status, headers=answer.headers)
    response.headers.update({"Age": str(answer.age(time.time())), "ETag": answer.etag, "Cache-Control": PUBLIC,
                             "Warning": '110 - "Response is Stale"', "X-DSI-Stale": "true"})
    return response


def out_of_date() -> None:
    """What was kept, or is made within SETTLE seconds, no longer counts as fresh (it is still served while an owner
    does not answer)."""
    global _out_of_date_before
    _out_of_date_before = time.time() + SETTLE


def _fresh(answer, now: float) -> bool:
    return answer.stored_at > _out_of_date_before and answer.age(now) < FRESH_FOR


class Parts:
    """A worker's access to the parts kept by its container (see SharedParts)."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def get(self, name: str, make, keep=lambda value: value is not None):
        """The part `name` while it is fresh; otherwise `make()`, kept when `keep` says it is whole (by default
        unless None: its owner did not answer). While one page makes a part, the others that need it wait for that
        one (when a part goes out of date under load, its owners are asked once, not by every page at once)."""
        key = self.prefix + name
        kept = ANSWERS.get(key)
        if kept is not None and _fresh(kept, time.time()):
            decoded = _DECODED.get(key)
            if decoded is None or decoded[0] is not kept:  # read once per kept version, not per page
                decoded = _DECODED[key] = (kept, fastjson.loads(kept.body))
            return decoded[1]
        if key in _MAKING:
            return _MAKING[key].wait()
        making = _MAKING[key] = Event()
        try:
            value = make()
        except BaseException as error:
            making.send_exception(error)
            raise
        finally:
            del _MAKING[key]
        making.send(value)  # before it is kept: a failure to keep it is this page's, not its waiters' for ever
        if keep(value):
            ANSWERS.put(key, 200, (), fastjson.dumps(value))
        return value


# A kept part's value as read from its body: pages only read it. One entry per part name (a few dozen).
_DECODED: dict[str, tuple] = {}
# The parts being made now, each with what its makers' waiters will get.
_MAKING: dict[str, Event] = {}


class SharedParts(DependencyProvider):
    """`parts = SharedParts()`: what many pages show, kept in ANSWERS under keys of this container's own (two
    gateways in one process, as in the tests, never see each other's) and out of date with the answers."""

    def setup(self):
        self.prefix = f"part {uuid.uuid4().hex} "

    def get_dependency(self, worker_ctx):
        return Parts(self.prefix)


def _not_modified(answer, now: float) -> Response:
    return Response(status=304, headers={"ETag": answer.etag, "Cache-Control": PUBLIC, "Age": str(answer.age(now)),
                                         "Last-Modified": http_date(answer.modified_at)})


class AnswerInvalidation:
    """A part of the gateway service: what changes a public answer makes every kept answer out of date (on every
    gateway instance)."""


for _source, _event in CHANGES:  # nameko finds entrypoints among class attributes
    setattr(AnswerInvalidation, f"on_{_event}", forgets_on(_source, _event, lambda self: out_of_date()))
