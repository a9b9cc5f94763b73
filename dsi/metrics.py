"""The platform's Prometheus metrics: the one catalogue of their names, and the nameko dependency that records
every RPC and event a service handles and serves the figures on its METRICS_PORT.

Names follow Prometheus' conventions: base units (seconds), `_total` on counters, and labels of few values
(route templates, method names, event types, results; never an id, an address or a user). The process is the
service: Prometheus adds `job` and `instance` (or `pod`), so no metric repeats the service's name.
deploy/observability/ builds its dashboard and alerts on these names only (tests/deploy/test_observability.py).
"""
import logging
import time

import eventlet
import eventlet.wsgi
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.exposition import choose_encoder
from sqlalchemy.orm import Session

from dsi.settings import operations

log = logging.getLogger(__name__)

# Latencies of a request or a call: 5 ms to 30 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HTTP_REQUESTS = Counter("dsi_http_requests_total", "HTTP requests the gateway answered, by route template, method and "
                        "status code", ["route", "method", "code"])
HTTP_DURATION = Histogram("dsi_http_request_duration_seconds", "Time the gateway took to answer, by route template "
                          "and method", ["route", "method"], buckets=LATENCY_BUCKETS)
RPC_DURATION = Histogram("dsi_rpc_duration_seconds", "Time an RPC method took, by method and outcome (ok; rejected: "
                         "one of its expected errors, such as bad input; error: anything else)",
                         ["method", "outcome"], buckets=LATENCY_BUCKETS)
EVENTS_PUBLISHED = Counter("dsi_events_published_total", "Events the outbox relay handed to RabbitMQ", ["event_type"])
EVENTS_CONSUMED = Counter("dsi_events_consumed_total", "Events a handler applied (acked)", ["event_type"])
EVENTS_FAILED = Counter("dsi_events_failed_total", "Event deliveries whose handler failed (requeued)", ["event_type"])
OUTBOX_BACKLOG = Gauge("dsi_outbox_backlog", "Events written to the outbox and not yet published")
OUTBOX_OLDEST_AGE = Gauge("dsi_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox event (0: none)")
DUPLICATE_DELIVERIES = Counter("dsi_duplicate_deliveries_total", "Redelivered events skipped as already applied",
                               ["event_type"])
SEARCH_DOCUMENTS = Gauge("dsi_search_documents", "Live documents in this search instance's index")
SEARCH_PUBLISH_LAG = Histogram("dsi_search_publish_lag_seconds", "Time from a record's publication in the directory "
                               "to its being searchable", buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600))
NEWSLETTER_MESSAGES = Counter("dsi_newsletter_messages_total", "Newsletter mails by result (sent, deferred, bounced)",
                              ["result"])
MODERATION_QUEUE_LENGTH = Gauge("dsi_moderation_queue_length", "Submissions waiting for a moderator")
MODERATION_OLDEST_PENDING_AGE = Gauge("dsi_moderation_oldest_pending_age_seconds",
                                      "Age of the oldest submission waiting for a moderator (0: none)")
STALE_ANSWERS = Counter("dsi_stale_answers_total", "Answers the gateway served from its last good copy because a "
                        "service did not answer, by that service", ["service"])

CATALOGUE = (HTTP_REQUESTS, HTTP_DURATION, RPC_DURATION, EVENTS_PUBLISHED, EVENTS_CONSUMED, EVENTS_FAILED,
             OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, DUPLICATE_DELIVERIES, SEARCH_DOCUMENTS, SEARCH_PUBLISH_LAG,
             NEWSLETTER_MESSAGES, MODERATION_QUEUE_LENGTH, MODERATION_OLDEST_PENDING_AGE, STALE_ANSWERS)


def exposed_names(metric) -> set[str]:
    """The series names a metric shows to Prometheus (a histogram's _bucket, _count and _sum)."""
    [family] = metric.describe()
    if family.type == "histogram":
        return {f"{family.name}_{suffix}" for suffix in ("bucket", "count", "sum")}
    if family.type == "counter":
        return {f"{family.name}_total"}
    return {family.name}


def exposition(accept: str = "") -> Response:
    """The process's figures as Prometheus reads them, in the format its Accept header asks for."""
    encoder, content_type = choose_encoder(accept)
    return Response(encoder(REGISTRY), mimetype=None, content_type=content_type, headers={"Cache-Control": "no-store"})


