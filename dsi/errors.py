"""Errors that cross service boundaries.

Each class is registered with nameko as it is defined, so an RPC caller receives an instance of it with its
details, and the gateway turns it into a stable JSON code and HTTP status.
"""
from nameko.exceptions import deserialize_to_instance


# What went wrong, by a stable reason code: the English text here, every other language in the gateway's
# catalogues (gateway/translations), so a page shows the reason in its visitor's language. `{name}` takes the
# error's details[name] (numbers only: a value in a sentence is not translated).
REASONS = {
    "link_invalid": "This link is not valid.",
    "link_expired": "This link has expired; ask for a new one.",
    "link_outdated": "This link is not valid, or no longer: what it was for has changed since.",
    "link_other_record": "This link is for another record.",
    "link_other_submission": "This link is for another submission.",
    "link_other_suggestion": "This link is for another suggestion.",
    "suggestion_not_waiting": "This suggestion is not waiting for changes.",
    "no_submission": "No such submission.",
    "submission_decided": "This submission has already been decided or withdrawn.",
    "record_not_editable": "This record cannot be edited now.",
    "links_unknown": "Linked records do not exist.",
    "fields_invalid": "Some fields are not valid.",
    "form_expired": "This form has expired or was not sent from our site; please reload the page and try again.",
    "honeypot": "Please leave the last field empty.",
    "too_many_requests": "Too many requests; try again in {retry_after} seconds.",
    "record_hidden": "This record is already hidden while moderators look at it.",
    "already_reported": "You have already reported this record; thank you.",
    "report_collided": "This record was being reported at the same moment; please send your report again.",
    "too_many_signups": "Too many sign-ups from your network; please try again in an hour.",
    "subscription_gone": "This subscription no longer exists.",
    "login_failed": "The email address or the password is wrong.",
    "too_many_logins": "Too many failed logins: wait a while before trying again.",
    "log_in": "Please log in.",
    "role_refused": "Your role does not allow this.",
    "account_exists": "There already is an account for this address.",
    "own_account": "You cannot deactivate your own account.",
    "no_queue_item": "No such submission in the queue.",
    "decided_already": "This submission was decided already; nothing was changed.",
    "changed_meanwhile": "This submission changed since you opened it; reload it and decide again.",
    "decided_meanwhile": "Another moderator decided this submission at the same moment; reload it.",
    "case_changed": "This report case changed since you opened it; reload it.",
    "handled_meanwhile": "Another moderator handled this record at the same moment; reload it.",
    "not_reported": "Nobody reported this record.",
}


def reason_text(text: str, details) -> str:
    """A reason's `text` (in any language) with its placeholders filled from the error's details."""
    values = {key: value for key, value in details.items() if isinstance(value, int)} if isinstance(
        details, dict) else {}
    try:
        return text.format_map(values)
    except (KeyError, IndexError, ValueError):  # a translation naming what the error does not carry
        return text


class PlatformError(Exception):
    code = "ERROR"
    status = 400

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        deserialize_to_instance(cls)  # every kind of error crosses RPC as itself

    def __init__(self, message: str = "", details=None, reason: str | None = None):
        # exc_args travel over RPC; nameko would send a None as the string "None", so it is left out
        args = (message,) if details is None else (message, details)
        super().__init__(*(args if reason is None else (message, {} if details is None else details, reason)))
        self.message = message
        self.details = details
        self.reason = reason

    @classmethod
    def because(cls, reason: str, details=None):
        """The error for one of REASONS, its English text as the message."""
        return cls(reason_text(REASONS[reason], details), details, reason)

    def __str__(self):
        return self.message

    def to_json(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.reason:
            body["reason"] = self.reason
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

