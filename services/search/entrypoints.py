"""How index events reach the service, which depends on where the index lives.

Embedded: each instance keeps its own index, so each must see every event: a broadcast queue per instance,
durable and named after the instance's stable identity (a restart finds the events it missed). Elasticsearch:
one shared index, so the instances share one queue as a worker pool. Either way a message is acked only after
the index committed its effect, retried if that failed, and dead-lettered after a few failed deliveries.
"""
from datetime import datetime

from nameko.events import BROADCAST, SERVICE_POOL

from dsi import events, metrics
from dsi.clock import utcnow
from dsi.messaging import ReliableEventHandler

from .dependencies import EMBEDDED, backend_of, instance_of

# The broadcast queue of an instance gone for 3 hours goes (scaled down, or its volume lost): it would collect every
# event for nobody. An instance back later catches up by comparing itself with the directory at start.
QUEUE_EXPIRES_MS = 3 * 3600 * 1000
# Part of every broadcast queue's name. A broker refuses to declare an existing durable queue with other arguments
# (PRECONDITION_FAILED), so a change of QUEUE_EXPIRES_MS takes a new generation; the old queues then lose their
# consumer and expire by their own x-expires (or sooner with the policy in docs/operations.md).
QUEUE_GENERATION = "g2"
PUBLISHING = (events.RECORD_PUBLISHED, events.CONTENT_PUBLISHED, events.CONTENT_UPDATED)  # timed: publish → searchable


class IndexEventHandler(ReliableEventHandler):
    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL, **kwargs)

    @property
    def broadcast_identifier(self):
        if self.handler_type is not BROADCAST:
            return None
        return f"{instance_of(self.container).id}-{QUEUE_GENERATION}"

    def setup(self):
        if backend_of(self.container.config) == EMBEDDED:
            self.handler_type = BROADCAST
        super().setup()
        if self.handler_type is BROADCAST:
            self.queue.queue_arguments = {"x-expires": QUEUE_EXPIRES_MS}

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None and self.event_type in PUBLISHING:
            try:  # from the owner's commit (the event's time) to this index holding it
                occurred = datetime.fromisoformat(worker_ctx.args[0]["occurred_at"])
                metrics.SEARCH_PUBLISH_LAG.observe(max(0.0, (utcnow() - occurred).total_seconds()))
            except (KeyError, TypeError, ValueError):  # a figure lost, never the message
                pass
        return super().handle_result(message, worker_ctx, result, exc_info)


index_handler = IndexEventHandler.decorator
