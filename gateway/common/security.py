"""Headers on every answer of the gateway, whichever module's route (or werkzeug itself, for a 404 or 405)
made it: the security headers of the site, HSTS over HTTPS, and CORS for reading the JSON API from other
origins; and the refusal of cross-site writes before any route runs:
- a write (POST, PUT, PATCH, DELETE) a browser sends from another site's page (its `Origin` is not ours, or
  `Sec-Fetch-Site` says cross-site or same-site) is refused with 403;
- a write to the JSON API with a body that is not `application/json` is refused with 415, so that no HTML form
  or `text/plain` fetch of another site can make one (those need no preflight);
- a CORS preflight is answered for reads only: a preflight for a write gets no Access-Control-Allow-* header.

nameko shares one WebServer per container, found by its sharing key; `SecureWebServer` takes that key, and the
`WebSecurity` dependency declares it so that it is bound before any http entrypoint (nameko binds dependencies
first): every http entrypoint of the gateway is then served through it. Inside these headers and before the
routes, a fresh kept answer is given from memory (caching.answering_from_memory).
"""
import json
import socket
from urllib.parse import urlsplit

from nameko.extensions import DependencyProvider
from nameko.web.server import HttpOnlyProtocol, WebServer

from dsi.settings import DEFAULT_PUBLIC_URL

from . import caching
from .http import HTTPS
from .templating import SECURITY_HEADERS

CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
    ("Access-Control-Allow-Headers", "Accept, Accept-Language, Content-Language, Content-Type"),
    ("Access-Control-Max-Age", "86400"),
]


HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
READS = {"GET", "HEAD"}
# RFC 8058 one-click unsubscribe: mail providers POST to the mailed link from their servers; its token is the proof
ONE_CLICK = "/newsletter/unsubscribe"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_https(environ, public_url: str, proxy_hops: int) -> bool:
    """The visitor's connection is HTTPS: the public address is https, the server was reached over TLS, or a
    trusted proxy (PROXY_HOPS > 0) says so in X-Forwarded-Proto (a header from anyone else is ignored)."""
    if public_url.lower().startswith("https://") or environ.get("wsgi.url_scheme") == "https":
        return True
    forwarded = [part.strip().lower() for part in environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")]
    return bool(proxy_hops) and len(forwarded) >= proxy_hops and forwarded[-proxy_hops] == "https"


def cross_site(environ, public_url: str) -> bool:
    """A browser sent this request from another site's page. Our own pages' origin is the public address or the
    host the browser asked for (a page elsewhere cannot make a browser send our Host with its Origin)."""
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None:
        host = environ.get("HTTP_HOST", "")
        own = {origin_of(public_url), f"http://{host}".lower(), f"https://{host}".lower()}
        return origin.lower() not in own
    return environ.get("HTTP_SEC_FETCH_SITE", "").lower() in ("cross-site", "same-site")


def has_body(environ) -> bool:
    return environ.get("CONTENT_LENGTH", "") not in ("", "0") or "chunked" in environ.get(
        "HTTP_TRANSFER_ENCODING", "").lower()


def is_json(environ) -> bool:
    media_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def _refuse(start_response, status: str, code: str, message: str):
    body = json.dumps({"error": code, "message": message}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store"), *SECURITY_HEADERS.items()])
    return [body]


def with_headers(app, public_url: str = DEFAULT_PUBLIC_URL, proxy_hops: int = 0):
    """WSGI middleware: cross-site writes refused; security headers on every response (those a route set itself
    win), HSTS over HTTPS; CORS for reads of /api/."""

    def middleware(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        is_api = path.startswith("/api/")
        https = environ[HTTPS] = is_https(environ, public_url, proxy_hops)
        if is_api and method == "OPTIONS":  # a CORS preflight: only reads are allowed across origins
            asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "GET").upper()
            allowed = CORS_HEADERS if asked in READS else []
            start_response("204 No Content", [*allowed, *SECURITY_HEADERS.items()])
            return [b""]
        if method in WRITES and cross_site(environ, public_url) and not path.endswith(ONE_CLICK):
            return _refuse(start_response, "403 Forbidden", "CROSS_SITE",
                           "Writes are accepted from this site's own pages only.")
        if method in WRITES and is_api and has_body(environ) and not is_json(environ):
            return _refuse(start_response, "415 Unsupported Media Type", "UNSUPPORTED_MEDIA_TYPE",
                           "The body must be JSON, sent with Content-Type: application/json.")

        def start(status, headers, exc_info=None):
            if _framable(headers):  # the embed variant: its frame-ancestors speaks; X-Frame-Options would refuse
                headers = [(name, value) for name, value in headers if name.lower() != "x-frame-options"]
            present = {name.lower() for name, _ in headers}
            if _framable(headers):
                present.add("x-frame-options")
            extra = [(name, value) for name, value in SECURITY_HEADERS.items() if name.lower() not in present]
            if https and HSTS[0].lower() not in present:
                extra.append(HSTS)
            if is_api and method in READS:
                extra += [(name, value) for name, value in CORS_HEADERS if name.lower() not in present]
            return start_response(status, headers + extra, exc_info)

        return app(environ, start)

    return middleware


def _framable(headers) -> bool:
    """A response that lets other sites frame it (only a view's `?embed=1`, see gateway/site/maps.py)."""
    return any(name.lower() == "content-security-policy" and "frame-ancestors *" in value for name, value in headers)


class SecureWebServer(WebServer):
    @property
    def sharing_key(self):
        return WebServer  # the one web server of the container, which every http entrypoint looks up

    def get_wsgi_app(self):
        config = self.container.config
        return with_headers(caching.answering_from_memory(super().get_wsgi_app()),
                            str(config.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL), int(config.get("PROXY_HOPS") or 0))

    def get_wsgi_server(self, sock, wsgi_app, protocol=HttpOnlyProtocol, debug=False):
        # No access line of eventlet's own: dsi.logs.Tracing writes one per request (status, time, request id,
        # secrets masked); the second line cost an eighth of the gateway's CPU on a 304.
        server = super().get_wsgi_server(sock, wsgi_app, protocol, debug)
        server.log_output = False
        return server

    def process_request(self, sock, address):
        # Without it Nagle's algorithm holds the tail of a large answer back for the client's delayed ACK on a
        # kept-alive connection: ~40 ms added to a search page.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return super().process_request(sock, address)


class WebSecurity(DependencyProvider):
    """Declares the gateway's web server (see the module's docstring); workers need nothing from it."""

    server = SecureWebServer()

    def get_dependency(self, worker_ctx):
        return None
