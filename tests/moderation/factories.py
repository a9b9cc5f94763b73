"""Factories: event payloads as the directory sends them, any field overridden."""
import uuid

from dsi.clock import iso, utcnow


def received(**overrides) -> dict:
    """A submission_received payload as the directory sends it."""
    payload = {
        "submission_id": str(uuid.uuid4()),
        "record_id": 7,
        "kind": "organisation",
        "action": "create",
        "name": "Open Health Lab",
        "country": "ES",
        "email": "founder@example.org",
        "proposed": {"name": "Open Health Lab", "short_description": "Tools for health.", "country": "ES",
                     "tags": ["health"], "long_description": "<p>We build</p>", "projects": []},
        "published": None,
        "submitted_at": iso(utcnow()),
    }
    return {**payload, **overrides}
