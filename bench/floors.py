"""The two floors bench/load.py measures the platform against, each run by `nameko run` in a process of its own:

- `BareHttp`: an `@http` entrypoint answering "ok" (what nameko's HTTP server costs);
- `HttpToRpc`: an `@http` entrypoint making one RPC to `Echo` and replying (the least a gateway route that asks a
  service can cost).
"""
from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http


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
