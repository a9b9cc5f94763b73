"""The `dsi` command: operator tasks of the platform.

Each service contributes its own subcommands from services/<name>/commands.py (a `register(subparsers)`
function); this module only gathers them, with the platform-wide ones: migrate and run.
"""
import argparse
import importlib
import os
import sys

from dsi import backup, launcher
from dsi.errors import InvalidInput, PlatformError

SERVICES = ("directory", "search", "moderation", "newsletter")


def service_modules(name: str):
    """services.<service>.<name> for every service that has one."""
    for service in SERVICES:
        try:
            yield importlib.import_module(f"services.{service}.{name}")
        except ModuleNotFoundError as error:
            if error.name not in (f"services.{service}", f"services.{service}.{name}"):
                raise


def database_url(service: str) -> str:
    """The service's database URL, from the same variables and defaults as its config.yml."""
    return os.environ.get(f"{service.upper()}_DB_URL", f"sqlite:///var/{service}.db")


def migrate_all(services=SERVICES) -> None:
    from dsi.migrations import SERVICES_DIR, upgrade

    unknown = set(services) - set(SERVICES)
    if unknown:
        raise InvalidInput(f"unknown service {', '.join(sorted(unknown))}; services are {', '.join(SERVICES)}")
    for service in services:
        if (SERVICES_DIR / service / "migrations").is_dir():
            upgrade(service, database_url(service))
            print(f"{service}: database at head")


def ping(args) -> int:
    """Exit 0 when every service named answers its `health` RPC: the container healthcheck of nameko services."""
    from nameko.standalone.rpc import ClusterRpcProxy

    config = {"AMQP_URI": os.environ.get("AMQP_URI", "pyamqp://guest:guest@localhost:5672/")}
    silent = []
    with ClusterRpcProxy(config, timeout=args.timeout) as cluster:
        for service in args.services:
            try:
                print(f"{service}: {getattr(cluster, service).health()}")
            except Exception as error:
                print(f"{service} did not answer: {error!r}", file=sys.stderr)
                silent.append(service)
    return 1 if silent else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dsi", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser("migrate", help="upgrade every service's database to the latest schema")
    command.add_argument("services", nargs="*", metavar="SERVICE", help=f"only these of: {', '.join(SERVICES)}")
    command.set_defaults(handler=lambda args: migrate_all(args.services or SERVICES))

    command = commands.add_parser("ping", help="check that a service answers over RabbitMQ")
    command.add_argument("services", nargs="+", metavar="SERVICE", help=f"any of: {', '.join(SERVICES)}")
    command.add_argument("--timeout", type=float, default=5)
    command.set_defaults(handler=ping)

    launcher.register(commands)
    backup.register(commands)
    for module in service_modules("commands"):
        module.register(commands)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except PlatformError as error:
        print(f"dsi {args.command}: {error.message}", file=sys.stderr)
        for field, message in (error.details or {}).items():
            print(f"  {field}: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
