"""A prompt, quiet stop for services run by `nameko run`.

nameko 2.14 with today's eventlet stops badly in three cases, each seen as a slow stop with tracebacks:
- a SIGTERM while the container is still starting (an index being built, the broker not reachable yet): nameko
  stops extensions that never started: its Timer waits on a thread it does not have, its QueueConsumer sends its
  "last provider unregistered" event once per consumer ("Trying to re-send() an already-triggered event"), and
  the start then carries on and hangs;
- a second SIGTERM: nameko stops every extension again, and the Timer re-sends its stop event;
- a stop that cannot finish: with the broker gone, consumers wait forever for a loop that no longer turns, and
  a worker blocked on a remote call holds the container past any deadline.

`GracefulStop` (a dependency; the `timer` below brings it too) takes over nameko run's SIGTERM handler: the
first SIGTERM stops the containers gracefully (in-flight workers finish, unacked messages go back to their
queue), further ones are ignored; a container still starting has taken no work, so the process just exits;
and a stop still running after STOP_TIMEOUT seconds (config, default 3.5) kills the workers left, then exits.

Once every container has stopped, the process leaves at once (os._exit) instead of returning through nameko
run: CPython's own finalisation (collecting the heap, tearing down every parked green thread and module) took
1-2 s more on a busy two-core machine, so a service whose stop had finished in 3 s was still alive at the
launcher's 4.5 s deadline and SIGKILLed (py-spy showed it in gc_collect_main, after atexit; the hub was idle
throughout, not blocked). Nothing is lost by skipping it: the stop acked or returned every message, and the
databases are SQLite in WAL mode or PostgreSQL, whose committed transactions survive a process exit.

`ReleasedWorkers` (a dependency of every service) lets a finished worker's objects go when it ends instead of at
the next run of the cyclic garbage collector.
"""
import functools
import gc
import logging
import os
import signal
import sys

import eventlet
from kombu.mixins import ConsumerMixin
from nameko import timer as nameko_timer
from nameko.extensions import DependencyProvider, SharedExtension
from nameko.messaging import QueueConsumer
from nameko.web.handlers import HttpRequestHandler

log = logging.getLogger(__name__)

DEFAULT_STOP_TIMEOUT = 3.5  # seconds; nameko's stop waits for three turns of its consumer loop (CONSUMER_TURN)
KILL_GRACE = 0.5  # seconds a killed container gets to close its connections before the process exits
# nameko's consumer loop sees a stop request (consumers to cancel, the loop to end) only between two waits for the
# broker, each kombu's default of 1 s: its stop took three such turns, 3 s of the launcher's 4.5 s before any
# load. A quarter second makes it under 1 s; the loop waking four times a second costs nothing measurable.
CONSUMER_TURN = 0.25  # seconds
QueueConsumer.consume = functools.partialmethod(ConsumerMixin.consume, safety_interval=CONSUMER_TURN)


