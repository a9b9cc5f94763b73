"""The search service's outside resources: its index (with the instance folder that holds it) and the owners
it rebuilds from: the directory (records) and content (editorial items), each through its export_published.

With the embedded backend every instance owns a folder `<SEARCH_INDEX_DIR>/instance-<n>`, claimed with a file
lock: a restarted instance takes a free folder back with its index, its identity and so its broadcast queues
(events sent while it was down wait there for it); one more instance claims the next folder.
"""
import fcntl
import functools
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

from dsi import metrics
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


# The services whose published things the index holds, each answering export_published(after_id, limit).
OWNERS = ("directory", "content")


@contextmanager
def owner_exports(config, timeout: float = 120):
    """Each owner's export_published as a plain function (after_id, limit) → page, over RabbitMQ."""
    with ClusterRpcProxy(config, timeout=timeout) as cluster:
        yield {owner: functools.partial(_export, getattr(cluster, owner)) for owner in OWNERS}


def _export(proxy, after, limit):
    return proxy.export_published(after_id=after, limit=limit)


def wait_for_owners(config, seconds: float):
    """Until every owner answers: at first start the search service may come up before them, and an index
    built without one of them would answer without its part."""
    deadline = time.monotonic() + seconds
    for owner in OWNERS:
        while True:
            try:
                with owner_exports(config, timeout=10) as exports:
                    exports[owner](0, 1)
                break
            except (UnknownService, eventlet.Timeout, OSError) as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the {owner} service did not answer within {seconds:.0f}s: {error!r}")
                log.info("waiting for the %s service before building the search index (%r)", owner, error)
                eventlet.sleep(1)


class _IndexAccess:
    def __init__(self, provider: "SearchIndex"):
        self.engine = provider.engine
        self.answers = provider.answers
        self.instance_id = provider.instance.id if provider.instance else None
        self.embedded = provider.instance is not None
        self._config = provider.container.config

    def rebuild(self) -> dict:
        with owner_exports(self._config) as exports:
            return {**self.engine.rebuild(exports["directory"], exports["content"]), "instance": self.instance_id}

    def check(self, fix: bool = False) -> dict:
        with owner_exports(self._config) as exports:
            result = self.engine.check(exports["directory"], fix, content_export=exports["content"])
            return {**result, "instance": self.instance_id}


class SearchIndex(DependencyProvider):
    """Opens the index; a new instance builds it from the directory and content before it takes any request."""

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
            wait_for_owners(config, self.settings.SEARCH_BOOTSTRAP_TIMEOUT)
            result = _IndexAccess(self).rebuild()
            log.info("built the search index from the directory and content: %s", result)
        metrics.SEARCH_DOCUMENTS.set_function(self._live_documents)

    def _live_documents(self) -> int:
        try:
            return self.engine.live_documents() if self.engine else 0
        except Exception:  # a scrape must not fail with the index (it is reopened on a rebuild)
            log.exception("could not count the search index's documents")
            return 0

    def start(self):
        # Events sent before our queues existed (first start) or after a queue expired (long downtime) are
        # found by comparing with the owners once the queues are bound.
        self.catch_up = self.container.spawn_managed_thread(self._catch_up)

    def _catch_up(self):
        eventlet.sleep(self.settings.SEARCH_CATCH_UP_DELAY)
        try:
            result = _IndexAccess(self).check(fix=True)
            log.info("search index caught up with the directory and content: fixed %s documents", result["fixed"])
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
