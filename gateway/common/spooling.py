"""The gateway's side of the spool (gateway/spool.py): a visitor's submission, report or newsletter sign-up that its owner cannot
take within the time budget is kept on disk, answered 202 `queued`, and forwarded later by a relay timer under
the same id (the owner takes it once however often it arrives)."""
import logging

from nameko.extensions import DependencyProvider

from dsi.errors import Conflict, InvalidInput, NotFound, PlatformError, RateLimited

from dsi.lifecycle import timer

from ..spool import Rejected, Relay, Spool
from .http import ServiceUnavailable, TimedOut, call

log = logging.getLogger(__name__)

SUBMISSION, REPORT, SIGN_UP = "submission", "report", "sign_up"
DEFAULT_SPOOL_DIR = "var/spool"
RELAY_TIMEOUT = 5  # seconds the relay waits for an owner per item
QUEUED_RETRY_DELAY = 30  # seconds before relaying an item whose request already waits in the owner's queue
FORGET_AFTER = 7 * 24 * 3600  # delivered items are kept this long for the status page, then forgotten
WAITING_MESSAGE = "received, waiting to be processed"


class LocalSpool(DependencyProvider):
    """The spool in SPOOL_DIR (config; a volume that outlives the container in docker-compose and Kubernetes)."""

    def setup(self):
        self.spool = Spool(self.container.config.get("SPOOL_DIR") or DEFAULT_SPOOL_DIR)

    def get_dependency(self, worker_ctx):
        return self.spool


def unreachable(error: Exception) -> bool:
    """Whether a failure means the owner or the broker cannot be reached now (rather than a refusal)."""
    if isinstance(error, PlatformError):
        return isinstance(error, ServiceUnavailable)
    return True  # a broker connection error, a closed channel, a socket error


def forward(send, spool: Spool, kind: str, item_id: str, token: str, body: dict):
    """`send()`, the owner's answer; when the owner or the broker cannot be reached, the item is kept on disk
    (before this returns) and None is returned: the caller answers 202 `queued`."""
    try:
        return send()
    except Exception as error:
        if not unreachable(error):
            raise
        log.warning("%s %s kept in the spool: %r", kind, item_id, error)
        # A request that only timed out waits in the owner's durable queue and is taken from there: the relay
        # sends it again later, as a check (the owner takes an id once), not as more load on a busy owner.
        spool.add(kind, body, item_id, token, delay=QUEUED_RETRY_DELAY if isinstance(error, TimedOut) else 0.0)
        return None


def waiting_status(spool: Spool, submission_id: str, token: str) -> dict | None:
    """A spooled submission's status as the status page and API show it, while it waits for the directory."""
    item = spool.status(submission_id, token)
    if item is None or item["kind"] != SUBMISSION or item["state"] != "waiting":
        return None
    return {"id": submission_id, "submission_id": submission_id, "state": "pending", "queued": True,
            "message": WAITING_MESSAGE}


def relay(route) -> Relay:
    """A relay delivering to the owners through `route`'s RPC proxies (the gateway service's worker)."""

    def submission(item_id: str, body: dict):
        try:
            return call(route.directory.submit, body, item_id, timeout=RELAY_TIMEOUT)
        except InvalidInput as error:  # checked at the edge already; the directory's rules may be stricter
            raise Rejected(str(error))

    def report(item_id: str, item: dict):
        try:
            record = call(route.directory.get_record, item["kind"], item["record_id"], timeout=RELAY_TIMEOUT)
            return call(route.moderation.report, item["kind"], item["record_id"], record["name"], item["client"],
                        item["body"], timeout=RELAY_TIMEOUT)
        except Conflict:  # this client's report of the record is there already: delivered before
            return {"received": True}
        except (InvalidInput, NotFound) as error:
            raise Rejected(str(error))

    def sign_up(item_id: str, item: dict):
        try:  # under its id: the newsletter takes it once, however often it is relayed
            return call(route.newsletter.subscribe, item["body"], item["client"], item_id, timeout=RELAY_TIMEOUT)
        except (InvalidInput, RateLimited) as error:
            raise Rejected(str(error))

    return Relay(route.spool, {SUBMISSION: submission, REPORT: report, SIGN_UP: sign_up}, unreachable=unreachable)


SPOOL = LocalSpool()  # one provider, declared by every route class that uses it


class SpoolRelay:
    """The relay's timer, a part of the gateway service."""

    spool = SPOOL

    @timer(interval=1)
    def relay_spool(self):
        done = relay(self).run_once(limit=50)
        if done["delivered"] or done["rejected"]:
            log.info("spool: %d delivered, %d rejected, %d waiting", done["delivered"], done["rejected"],
                     done["waiting"])
        self.spool.purge(FORGET_AFTER)
