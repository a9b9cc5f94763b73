"""CSRF protection of the public forms without sessions: a signed double-submit token.

A form page sets a random nonce in a cookie and puts the nonce, signed with SECRET_KEY, in a hidden field.
A POST passes only if the field's signature is valid, recent, and signs the nonce of the cookie that came with
it: another site can make a browser send the cookie but can neither read it nor forge the signed field.
"""
import secrets

from dsi import signing
from dsi.errors import Forbidden

COOKIE = "dsi_csrf"
FIELD = "csrf_token"
PURPOSE = "csrf"
MAX_AGE = 60 * 60 * 24  # a form left open for a day still posts


class Token:
    """The token of one page: reuses the visitor's nonce, or makes one and sets it on the response."""

    def __init__(self, request):
        self.nonce = request.cookies.get(COOKIE) or ""
        self.new = not self.nonce
        self.secure = request.scheme == "https"
        self.used = False

    def value(self) -> str:
        if self.new and not self.nonce:
            self.nonce = secrets.token_urlsafe(24)
        self.used = True
        return signing.sign(PURPOSE, self.nonce)

    def set_cookie(self, response) -> None:
        if self.used and self.new:
            response.set_cookie(COOKIE, self.nonce, httponly=True, samesite="Lax", secure=self.secure, path="/")


def check(request) -> None:
    """Forbidden unless the POST carries a valid token for the cookie it came with."""
    nonce = request.cookies.get(COOKIE)
    field = request.form.get(FIELD, "")
    if not nonce or not field:
        raise Forbidden("This form has expired or was not sent from our site; please reload the page and try again.")
    try:
        valid = signing.unsign(PURPOSE, field, max_age=MAX_AGE) == nonce
    except Forbidden:
        valid = False
    if not valid:
        raise Forbidden("This form has expired or was not sent from our site; please reload the page and try again.")
