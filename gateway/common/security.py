"""Headers on every answer of the gateway, whichever module's route (or werkzeug itself, for a 404 or 405)
made it: the security headers of the site, and CORS for reading the JSON API from other origins.

nameko shares one WebServer per container, found by its sharing key; `SecureWebServer` takes that key, and the
`WebSecurity` dependency declares it so that it is bound before any http entrypoint (nameko binds dependencies
first): every http entrypoint of the gateway is then served through it.
"""
import socket

from nameko.extensions import DependencyProvider
from nameko.web.server import WebServer

from .templating import SECURITY_HEADERS

CORS_HEADERS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
    ("Access-Control-Allow-Headers", "Accept, Accept-Language, Content-Language, Content-Type"),
    ("Access-Control-Max-Age", "86400"),
]


def with_headers(app):
    """WSGI middleware: security headers on every response (those a route set itself win); CORS for reads of /api/."""

    def middleware(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        is_api = path.startswith("/api/")
        if is_api and method == "OPTIONS":  # a CORS preflight: only reads are allowed across origins
            start_response("204 No Content", [*CORS_HEADERS, *SECURITY_HEADERS.items()])
            return [b""]

        def start(status, headers, exc_info=None):
            if _framable(headers):  # the embed variant: its frame-ancestors speaks; X-Frame-Options would refuse
                headers = [(name, value) for name, value in headers if name.lower() != "x-frame-options"]
            present = {name.lower() for name, _ in headers}
            if _framable(headers):
                present.add("x-frame-options")
            extra = [(name, value) for name, value in SECURITY_HEADERS.items() if name.lower() not in present]
            if is_api and method in ("GET", "HEAD"):
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
        return with_headers(super().get_wsgi_app())

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
