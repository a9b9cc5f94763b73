"""`dsi` subcommands of the content service: importing the original's editorial texts and demo content, and
filling an empty content database when `dsi run` starts."""
from pathlib import Path

from sqlalchemy import func, select

from dsi import events
from dsi.database import in_outbox_transaction, refresh_statistics
from dsi.settings import database_url, real_data

from . import demo, importer
from .models import Item, Outbox


def default_editorial_path() -> Path | None:
    return real_data("DSI_EDITORIAL", "editorial", "manifest.json")


def _in_transaction(work):
    return in_outbox_transaction("content", Outbox, events.CONTENT, work)


def import_editorial(args) -> None:
    summary = _in_transaction(lambda session, outbox: importer.import_editorial(session, outbox, Path(args.path)))
    refresh_statistics(database_url("content"))
    print(importer.format_summary(summary))


def load_demo(args) -> None:
    count = _in_transaction(lambda session, outbox: demo.load_demo(session, outbox))
    refresh_statistics(database_url("content"))
    print(f"published {count} generated demo content items")


def load_initial_data(path: Path | None) -> None:
    """Fill an empty content database: cluster pages, the real editorial texts when found, and the demo set."""
    def fill(session, outbox) -> bool:
        if session.scalar(select(func.count()).select_from(Item)):
            return False
        demo.ensure_cluster_pages(session, outbox)
        if path:
            print(f"Importing the editorial texts from {path}…")
            print(importer.format_summary(importer.import_editorial(session, outbox, path)))
        print(f"published {demo.load_demo(session, outbox)} demo content items")
        return True

    if _in_transaction(fill):
        refresh_statistics(database_url("content"))


def before_run() -> None:
    """`dsi run` calls this after migrating every database."""
    load_initial_data(default_editorial_path())


def register(commands) -> None:
    command = commands.add_parser("import-editorial",
                                  help="import the original platform's editorial texts (manifest.json and texts)")
    command.add_argument("path", help="folder holding manifest.json, such as ../shared/data/editorial")
    command.set_defaults(handler=import_editorial)

    command = commands.add_parser("content-demo", help="publish generated demo stories, events, funding and more")
    command.set_defaults(handler=load_demo)
