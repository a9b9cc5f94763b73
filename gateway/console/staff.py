"""Staff sessions in the gateway: the session cookie, "who is this and may they?", and pages for staff only.

The moderation service owns staff accounts: it issues the signed session value at login and checks it, with the
role, on every staff RPC; this module only carries the cookie. Use it on any staff page:

    class EditorPages(StaffSessions):
        @staff_route("GET", "/console/news", "editor", "admin")
        def news(self, request):
            staff = current_staff(request)        # {"id", "email", "name", "role", ...}
            token = session_value(request)       # pass it to staff RPCs of other services if they check roles

`staff_route` refuses a visitor (303 to the login page) or a wrong role (403 page), and checks the CSRF token
of every POST, so no staff form can forget it.
"""
import functools
from urllib.parse import quote

from werkzeug.utils import redirect

from dsi.errors import Forbidden, PlatformError

from ..common import csrf, i18n
from ..common.dependencies import SETTINGS
from ..common.http import RpcProxy, call, html_route, over_https, retry_headers
from ..common.templating import LANGUAGE, render

COOKIE = csrf.STAFF_COOKIE
LOGIN_PATH = "/console/login"
_STAFF, _TOKEN = "dsi.staff", "dsi.staff_session"


class StaffSessions:
    """Mix into a gateway route class to use staff_route: it brings the moderation proxy and the settings."""

    moderation = RpcProxy("moderation")
    settings = SETTINGS

    @property
    def public_url(self) -> str:
        return self.settings.public_url


def session_value(request) -> str:
    return request.cookies.get(COOKIE, "")


def current_staff(request) -> dict | None:
    """The staff member that staff_page found for this request (None outside a staff page)."""
    return request.environ.get(_STAFF)


def is_secure(request, public_url: str) -> bool:
    """Behind TLS: the public address is https, or the request came over https (a forwarded scheme counts from
    trusted proxies only; see common/security.py)."""
    return public_url.startswith("https://") or over_https(request)


def set_session_cookie(response, request, public_url: str, value: str, max_age: int) -> None:
    response.set_cookie(COOKIE, value, max_age=max_age, httponly=True, samesite="Lax",
                        secure=is_secure(request, public_url), path="/")


def clear_session_cookie(response, request, public_url: str) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=is_secure(request, public_url))


def staff_error(self, request, error: PlatformError, status: int):
    """A failure of a staff page, in the console's look."""
    return render("console/message.html", status, {"Cache-Control": "no-store", **(retry_headers(error) or {})},
                  request=request, forbidden=status == 403, failure=error)


def staff_route(methods: str, path: str, *roles: str, max_body: tuple[int, str] | None = None):
    """A console page only for a logged-in staff member with one of `roles`; POSTs must carry the form's CSRF
    token. Failures are shown in the console's look (staff_error). `max_body`: see http.html_route."""

    def decorate(handler):
        @functools.wraps(handler)
        def for_staff(self, request, *args, **kwargs):
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
            request.environ[LANGUAGE] = i18n.language(staff.get("language"))
            response = handler(self, request, *args, **kwargs)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return html_route(methods, path, staff_error, localised=False, max_body=max_body)(for_staff)

    return decorate


def _to_login(request):
    target = request.full_path.rstrip("?") if request.method == "GET" else "/console"
    return redirect(f"{LOGIN_PATH}?next={quote(target, safe='/')}", 303)
