"""The `dsi` command: operator tasks of the platform.

Each service contributes its own subcommands from services/<name>/commands.py (a `register(subparsers)`
function); this module only gathers them, with the platform-wide ones: migrate and run.
"""
import argparse
import sys

from dsi import launcher
from dsi.errors import PlatformError
from dsi.platform import SERVICES, cluster, migrate_all, service_modules


def ping(args) -> int:
    """Exit 0 when every service named answers its `health` RPC: the container healthcheck of nameko services."""
    silent = []
    with cluster(args.timeout) as services:
        for service in args.services:
            try:
                print(f"{service}: {getattr(services, service).health()}")
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
