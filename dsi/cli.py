"""The `dsi` command: operator tasks of the platform.

Each service contributes its own subcommands from services/<name>/commands.py (a `register(subparsers)`
function); this module only gathers them, with the platform-wide ones: migrate and run.
"""
import argparse
import sys

from dsi import backup, launcher
from dsi.errors import InvalidInput, PlatformError
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


def dead_letters(args) -> int:
    """List, retry or drop the messages that failed too often (see dsi/deadletters.py)."""
    import json

    from dsi.deadletters import DeadLetters
    from dsi.settings import amqp_uri

    letters = DeadLetters(amqp_uri())
    if args.action == "list":
        found = letters.list()
        if args.json:
            print(json.dumps(found, indent=2, default=str))
        for letter in [] if args.json else found:
            last_line = (letter["error"].strip().splitlines() or [""])[-1]
            print(f"{letter['id']}  {letter['dead_at']}  {letter['service']}  {letter['queue']}  "
                  f"{letter['routing_key']}  after {letter['attempts']} deliveries: {last_line}")
        if not found and not args.json:
            print("no dead letters")
        return 0
    if not args.ids and not args.all:
        raise InvalidInput(f"name the messages to {args.action} (ids from `dsi dead-letters list`), or --all")
    ids = None if args.all else set(args.ids)
    done = letters.retry(ids) if args.action == "retry" else letters.drop(ids)
    print(f"{'retried' if args.action == 'retry' else 'dropped'} {len(done)} message(s)")
    missing = (ids or set()) - set(done)
    if missing:
        print(f"not found: {', '.join(sorted(missing))}", file=sys.stderr)
        return 1
    return 0


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

    command = commands.add_parser("dead-letters", help="messages that failed too often: list, retry or drop them")
    command.add_argument("action", choices=("list", "retry", "drop"))
    command.add_argument("ids", nargs="*", metavar="ID", help="retry or drop only these (ids from list)")
    command.add_argument("--all", action="store_true", help="retry or drop every dead letter")
    command.add_argument("--json", action="store_true", help="list as JSON, with full errors")
    command.set_defaults(handler=dead_letters)

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
