"""The search service's outside resources: its index (with the instance folder that holds it) and the
directory it rebuilds from.

With the embedded backend every instance owns a folder `<SEARCH_INDEX_DIR>/instance-<n>`, claimed with a file
lock: a restarted instance takes a free folder back with its index, its identity and so its broadcast queues
(events sent while it was down wait there for it); one more instance claims the next folder.
"""
import fcntl
import itertools
import logging
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import eventlet
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterRpcProxy

from dsi.settings import shared_environment, validate as validate_settings

from .backends import make_backend
from .dataviz import AnswerCache
from .engine import SearchEngine
from .settings import SearchSettings

log = logging.getLogger(__name__)

EMBEDDED = "embedded"


class Instance:
    """This process's claim on an instance folder; the lock lasts as long as the file stays open."""

    def __init__(self, base: Path):
        for number in itertools.count(1):
            folder = base / f"instance-{number}"
            folder.mkdir(parents=True, exist_ok=True)
            lock = open(folder / "lock", "a+")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another running instance owns it
                lock.close()
                continue
            self.folder, self._lock = folder, lock
            identity = folder / "id"
            if not identity.exists():
                identity.write_text(uuid.uuid4().hex)
            self.id = identity.read_text().strip()
            return

    def release(self) -> None:
        self._lock.close()


def backend_of(config) -> str:
    return config.get("SEARCH_BACKEND", EMBEDDED)


def instance_of(container) -> Instance | None:
    """The container's instance folder, claimed on first use (by the index or by an event handler's setup)."""
    if backend_of(container.config) != EMBEDDED:
        return None
    if getattr(container, "search_instance", None) is None:  # kept on the container: one claim per container
        container.search_instance = Instance(Path(container.config.get("SEARCH_INDEX_DIR", "var/search")))
    return container.search_instance


@contextmanager
def directory_export(config, timeout: float = 120):
    """The directory's export_published as a plain function (after_id, limit) → page, over RabbitMQ."""
    with ClusterRpcProxy(config, timeout=timeout) as cluster:
        yield lambda after, limit: cluster.directory.export_published(after_id=after, limit=limit)


def wait_for_directory(config, seconds: float):
    """Until the directory answers: at first start the search service may come up before it."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with directory_export(config, timeout=10) as export:
                export(0, 1)
                return
        except (UnknownService, eventlet.Timeout, OSError) as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the directory did not answer within {seconds:.0f}s: {error!r}")
            log.info("waiting for the directory before building the search index (%r)", error)
            eventlet.sleep(1)


class _IndexAccess:
    def __init__(self, provider: "SearchIndex"):
        self.engine = provider.engine
        self.answers = provider.answers
        self.instance_id = provider.instance.id if provider.instance else None
        self.embedded = provider.instance is not None
        self._config = provider.container.config

    def rebuild(self) -> dict:
        with directory_export(self._config) as export:
            return {**self.engine.rebuild(export), "instance": self.instance_id}

    def check(self, fix: bool = False) -> dict:
        with directory_export(self._config) as export:
            return {**self.engine.check(export, fix), "instance": self.instance_id}


class SearchIndex(DependencyProvider):
    """Opens the index; a new instance builds it from the directory before the service takes any request."""

    def setup(self):
        config = self.container.config
        self.settings = validate_settings(SearchSettings, {**shared_environment(), **config}, "the search service")
        self.instance = instance_of(self.container)
        self.engine = self.catch_up = None
        self.answers = AnswerCache()
        backend = make_backend(config, self.instance.folder if self.instance else None)
        self.engine = SearchEngine(backend)
        if backend.needs_build():
            # setup() ends before any entrypoint consumes: the RPC queue is not served until the index is built
            wait_for_directory(config, self.settings.SEARCH_BOOTSTRAP_TIMEOUT)
            result = _IndexAccess(self).rebuild()
            log.info("built the search index from the directory: %s", result)

    def start(self):
        # Events sent before our queues existed (first start) or after a queue expired (long downtime) are
        # found by comparing with the directory once the queues are bound.
        self.catch_up = self.container.spawn_managed_thread(self._catch_up)

    def _catch_up(self):
        eventlet.sleep(self.settings.SEARCH_CATCH_UP_DELAY)
        try:
            result = _IndexAccess(self).check(fix=True)
            log.info("search index caught up with the directory: fixed %s documents", result["fixed"])
        except Exception:
            log.exception("catching up with the directory failed; `dsi search-check --fix` repairs it")

    def stop(self):
        if getattr(self, "catch_up", None) is not None:
            self.catch_up.kill()
        if getattr(self, "engine", None) is not None:
            self.engine.backend.close()
            self.engine = None
        if getattr(self, "instance", None):
            self.instance.release()
            self.instance = self.container.search_instance = None

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return _IndexAccess(self)