class _Server:
    """The process's one metrics endpoint, however many containers the process runs (tests run several)."""

    port = None
    users = 0

    @classmethod
    def acquire(cls, port: int) -> None:
        if cls.users == 0:
            cls.socket = eventlet.listen(("0.0.0.0", port))
            cls.port = cls.socket.getsockname()[1]
            cls.thread = eventlet.spawn(eventlet.wsgi.server, cls.socket, make_wsgi_app(), log_output=False)
            log.info("metrics on port %s", cls.port)
        cls.users += 1

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users == 0:
            cls.thread.kill()
            cls.socket.close()
            cls.port = None


def count_http(route: str, method: str, code: int, seconds: float) -> None:
    """An HTTP request answered: by a worker (Metrics), or by the gateway from memory (gateway/common/caching.py)."""
    HTTP_REQUESTS.labels(route, method, str(code)).inc()
    HTTP_DURATION.labels(route, method).observe(seconds)


def _status_code(entrypoint, result, exc_info) -> int:
    """The status an HTTP entrypoint answers with, as nameko builds its response."""
    if exc_info is not None:
        return entrypoint.response_from_exception(exc_info[1]).status_code
    if isinstance(result, Response):
        return result.status_code
    if isinstance(result, tuple):
        return int(result[0])
    return 200


class Metrics(DependencyProvider):
    """`metrics = Metrics()` on a service: times each HTTP request by route template (dsi_http_requests_total,
    dsi_http_request_duration_seconds) and each RPC (dsi_rpc_duration_seconds), counts each event handled
    (dsi_events_consumed_total, dsi_events_failed_total) and serves /metrics on config METRICS_PORT (none when
    it is unset or empty; 0 picks a free port, as tests do).

    `measure`: a function of a database session that sets the service's own gauges, called every
    METRICS_MEASURE_INTERVAL seconds on the service's database (its `db` dependency)."""

    def __init__(self, measure=None, **kwargs):
        super().__init__(**kwargs)
        self.measure = measure
        self.measuring = None

    def start(self):
        if self.measure is not None:
            self.measuring = self.container.spawn_managed_thread(self._measure_forever)

    def _measure_forever(self):
        [database] = [dependency for dependency in self.container.dependencies
                      if getattr(dependency, "attr_name", None) == "db"]
        while True:
            try:
                with Session(database.engine) as session:
                    self.measure(session)
            except Exception:  # the figures go stale; the service goes on
                log.exception("measuring the service's figures failed")
            eventlet.sleep(self.every)

    def setup(self):
        self.started: dict = {}
        settings = operations(self.container.config, f"the {self.container.service_name} service")
        self.every, port = settings.METRICS_MEASURE_INTERVAL, settings.METRICS_PORT
        self.serving = False
        if port is not None:
            try:
                _Server.acquire(port)
                self.serving = True
            except OSError as error:  # figures are not worth the service: it runs on without them
                log.error("cannot serve metrics on port %s: %s", port, error)

    def stop(self):
        if self.measuring is not None:
            self.measuring.kill()
            self.measuring = None
        if self.serving:
            self.serving = False
            _Server.release()

    kill = stop

    @property
    def port(self) -> int | None:
        return _Server.port if self.serving else None

    def worker_setup(self, worker_ctx):
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self.started.pop(worker_ctx, None)
        entrypoint = worker_ctx.entrypoint
        if isinstance(entrypoint, HttpRequestHandler) and started is not None:
            count_http(entrypoint.url, entrypoint.method, _status_code(entrypoint, result, exc_info),
                       time.perf_counter() - started)
        elif isinstance(entrypoint, Rpc) and started is not None:
            outcome = "ok" if exc_info is None else (
                "rejected" if isinstance(exc_info[1], entrypoint.expected_exceptions) else "error")
            RPC_DURATION.labels(entrypoint.method_name, outcome).observe(time.perf_counter() - started)
        elif isinstance(entrypoint, EventHandler):
            counter = EVENTS_CONSUMED if exc_info is None else EVENTS_FAILED
            counter.labels(entrypoint.event_type).inc()

    def get_dependency(self, worker_ctx):
        return self
