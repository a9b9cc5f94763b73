"""Search service: keeps its own index of the directory's published records and content's published items,
fed only by their events.

Entrypoints only: each parses, calls the engine (engine.py), and returns.
"""
import logging

from nameko.events import EventDispatcher

from dsi import events, redaction
from dsi.errors import InvalidInput, NotFound
from dsi.lifecycle import GracefulStop, ReleasedWorkers
from dsi.messaging import handles, rpc
from dsi.logs import Tracing
from dsi.metrics import Metrics

from . import dataviz
from .dependencies import SearchIndex
from .entrypoints import index_handler
from .schemas import parse_params, parse_suggest

redaction.install()  # no e-mail addresses or link tokens in this service's logs

log = logging.getLogger(__name__)


class SearchService:
    name = events.SEARCH

    graceful_stop = GracefulStop()
    released_workers = ReleasedWorkers()
    index = SearchIndex()
    dispatch = EventDispatcher()
    metrics = Metrics()
    tracing = Tracing()

    @rpc(expected_exceptions=InvalidInput)
    def query(self, params=None):
        return self.index.engine.query(parse_params(params))

    @rpc(expected_exceptions=InvalidInput)
    def suggest(self, q="", limit=8):
        return self.index.engine.suggest(*parse_suggest(q, limit))

    # --- the map, the network and the groupings (dataviz.py) ---------------------------------------------------

    @rpc(expected_exceptions=InvalidInput)
    def map_features(self, params=None):
        return self.index.answers.answer(self.index.engine.backend, "map_features", params, dataviz.map_features)

    @rpc(expected_exceptions=InvalidInput)
    def map_countries(self, params=None):
        return self.index.answers.answer(self.index.engine.backend, "map_countries", params, dataviz.country_counts)

    @rpc(expected_exceptions=InvalidInput)
    def network(self, params=None):
        return self.index.answers.answer(self.index.engine.backend, "network", params, dataviz.network)

    @rpc(expected_exceptions=(InvalidInput, NotFound))
    def record_network(self, record_id):
        return dataviz.record_network(self.index.engine.backend, record_id)

    @rpc(expected_exceptions=InvalidInput)
    def groupings(self, params=None):
        return self.index.answers.answer(self.index.engine.backend, "groupings", params, dataviz.groupings)

    # --- operations --------------------------------------------------------------------------------------------

    @rpc
    def health(self):
        """For `dsi ping search` (the container healthcheck): this instance answers, from a built index."""
        return {"status": "ok", "backend": self.index.engine.backend.name, "instance": self.index.instance_id}

    @rpc
    def reindex(self):
        """Rebuild from the directory and content and swap the new index in; every other embedded instance
        follows."""
        result = self.index.rebuild()
        self._tell_other_instances("reindex")
        return result

    @rpc
    def check(self, fix=False):
        """Compare with the directory's and content's published sets; with `fix`, repair (every embedded
        instance does)."""
        result = self.index.check(bool(fix))
        if fix:
            self._tell_other_instances("fix")
        return result

    def _tell_other_instances(self, action):
        if self.index.embedded:
            payload = {"action": action, "origin": self.index.instance_id}
            self.dispatch(events.INDEX_MAINTENANCE_REQUESTED,
                          events.envelope(events.SEARCH, events.INDEX_MAINTENANCE_REQUESTED, payload))

    @index_handler(events.SEARCH, events.INDEX_MAINTENANCE_REQUESTED)
    def on_maintenance_requested(self, event):
        if event["payload"]["origin"] == self.index.instance_id:
            return
        try:
            if event["payload"]["action"] == "reindex":
                self.index.rebuild()
            else:
                self.index.check(fix=True)
        except Exception:  # not requeued: a retry at once would fail alike; the current index keeps answering
            log.exception("index maintenance %r failed on this instance; run it again", event["payload"]["action"])

    # --- directory events --------------------------------------------------------------------------------------

    @index_handler(events.DIRECTORY, events.RECORD_PUBLISHED)
    def on_record_published(self, event):
        self.index.engine.record_published(event["payload"]["record"])

    @index_handler(events.DIRECTORY, events.RECORD_UNPUBLISHED)
    def on_record_unpublished(self, event):
        payload = event["payload"]
        self.index.engine.record_unpublished(payload["id"], payload["version"])

    # --- content events ----------------------------------------------------------------------------------------

    @index_handler(events.CONTENT, events.CONTENT_PUBLISHED)
    def on_content_published(self, event):
        self.index.engine.content_published(event["payload"]["item"])

    on_content_updated = handles(events.CONTENT, events.CONTENT_UPDATED, on_content_published, entrypoint=index_handler)

    @index_handler(events.CONTENT, events.CONTENT_UNPUBLISHED)
    def on_content_unpublished(self, event):
        payload = event["payload"]
        self.index.engine.content_unpublished(payload["id"], payload["version"])
