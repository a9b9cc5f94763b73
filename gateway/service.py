"""The gateway: the one HTTP door of the platform, in three rooms by audience — api/ (the JSON API and its
OpenAPI document), site/ (the public website) and console/ (staff) — on the plumbing in common/."""
from nameko.rpc import RpcProxy, rpc

from dsi.lifecycle import GracefulStop
from dsi.metrics import Metrics

from .api.directory import DirectoryApi
from .api.document import ApiDocument
from .api.newsletter import NewsletterApi
from .api.reports import ReportsApi
from .api.search import SearchApi
from .common.caching import AnswerInvalidation
from .common.health import Health
from .common.logs import hide_tokens
from .common.security import WebSecurity
from .common.spooling import SpoolRelay
from .console.moderation import ModerationConsole
from .console.newsletter import NewsletterConsole
from .site.data import OpenData
from .site.newsletter import NewsletterPages
from .site.pages import PublicPages

hide_tokens()


class GatewayService(DirectoryApi, SearchApi, NewsletterApi, ReportsApi, ApiDocument, PublicPages, NewsletterPages,
                     ModerationConsole, NewsletterConsole, OpenData, Health, SpoolRelay,
                     AnswerInvalidation):
    name = "gateway"
    directory = RpcProxy("directory")
    security = WebSecurity()
    graceful_stop = GracefulStop()
    metrics = Metrics()  # dsi_http_* per route template; served on METRICS_PORT when set

    @rpc
    def ping(self):
        """An AMQP entrypoint: without one a web-only nameko service takes a minute to stop."""
        return "pong"
