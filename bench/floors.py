"""The two floors bench/load.py measures the platform against, each run by `nameko run` in a process of its own:

- `BareHttp`: an `@http` entrypoint answering "ok" (what nameko's HTTP server costs);
- `HttpToRpc`: an `@http` entrypoint making one RPC to `Echo` and replying (the least a gateway route that asks a
  service can cost, with nameko's defaults: the floor the issue set);
- `HttpToPlatformRpc`: the same through the platform's own RPC — a transient request, as a public read of the
  gateway sends it, to a service of `dsi.messaging.rpc`, whose reply is transient, unconfirmed and encoded once:
  what is left of a read beside it is the platform's own work.
"""
from nameko.constants import NON_PERSISTENT
from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http

from dsi.messaging import rpc as platform_rpc


class BareHttp:
    name = "floor_bare_http"

    @http("GET", "/ok")
    def ok(self, request):
        return "ok"


class Echo:
    name = "floor_echo"

    @rpc
    def echo(self, value):
        return value


class HttpToRpc:
    name = "floor_http_to_rpc"

    echo = RpcProxy("floor_echo")

    @http("GET", "/rpc")
    def one_rpc(self, request):
        return self.echo.echo("ok")


class PlatformEcho:
    name = "floor_platform_echo"

    @platform_rpc
    def echo(self, value):
        return value


class HttpToPlatformRpc:
    name = "floor_http_to_platform_rpc"

    echo = RpcProxy("floor_platform_echo", delivery_mode=NON_PERSISTENT)

    @http("GET", "/rpc")
    def one_rpc(self, request):
        return self.echo.echo("ok")
