"""The gateway: the one HTTP door of the platform, in three rooms by audience — api/ (the JSON API and its
OpenAPI document), site/ (the public website) and console/ (staff) — on the plumbing in common/."""
from nameko.rpc import RpcProxy, rpc

from .api.content import ContentApi
from .api.directory import DirectoryApi
from .api.document import ApiDocument
from .api.newsletter import NewsletterApi
from .api.reports import ReportsApi
from .api.search import SearchApi
from .common.http import call, json_response, json_route
from .common.logs import hide_tokens
from .common.openapi import ok, operation, ref
from .common.security import WebSecurity
from .console.content import ContentConsole
from .console.moderation import ModerationConsole
from .console.newsletter import NewsletterConsole
from .site.content import ContentPages
from .site.data import OpenData
from .site.newsletter import NewsletterPages
from .site.pages import PublicPages

hide_tokens()


class GatewayService(DirectoryApi, ContentApi, SearchApi, NewsletterApi, ReportsApi, ApiDocument, PublicPages,
                     ContentPages, NewsletterPages, ModerationConsole, NewsletterConsole, ContentConsole, OpenData):
    name = "gateway"
    directory = RpcProxy("directory")
    security = WebSecurity()

    @json_route("GET", "/healthz", openapi={"/healthz": operation(
        "get", "health", "Whether the gateway and the directory answer", "platform",
        {"200": ok(ref("Health")), "503": ok(ref("Health"), "Degraded")})})
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
