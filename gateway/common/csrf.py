"""CSRF protection of the forms: a signed double-submit token, bound to the staff session when there is one.

A form page sets a random nonce in a cookie and puts the nonce, signed with SECRET_KEY, in a hidden field.
A POST passes only if the field's signature is valid, recent, and signs the nonce of the cookie that came with
it: another site can make a browser send the cookie but can neither read it nor forge the signed field.
The token also signs a digest of the staff session cookie it was made with ("" for visitors), so a pair
obtained anonymously does not work together with a staff member's session cookie.
"""
import secrets

from werkzeug.exceptions import RequestEntityTooLarge

from dsi import signing
from dsi.errors import Forbidden

from .http import MAX_BODY_BYTES, PayloadTooLarge, check_size, over_https

COOKIE = "dsi_csrf"
STAFF_COOKIE = "dsi_staff"  # the staff session (console/staff.py); a token is bound to it
FIELD = "csrf_token"
PURPOSE = "csrf"
SESSION_PURPOSE = "csrf-session"
MAX_AGE = 60 * 60 * 24  # a form left open for a day still posts


def _session_binding(request) -> str:
    session = request.cookies.get(STAFF_COOKIE, "")
    return signing.digest(SESSION_PURPOSE, session)[:32] if session else ""


class Token:
    """The token of one page: reuses the visitor's nonce, or makes one and sets it on the response."""

    def __init__(self, request):
        self.request = request
        self.nonce = request.cookies.get(COOKIE) or ""
        self.new = not self.nonce
        self.used = False

    def value(self) -> str:
        if self.new and not self.nonce:
            self.nonce = secrets.token_urlsafe(24)
        self.used = True
        return signing.sign(PURPOSE, [self.nonce, _session_binding(self.request)])

    def set_cookie(self, response) -> None:
        if self.used and self.new:
            response.set_cookie(COOKIE, self.nonce, httponly=True, samesite="Lax", secure=over_https(self.request),
                                path="/")


def check(request) -> None:
    """Forbidden unless the POST carries a valid token for the cookies it came with (PayloadTooLarge before the
    form is read when the body is over the limit)."""
    check_size(request, "form")
    nonce = request.cookies.get(COOKIE)
    try:
        field = request.form.get(FIELD, "")
    except RequestEntityTooLarge:  # werkzeug's own limits on a form (its size without a length, its parts)
        raise PayloadTooLarge(f"The form is larger than {MAX_BODY_BYTES // 1024} KiB or has too many fields.")
    if not nonce or not field:
        raise Forbidden.because("form_expired")
    try:
        valid = signing.unsign(PURPOSE, field, max_age=MAX_AGE) == [nonce, _session_binding(request)]
    except Forbidden:
        valid = False
    if not valid:
        raise Forbidden.because("form_expired")
