"""Errors that cross service boundaries.

Each class is registered with nameko as it is defined, so an RPC caller receives an instance of it with its
details, and the gateway turns it into a stable JSON code and HTTP status.
"""
from nameko.exceptions import deserialize_to_instance


class PlatformError(Exception):
    code = "ERROR"
    status = 400

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        deserialize_to_instance(cls)  # every kind of error crosses RPC as itself

    def __init__(self, message: str = "", details=None):
        # exc_args travel over RPC; nameko would send a None as the string "None", so it is left out
        super().__init__(*((message,) if details is None else (message, details)))
        self.message = message
        self.details = details

    def __str__(self):
        return self.message

    def to_json(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(PlatformError):
    code, status = "NOT_FOUND", 404


class InvalidInput(PlatformError):
    """`details` maps a field name to its message."""

    code, status = "VALIDATION_ERROR", 422


class Conflict(PlatformError):
    code, status = "CONFLICT", 409


class Forbidden(PlatformError):
    code, status = "FORBIDDEN", 403


class RateLimited(PlatformError):
    code, status = "RATE_LIMITED", 429

