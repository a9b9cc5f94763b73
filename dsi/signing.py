"""Signed, expiring tokens for links sent by email (status pages, edit links, confirmations).

All services share SECRET_KEY; `purpose` keeps a token made for one kind of link from opening another.

Links mailed to people carry a reference and a MAC, nothing else (`sign_ref`): the owner looks the rest up.
A `binding` (such as a record's version) enters the MAC without being carried, so the link stops working once
what it was bound to changes, and nothing about it can be read from the token.
"""
import hashlib
import hmac
import re

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from dsi import i18n
from dsi.errors import Forbidden
from dsi.settings import secret_key

DEFAULT_MAX_AGE = 60 * 60 * 24 * 30  # a month

# Purposes of the links the platform sends.
SUBMISSION_STATUS = "submission-status"
SUBMISSION_CONFIRM = "submission-confirm"
RECORD_EDIT = "record-edit"
SUGGESTION_EDIT = "suggestion-edit"

REF = re.compile(r"[A-Za-z0-9_-]{1,64}")


def submission_links(submission_id: str, public_url: str, language: str = i18n.DEFAULT) -> dict:
    """The links a submitter gets by email, to pages in their language: the status page and the address
    confirmation."""
    token = sign(SUBMISSION_STATUS, submission_id)
    page = public_url + i18n.localised(language, f"/submissions/{submission_id}")
    return {
        "status_token": token,
        "status_url": f"{page}?token={token}",
        "confirm_url": f"{page}/confirm?token=" + sign(SUBMISSION_CONFIRM, submission_id),
    }


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt=f"dsi:{purpose}")


def _ref_signer(purpose: str, binding: str) -> TimestampSigner:
    return TimestampSigner(secret_key(), salt=f"dsi:{purpose}:{binding}", digest_method=hashlib.sha256)


def sign_ref(purpose: str, ref, binding: str = "") -> str:
    """`<ref>.<time>.<mac>`: `ref` an id (letters, digits, - and _), never personal data."""
    ref = str(ref)
    if not REF.fullmatch(ref):
        raise ValueError("a token reference is an id: letters, digits, - and _")
    return _ref_signer(purpose, binding).sign(ref).decode()


def ref_of(token: str) -> str:
    """The reference a token names, NOT verified: only to look up what `unsign_ref` needs as the binding."""
    ref = (token or "").split(".", 1)[0]
    if not REF.fullmatch(ref) or (token or "").count(".") != 2:
        raise Forbidden.because("link_invalid")
    return ref


def open_ref(purpose: str, token: str, ref, load, binding_of, what: str = "entry"):
    """What a mailed link for `ref` opens: `load(ref)`, once the token is checked against `binding_of(it)`.
    Forbidden for a link of another `what`, forged, expired or stale; an unknown ref answers as a forged link
    does, so ids cannot be probed."""
    if ref_of(token) != str(ref):
        raise Forbidden.because(f"link_other_{what}")
    target = load(ref)
    if target is None:
        raise Forbidden.because("link_invalid")
    unsign_ref(purpose, token, binding_of(target))
    return target


def unsign_ref(purpose: str, token: str, binding: str = "", max_age: int = DEFAULT_MAX_AGE) -> str:
    """The reference of a valid token for `purpose` and `binding`; Forbidden otherwise."""
    try:
        return _ref_signer(purpose, binding).unsign(token or "", max_age=max_age).decode()
    except SignatureExpired:
        raise Forbidden.because("link_expired")
    except BadSignature:
        raise Forbidden.because("link_outdated")


def digest(purpose: str, text: str) -> str:
    """A keyed SHA-256 of `text`: a lookup key that cannot be reversed by trying likely values (addresses)."""
    return hmac.new(f"{secret_key()}:{purpose}".encode(), text.encode(), hashlib.sha256).hexdigest()


def sign(purpose: str, data) -> str:
    return _serializer(purpose).dumps(data)


def unsign(purpose: str, token: str, max_age: int = DEFAULT_MAX_AGE):
    try:
        return _serializer(purpose).loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise Forbidden.because("link_expired")
    except BadSignature:
        raise Forbidden.because("link_invalid")