class _ProcessStop:
    """The process's stop state: the containers that run in it and whether a stop has begun."""

    def __init__(self):
        self.containers = {}  # service name → container
        self.installed = False
        self.stopping = False
        self.nameko_handler = None
        self.exit_code = 0

    def watch(self, container) -> None:
        if not self.installed:
            handler = signal.getsignal(signal.SIGTERM)
            # Only under `nameko run` (its handler is installed before the containers start): tests that host
            # containers in their own process keep their own signal handling.
            if getattr(handler, "__module__", None) != "nameko.cli.run":
                return
            self.nameko_handler, self.installed = handler, True
            signal.signal(signal.SIGTERM, self.on_signal)
        self.containers[container.service_name] = container

    def on_signal(self, signum, frame) -> None:
        if self.stopping:
            log.info("already stopping; signal %s ignored", signal.Signals(signum).name)
            return
        self.stopping = True
        if not any(_taking_work(container) for container in self.containers.values()):
            # nameko cannot stop a container half-way through its start; it has taken no message yet, so
            # leaving now loses nothing (the broker keeps every queued message for the next instance).
            log.info("stopped before the service had started")
            _leave(0)
        self.nameko_handler(signum, frame)  # spawns the runner's graceful stop
        eventlet.spawn_n(self._enforce_deadline)
        eventlet.spawn_n(self._exit_once_stopped)

    def _exit_once_stopped(self) -> None:
        while any(not container._died.ready() for container in self.containers.values()):
            eventlet.sleep(0.05)  # (waiting on _died would raise for a container killed with an error)
        _leave(self.exit_code)

    def _enforce_deadline(self) -> None:
        timeout = min(float(c.config.get("STOP_TIMEOUT", DEFAULT_STOP_TIMEOUT)) for c in self.containers.values())
        eventlet.sleep(timeout)
        running = [container for container in self.containers.values() if not container._died.ready()]
        if not running:
            return
        workers = sum(len(container._worker_threads) for container in running)
        log.warning("still stopping after %.1f s (%d worker(s) running): killing it; unacked messages are redelivered",
                    timeout, workers)
        self.exit_code = 1
        for container in running:
            eventlet.spawn_n(container.kill)
        eventlet.sleep(KILL_GRACE)
        if any(not container._died.ready() for container in running):
            log.warning("the broker connection did not close in time; leaving anyway")
            _leave(1)


def _leave(code: int) -> None:
    """Exit now, the logs written out, without the interpreter's slow finalisation (see above)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


def _taking_work(container) -> bool:
    """Whether the container may hold work: a worker runs, or a consumer is fed by the broker.
    (nameko sets `container.started` when its start begins, not when it ends.)"""
    if container._worker_threads:
        return True
    return any(getattr(extension, "_consumers_ready", None) is not None and extension._consumers_ready.ready()
               for extension in container.extensions)


_process = _ProcessStop()


def stopping() -> bool:
    """Whether this process received its stop signal: long loops end early so the stop stays prompt."""
    return _process.stopping


class _StopWatch(SharedExtension):
    def setup(self):
        _process.watch(self.container)

    def start(self):
        # What exists once a service has started (modules, templates, vocabularies, the gazetteer) lives as long as
        # the process. Frozen, a full collection no longer walks it: each one stalled every request in the process
        # for about 100 ms (bench/content.py, gc callbacks), the p99 of a page.
        gc.freeze()


class GracefulStop(DependencyProvider):
    """Declare in a service (`graceful_stop = GracefulStop()`) for the prompt, quiet stop described above."""

    watch = _StopWatch()

    def get_dependency(self, worker_ctx):
        return stopping  # a long worker may call it to end early when the service is stopping


class Timer(nameko_timer.Timer):
    """nameko's timer, safe to stop before it started and to stop twice; brings GracefulStop with it."""

    watch = _StopWatch()

    def stop(self):
        if not self.should_stop.ready():
            self.should_stop.send(True)
        if self.gt is not None:
            self.gt.wait()

    def kill(self):
        if self.gt is not None:
            self.gt.kill()


timer = Timer.decorator


class ReleasedWorkers(DependencyProvider):
    """`released_workers = ReleasedWorkers()`: breaks the reference cycles every worker makes, so that reference
    counting frees its objects as soon as it ends. nameko sets the worker's dependencies on a service instance that
    its context names, and a dependency such as an RPC proxy names the context back; werkzeug keeps an HTTP request
    in its own WSGI environ. Left to the cyclic collector, 50 objects a request made its collections run 10 to 50 ms
    under load, stalling every request of the process (gc callbacks at the gateway under bench/load.py).

    A streamed HTTP answer (an export, the sitemap) still calls the service's dependencies while it is sent, after
    its worker ended: its worker is left to the collector."""

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        # once the service's method has returned; no provider reads the service's attributes in its own
        # worker_result or worker_teardown
        if getattr(result, "is_streamed", False):
            return
        worker_ctx.service.__dict__.clear()
        if isinstance(worker_ctx.entrypoint, HttpRequestHandler) and worker_ctx.args:
            worker_ctx.args[0].environ.pop("werkzeug.request", None)
