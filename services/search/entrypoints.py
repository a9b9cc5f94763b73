"""How index events reach the service, which depends on where the index lives.

Embedded: each instance keeps its own index, so each must see every event: a broadcast queue per instance,
durable and named after the instance's stable identity (a restart finds the events it missed). Elasticsearch:
one shared index, so the instances share one queue as a worker pool. Either way a message is acked only after
the index committed its effect, retried if that failed, and dead-lettered after a few failed deliveries.
"""
from nameko.events import BROADCAST, SERVICE_POOL

from dsi.messaging import ReliableEventHandler

from .dependencies import EMBEDDED, backend_of, instance_of

QUEUE_EXPIRES_MS = 7 * 24 * 3600 * 1000  # the queue of an instance gone for a week goes; it catches up on return


class IndexEventHandler(ReliableEventHandler):
    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL, **kwargs)

    @property
    def broadcast_identifier(self):
        if self.handler_type is not BROADCAST:
            return None
        return instance_of(self.container).id

    def setup(self):
        if backend_of(self.container.config) == EMBEDDED:
            self.handler_type = BROADCAST
        super().setup()
        if self.handler_type is BROADCAST:
            self.queue.queue_arguments = {"x-expires": QUEUE_EXPIRES_MS}


index_handler = IndexEventHandler.decorator
