"""The gateway: the one HTTP door of the platform, in three rooms by audience — api/ (the JSON API and its
OpenAPI document), site/ (the public website) and console/ (staff) — on the plumbing in common/."""
from nameko.rpc import rpc

from dsi.errors import Forbidden
from dsi.lifecycle import GracefulStop, ReleasedWorkers
from dsi.logs import Tracing
from dsi.metrics import Metrics, exposition

from .api.content import ContentApi
from .api.directory import DirectoryApi
from .api.document import ApiDocument
from .api.maps import MapApi
from .api.newsletter import NewsletterApi
from .api.reports import ReportsApi
from .api.search import SearchApi
from .common.caching import AnswerInvalidation
from .common.health import Health
from .common.dependencies import RATE_LIMITS, SETTINGS
from .common.http import RpcProxy, json_route
from .common.security import WebSecurity
from .common.spooling import SpoolRelay
from .console.content import ContentConsole
from .console.moderation import ModerationConsole
from .console.newsletter import NewsletterConsole
from .site.content import ContentPages
from .site.data import OpenData
from .site.maps import MapPages
from .site.newsletter import NewsletterPages
from .site.pages import PublicPages


class GatewayService(DirectoryApi, ContentApi, SearchApi, MapApi, NewsletterApi, ReportsApi, ApiDocument,
                     PublicPages, ContentPages, MapPages, NewsletterPages, ModerationConsole, NewsletterConsole,
                     ContentConsole, OpenData, Health, SpoolRelay, AnswerInvalidation):
    name = "gateway"
    directory = RpcProxy("directory")
    security = WebSecurity()
    graceful_stop = GracefulStop()
    released_workers = ReleasedWorkers()
    metrics = Metrics()  # dsi_http_* per route template; also served on METRICS_PORT when set
    tracing = Tracing()
    settings = SETTINGS
    limits = RATE_LIMITS

    @json_route("GET", "/metrics")
    def metrics_page(self, request):
        """The process's Prometheus figures, to the networks in METRICS_ALLOW only (never to the public)."""
        if not self.settings.metrics_allowed(self.limits.client(request)):
            raise Forbidden("The metrics are served to the platform's monitoring only.")
        return exposition(request.headers.get("Accept", ""))

    @rpc
    def ping(self):
        """An AMQP entrypoint: without one a web-only nameko service takes a minute to stop."""
        return "pong"
