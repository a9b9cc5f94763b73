"""Staff sessions in the gateway: the session cookie, "who is this and may they?", and pages for staff only.

The moderation service owns staff accounts: it issues the signed session value at login and checks it, with the
role, on every staff RPC; this module only carries the cookie. Use it on any staff page:

    class EditorPages(StaffSessions):
        @http("GET", "/console/news")
        @staff_page("editor", "admin")
        def news(self, request):
            staff = current_staff(request)        # {"id", "email", "name", "role", ...}
            token = session_value(request)       # pass it to staff RPCs of other services if they check roles

`staff_page` refuses a visitor (303 to the login page) or a wrong role (403 page), and checks the CSRF token
of every POST, so no staff form can forget it.
"""
import functools
import logging
from urllib.parse import quote

from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from werkzeug.utils import redirect

from dsi.errors import Forbidden, PlatformError

from . import csrf
from .http import call
from .templating import render

log = logging.getLogger(__name__)

COOKIE = "dsi_staff"
LOGIN_PATH = "/console/login"
_STAFF, _TOKEN = "dsi.staff", "dsi.staff_session"


class StaffSessions:
    """Mix into a gateway route class to use staff_page: it brings the moderation proxy and the config."""

    moderation = RpcProxy("moderation")
    config = Config()


def session_value(request) -> str:
    return request.cookies.get(COOKIE, "")


def current_staff(request) -> dict | None:
    """The staff member that staff_page found for this request (None outside a staff page)."""
    return request.environ.get(_STAFF)


def is_secure(request, public_url: str) -> bool:
    """Behind TLS: the public address is https, or the proxy says the request came over https."""
    return (public_url.startswith("https://") or request.headers.get("X-Forwarded-Proto", "") == "https"
            or request.scheme == "https")


def set_session_cookie(response, request, public_url: str, value: str, max_age: int) -> None:
    response.set_cookie(COOKIE, value, max_age=max_age, httponly=True, samesite="Lax",
                        secure=is_secure(request, public_url), path="/")


def clear_session_cookie(response, request, public_url: str) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=is_secure(request, public_url))


def staff_error(request, error: PlatformError, status: int | None = None):
    status = status or error.status
    return render("console/message.html", status, {"Cache-Control": "no-store"}, request=request,
                  title="Not allowed" if status == 403 else "Something is wrong", message=error.message)


def staff_page(*roles: str):
    """Only for a logged-in staff member with one of `roles`; POSTs must carry the form's CSRF token."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(self, request, *args, **kwargs):
            try:
                if request.method == "POST":
                    csrf.check(request)
                token = session_value(request)
                if not token:
                    return _to_login(request)
                try:
                    staff = call(self.moderation.whoami, token, list(roles), timeout=5)
                except Forbidden as error:
                    if (error.details or {}).get("reason") == "no_session":
                        return _to_login(request)
                    raise
                request.environ[_STAFF], request.environ[_TOKEN] = staff, token
                response = handler(self, request, *args, **kwargs)
                response.headers.setdefault("Cache-Control", "no-store")
                return response
            except PlatformError as error:
                return staff_error(request, error)
            except Exception:
                log.exception("staff page %s failed", request.path)
                return staff_error(request, PlatformError("Something went wrong on our side; please try again."), 500)

        return wrapper

    return decorate


def _to_login(request):
    target = request.full_path.rstrip("?") if request.method == "GET" else "/console"
    return redirect(f"{LOGIN_PATH}?next={quote(target, safe='/')}", 303)
