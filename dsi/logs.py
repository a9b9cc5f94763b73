"""Traced logs: every line a worker writes names the request that caused it and the event it handles.

The gateway takes a request's X-Request-ID (or makes one) and keeps it in the worker's context data, which nameko
carries in the headers of every RPC call the worker makes; the outbox writes it into each event's envelope
(`request_id`), so a consumer's worker takes it from there. `Tracing` on a service sets the id for the worker's
log lines, and LOG_FORMAT=json writes one JSON object per line. Whatever the format, e-mail addresses, tokens and
passwords are masked before a line is written (dsi.redaction).
"""
import json
import logging
import re
import threading
import time
import uuid
from datetime import datetime, timezone

from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.web.handlers import HttpRequestHandler

from dsi import redaction
from dsi.settings import operations

log = logging.getLogger(__name__)
# WSGI environ keys: the moment a request came in, its id, and the (methods, template) of the route it reached
STARTED, REQUEST_ID, ROUTE = "dsi.started", "dsi.request_id", "dsi.route"

REQUEST_ID_HEADER = "X-Request-ID"
CONTEXT_KEY = "request_id"  # nameko context data: sent as the `nameko.request_id` header of every RPC call
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_current = threading.local()  # a worker's greenthread (nameko runs eventlet, which makes this greenlet-local)


def request_id() -> str | None:
    """The request id of the work this thread is doing, if any."""
    return getattr(_current, "request_id", None)


def event_id() -> str | None:
    return getattr(_current, "event_id", None)


def accepted_request_id(value: str | None) -> str:
    """A client's X-Request-ID when it is a short plain token; a new id otherwise (a header must not inject
    anything into the log lines it will appear in)."""
    if value and VALID_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class Traced(logging.Filter):
    """Adds the service's name and the current request and event ids to every record."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = getattr(_current, "service", None) or self.service  # tests run several in a process
        record.request_id = request_id()
        record.event_id = event_id()
        return True


class ExpectedErrors(logging.Filter):
    """nameko logs an entrypoint's expected exception (a visitor's bad input, a record that does not exist) as a
    warning with its traceback, one for every 404 or 422. Such a line stays, as information and without the
    traceback, which says nothing of a visitor's mistake; an unexpected error keeps both."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("(expected) error handling worker"):
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
            # it passed the logger's level as a warning: written only where information is (LOG_LEVEL)
            return logging.getLogger(record.name).isEnabledFor(logging.INFO)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, service, message, request_id, event_id (and logger, exception)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": getattr(record, "service", None),
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "event_id": getattr(record, "event_id", None),
            "logger": record.name,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class TracedText(logging.Formatter):
    """The operator's plain format (config.yml), ending with the request and event ids when there are any, so that
    one request can be followed through every service's lines in `make run`'s output too."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        ids = " ".join(f"{name}={value}" for name, value in (("request", getattr(record, "request_id", None)),
                                                              ("event", getattr(record, "event_id", None))) if value)
        return f"{line} [{ids}]" if ids else line


def configure(service: str, log_format: str = "text") -> None:
    """Every record masks personal data and secrets (dsi.redaction); expected errors are logged without a traceback
    (ExpectedErrors); every handler of the root logger (nameko's LOGGING from config.yml, or a default one) knows
    the request; with `json` it writes JSON lines, with `text` the handler's own format followed by the ids."""
    redaction.install()
    containers = logging.getLogger("nameko.containers")
    if not any(isinstance(each, ExpectedErrors) for each in containers.filters):
        containers.addFilter(ExpectedErrors())
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    for handler in root.handlers:
        if not any(isinstance(each, Traced) for each in handler.filters):
            handler.addFilter(Traced(service))
        if log_format == "json":
            handler.setFormatter(JsonLines())
        elif not isinstance(handler.formatter, TracedText):
            plain = handler.formatter or logging.Formatter()
            handler.setFormatter(TracedText(plain._fmt, plain.datefmt))
    # A record asks for its thread's and process's names only when a format shows them: under eventlet the thread's
    # is a green-thread lookup, a tenth of the CPU of a gateway's 304 with its access line.
    shown = " ".join(getattr(handler.formatter, "_fmt", None) or "" for handler in root.handlers)
    if "%(thread" not in shown and "%(process" not in shown:
        logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


def request_arrived(request) -> str:
    """Marks an HTTP request as come in now, with its id (the client's X-Request-ID or a new one): its id."""
    if REQUEST_ID not in request.environ:
        request.environ[REQUEST_ID] = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.environ[STARTED] = time.perf_counter()
    return request.environ[REQUEST_ID]


def log_access(request, status: int, outcome: str) -> None:
    """The access log (the web server's own line is off): address, status, time since the request came in and
    outcome, under the request's id, secrets masked."""
    took = (time.perf_counter() - request.environ.get(STARTED, time.perf_counter())) * 1000
    worker_id, _current.request_id = request_id(), request.environ.get(REQUEST_ID)
    try:
        log.info("%s %s %s %.1f ms: %s", request.method, request.full_path.rstrip("?"), status, took, outcome)
    finally:
        _current.request_id = worker_id


class Tracing(DependencyProvider):
    """`tracing = Tracing()` on a service: its workers' log lines carry the request id (from the HTTP request at
    the gateway, from the RPC caller's context data, or from the event's envelope) and the event id."""

    def bind(self, container, attr_name):
        # When the container is made, before `nameko run` logs its first line: every line is in the format asked
        bound = super().bind(container, attr_name)
        settings = operations(container.config, f"the {container.service_name} service")
        configure(container.service_name, settings.LOG_FORMAT)
        return bound

    def worker_setup(self, worker_ctx):
        entrypoint, request, event = worker_ctx.entrypoint, None, None
        if isinstance(entrypoint, HttpRequestHandler) and worker_ctx.args:
            request = worker_ctx.args[0]
            worker_ctx.data[CONTEXT_KEY] = request_arrived(request)
            request.environ[ROUTE] = entrypoint.method, entrypoint.url  # as dsi.metrics labels it
        elif isinstance(entrypoint, EventHandler) and worker_ctx.args and isinstance(worker_ctx.args[0], dict):
            event = worker_ctx.args[0]
            if event.get("request_id"):
                worker_ctx.data[CONTEXT_KEY] = str(event["request_id"])
        _current.service = self.container.service_name
        _current.request_id = worker_ctx.data.get(CONTEXT_KEY)
        _current.event_id = str(event["id"]) if event and event.get("id") else None

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        """One line per unit of work, so that every service a request passes through says so."""
        entrypoint, outcome = worker_ctx.entrypoint, "failed" if exc_info else "done"
        if isinstance(entrypoint, HttpRequestHandler) and worker_ctx.args:
            log_access(worker_ctx.args[0], 500 if exc_info else getattr(result, "status_code", 200), outcome)
        elif isinstance(entrypoint, HttpRequestHandler):
            log.info("%s %s: %s", entrypoint.method, entrypoint.url, outcome)
        elif isinstance(entrypoint, Rpc):
            log.info("rpc %s: %s", entrypoint.method_name, outcome)
        elif isinstance(entrypoint, EventHandler):
            log.info("event %s.%s: %s", entrypoint.source_service, entrypoint.event_type, outcome)

    def worker_teardown(self, worker_ctx):
        _current.service = _current.request_id = _current.event_id = None
