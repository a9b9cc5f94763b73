"""`dsi` subcommands of search: rebuilding the index and checking it against the directory.

Both talk to the running services over RabbitMQ (AMQP_URI, as the services' config.yml). The instance that
takes the call does the work and, with the embedded backend, has every other instance do the same.
"""
import json
import sys

from dsi.platform import cluster
from dsi.settings import amqp_uri

TIMEOUT = 1800  # a rebuild of a large directory takes minutes, not hours
HEALTH_TIMEOUT = 10


def _cluster(timeout: float = TIMEOUT):
    return cluster(timeout)


def _search_answers() -> bool:
    """Whether a search instance answers at all: else a long call would wait its whole timeout in the queue."""
    try:
        with _cluster(timeout=HEALTH_TIMEOUT) as cluster:
            cluster.search.health()
        return True
    except Exception as error:
        print(f"the search service does not answer at {amqp_uri()}: {error!r}",
              file=sys.stderr)
        return False


def reindex(args) -> int:
    if not _search_answers():
        return 2
    with _cluster() as cluster:
        result = cluster.search.reindex()
    print(f"search index rebuilt from the directory and swapped in: {result['documents']} documents "
          f"in {result['seconds']}s ({result['backend']})")
    return 0


def search_check(args) -> int:
    if not _search_answers():
        return 2
    with _cluster() as cluster:
        result = cluster.search.check(args.fix)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(format_check(result, args.fix))
    return 0 if result["in_sync"] or args.fix else 1


def format_check(result: dict, fix: bool) -> str:
    lines = [f"published in the directory: {result['published']}; searchable: {result['indexed']}"]
    for name, meaning in (("missing", "published but not searchable"), ("stale", "searchable in an older version"),
                          ("extra", "searchable but no longer published")):
        ids = result[name]
        if ids:
            shown = ", ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else "")
            lines.append(f"  {len(ids)} {meaning}: {shown}")
    if result["in_sync"]:
        lines.append("the index matches the directory")
    elif fix:
        lines.append(f"fixed {result['fixed']} documents")
    else:
        lines.append("run `dsi search-check --fix` to repair")
    return "\n".join(lines)


def register(commands) -> None:
    command = commands.add_parser("reindex", help="rebuild the search index from the directory, without downtime")
    command.set_defaults(handler=reindex)

    command = commands.add_parser("search-check", help="compare the search index with the directory's published set")
    command.add_argument("--fix", action="store_true", help="repair what differs")
    command.add_argument("--json", action="store_true", help="print the full report as JSON")
    command.set_defaults(handler=search_check)
