"""The gateway: the one HTTP door of the platform. Each area's routes live in their own module."""
from nameko.rpc import rpc
from nameko.web.handlers import http

from dsi.metrics import Metrics

from .api import DirectoryApi
from .console import ModerationConsole
from .http import api, call, json_response
from .newsletter_console import NewsletterConsole
from .newsletter_pages import NewsletterPages
from .search_api import SearchApi
from .web import PublicWeb


class GatewayService(DirectoryApi, SearchApi, PublicWeb, NewsletterPages, ModerationConsole,
                     NewsletterConsole):
    name = "gateway"
    metrics = Metrics()  # dsi_http_* per route template; served on METRICS_PORT when set

    @http("GET", "/healthz")
    @api
    def healthz(self, request):
        """Liveness of the gateway and whether the directory answers."""
        try:
            call(self.directory.stats, timeout=2)
            directory = "ok"
        except Exception:
            directory = "unavailable"
        status = 200 if directory == "ok" else 503
        return json_response({"status": "ok" if status == 200 else "degraded", "directory": directory}, status)

    @rpc
    def ping(self):
        """An AMQP entrypoint: without one a web-only nameko service takes a minute to stop."""
        return "pong"
