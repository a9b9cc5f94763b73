"""Signed, expiring tokens for links sent by email (status pages, edit links, confirmations).

All services share SECRET_KEY; `purpose` keeps a token made for one kind of link from opening another.
"""
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from dsi.errors import Forbidden
from dsi.settings import secret_key

DEFAULT_MAX_AGE = 60 * 60 * 24 * 30  # a month

# Purposes of the links the platform sends.
SUBMISSION_STATUS = "submission-status"
SUBMISSION_CONFIRM = "submission-confirm"
RECORD_EDIT = "record-edit"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt=f"dsi:{purpose}")


def sign(purpose: str, data) -> str:
    return _serializer(purpose).dumps(data)


def unsign(purpose: str, token: str, max_age: int = DEFAULT_MAX_AGE):
    try:
        return _serializer(purpose).loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise Forbidden("This link has expired; ask for a new one.")
    except BadSignature:
        raise Forbidden("This link is not valid.")
