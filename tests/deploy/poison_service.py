"""A test-only service whose worker kills its own process on request: a poison RPC message."""
import os

from dsi.messaging import rpc


class PoisonService:
    name = "poison_test"

    @rpc
    def echo(self, value):
        if value == "die":
            os._exit(3)  # as a segfault or an out-of-memory kill would: no answer, no ack
        return value
