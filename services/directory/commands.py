"""`dsi` subcommands of the directory: loading data into its database."""
import random
from pathlib import Path

from sqlalchemy import func, select

from dsi import events
from dsi.database import in_outbox_transaction, refresh_statistics
from dsi.settings import database_url, real_data

from . import demo, importer
from .models import Outbox, Record


def default_data_path() -> Path | None:
    return real_data("DSI_DATA", "dsi4eu-2017", "organisations.json")


def _in_transaction(work):
    return in_outbox_transaction("directory", Outbox, events.DIRECTORY, work)


def import_dsi4eu(args) -> None:
    summary = _in_transaction(lambda session, outbox: importer.import_dsi4eu(session, outbox, Path(args.path)))
    refresh_statistics(database_url("directory"))
    print(importer.format_summary(summary))


def load_demo(args) -> None:
    rng, published, planned_for, url = random.Random(2017), 0, 0, database_url("directory")
    export = None if args.built_in else Path(args.export) if args.export else default_data_path()
    words = demo.words_for(export)
    for first in range(0, args.count, demo.BATCH):
        size = min(demo.BATCH, args.count - first)
        published += _in_transaction(lambda session, outbox: demo.load_demo(session, outbox, size, rng, words))
        # Each publish reads the record's links, planned by the tables' statistics: refreshed each time the tables
        # doubled (a few times in all), or PostgreSQL without autovacuum planned for the empty tables and walked
        # every record for each publish (100,000 records: 38,000 in 6 minutes, and slowing)
        if published >= 2 * planned_for:
            refresh_statistics(url)
            planned_for = published
    if planned_for != published:
        refresh_statistics(url)
    print(f"published {published} generated demo records, made of {words.source}")


def load_initial_data(path: Path | None) -> None:
    """For `dsi run`: fill an empty directory with the real export when it is there, demo records otherwise."""
    def fill(session, outbox) -> bool:
        if session.scalar(select(func.count()).select_from(Record)):
            return False
        if path:
            print(f"Importing the DSI4EU 2017 export from {path}…")
            print(importer.format_summary(importer.import_dsi4eu(session, outbox, path)))
        else:
            print("No DSI4EU export found (set DSI_DATA); loading generated demo records.")
            print(f"published {demo.load_demo(session, outbox)} demo records")
        return True

    if _in_transaction(fill):
        refresh_statistics(database_url("directory"))


def register(commands) -> None:
    command = commands.add_parser("import-dsi4eu", help="import the DSI4EU 2017 open-data export as published records")
    command.add_argument("path", help="folder holding organisations.json and projects.json")
    command.set_defaults(handler=import_dsi4eu)

    command = commands.add_parser("demo-data", help="publish generated demo organisations and projects")
    command.add_argument("--count", type=int, default=40, help="how many of each kind (default 40)")
    words = command.add_mutually_exclusive_group()
    words.add_argument("--export", metavar="PATH", help="take names, texts, places and tags from the DSI4EU export "
                       "in this folder (default: the export `dsi run` imports, when it is found)")
    words.add_argument("--built-in", action="store_true", help="the built-in 19 words and nine cities, even where "
                       "the export is found")
    command.set_defaults(handler=load_demo)
