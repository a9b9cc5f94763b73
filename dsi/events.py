"""Event contracts: the envelope every event travels in and the catalogue of event types.

See docs/events.md for the payload of each type.
"""
import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field

ENVELOPE_VERSION = 1


class Envelope(BaseModel):
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    version: int = ENVELOPE_VERSION
    occurred_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    producer: str
    payload: dict[str, Any]
    request_id: str | None = None  # the HTTP request that caused it, for the logs (dsi.logs); absent when none


# Producers are nameko service names; nameko routes an event by (producer, type).
DIRECTORY = "directory"
MODERATION = "moderation"
NEWSLETTER = "newsletter"
SEARCH = "search"
CONTENT = "content"

# directory →
SUBMISSION_RECEIVED = "submission_received"  # a new record or an edit awaits review
SUBMISSION_DECIDED = "submission_decided"  # the directory applied a moderation decision
SUBMISSION_CONFIRMED = "submission_confirmed"  # the submitter confirmed their address (once)
RECORD_PUBLISHED = "record_published"  # a record became public, or its public version changed
RECORD_UNPUBLISHED = "record_unpublished"  # a public record is no longer public

# moderation →
SUBMISSION_APPROVED = "submission_approved"
SUBMISSION_REJECTED = "submission_rejected"
CHANGES_REQUESTED = "changes_requested"
RECORD_HIDDEN = "record_hidden"  # hidden after reports, or removed by a moderator
RECORD_RESTORED = "record_restored"

# content → (search, newsletter): editorial items; content also sends SUBMISSION_RECEIVED / SUBMISSION_DECIDED for
# the public's suggestions of events and funding, with the directory's payloads
CONTENT_PUBLISHED = "content_published"  # an item became public (first time, or again after being unpublished)
CONTENT_UPDATED = "content_updated"  # the public version of a published item changed
CONTENT_UNPUBLISHED = "content_unpublished"  # a public item was unpublished or archived

# search → search: every instance keeping its own index rebuilds or repairs it (`dsi reindex`, `dsi search-check`)
INDEX_MAINTENANCE_REQUESTED = "index_maintenance_requested"

# any service → newsletter (the platform's mailer)
MAIL_REQUESTED = "mail_requested"


def envelope(producer: str, event_type: str, payload: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
    """A new envelope as the plain dict that goes on the wire."""
    body = Envelope(type=event_type, producer=producer, payload=payload, request_id=request_id)
    return body.model_dump(exclude_none=request_id is None)
