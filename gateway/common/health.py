"""Liveness and readiness: `/healthz` says the gateway's process answers (restart it when it does not);
`/readyz` asks each dependency — the broker and every service — and answers 503 naming the ones missing (take
the instance out of rotation, or wait before sending traffic)."""
import eventlet
from kombu import Connection

from dsi.platform import SERVICES

from .dependencies import SETTINGS
from .http import RpcProxy, call, json_response, json_route
from .openapi import closed, ok, operation

CHECK_TIMEOUT = 2  # seconds each dependency has to answer
STATE = {"type": "string", "enum": ["ok", "unavailable"]}
LIVE = closed({"status": {"const": "ok"}})
READY = closed({"status": {"type": "string", "enum": ["ok", "degraded"]},
                "checks": closed({name: STATE for name in ("broker", *SERVICES)}),
                "missing": {"type": "array", "items": {"type": "string"}}})


def broker_answers(amqp_uri: str) -> bool:
    try:
        with Connection(amqp_uri, connect_timeout=CHECK_TIMEOUT) as connection:
            connection.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)
        return True
    except Exception:
        return False


class Health:
    """The probes, a part of the gateway service (one RPC proxy per service it asks)."""

    settings = SETTINGS

    @json_route("GET", "/healthz", openapi={"/healthz": operation(
        "get", "health", "Whether the gateway's process answers (liveness)", "platform", {"200": ok(LIVE)})})
    def healthz(self, request):
        return json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})

    @json_route("GET", "/readyz", openapi={"/readyz": operation(
        "get", "ready", "Whether the broker and every service answer (readiness)", "platform",
        {"200": ok(READY), "503": ok(READY, "One or more dependencies are missing; `missing` names them")})})
    def readyz(self, request):
        pool = eventlet.GreenPool()
        broker = pool.spawn(broker_answers, self.settings.AMQP_URI)
        services = {name: pool.spawn(self._service_answers, name) for name in SERVICES}
        checks = {"broker": broker.wait(), **{name: thread.wait() for name, thread in services.items()}}
        missing = [name for name, answers in checks.items() if not answers]
        body = {"status": "degraded" if missing else "ok",
                "checks": {name: "ok" if answers else "unavailable" for name, answers in checks.items()},
                "missing": missing}
        return json_response(body, 503 if missing else 200, {"Cache-Control": "no-store"})

    def _service_answers(self, name: str) -> bool:
        try:
            call(getattr(self, f"_health_{name}").health, timeout=CHECK_TIMEOUT)
            return True
        except Exception:
            return False


for _name in SERVICES:  # nameko finds dependencies among class attributes: one RPC proxy per service asked
    setattr(Health, f"_health_{_name}", RpcProxy(_name))
