"""The platform's services as the `dsi` command and the launcher see them: which there are, their modules and
their databases. Imports no service at import time."""
import importlib

from dsi.errors import InvalidInput
from dsi.settings import amqp_uri, database_url

SERVICES = ("directory", "search", "moderation", "newsletter")


def service_modules(name: str):
    """services.<service>.<name> for every service that has one."""
    for service in SERVICES:
        try:
            yield importlib.import_module(f"services.{service}.{name}")
        except ModuleNotFoundError as error:
            if error.name not in (f"services.{service}", f"services.{service}.{name}"):
                raise


def migrate_all(services=SERVICES) -> None:
    from dsi.migrations import SERVICES_DIR, upgrade

    unknown = set(services) - set(SERVICES)
    if unknown:
        raise InvalidInput(f"unknown service {', '.join(sorted(unknown))}; services are {', '.join(SERVICES)}")
    for service in services:
        if (SERVICES_DIR / service / "migrations").is_dir():
            upgrade(service, database_url(service))
            print(f"{service}: database at head")


def cluster(timeout: float):
    """An RPC proxy to the running services for the `dsi` command, at AMQP_URI (as the services' config.yml)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    return ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=timeout)
