"""`dsi` subcommands of the directory: loading data into its database."""
import random
from pathlib import Path

from sqlalchemy import func, select

from dsi import events
from dsi.database import in_outbox_transaction, refresh_statistics
from dsi.settings import database_url

from . import demo, importer
from .models import Outbox, Record


def _in_transaction(work):
    return in_outbox_transaction("directory", Outbox, events.DIRECTORY, work)


def import_dsi4eu(args) -> None:
    summary = _in_transaction(lambda session, outbox: importer.import_dsi4eu(session, outbox, Path(args.path)))
    refresh_statistics(database_url("directory"))
    print(importer.format_summary(summary))


def load_demo(args) -> None:
    rng, published, planned_for, url = random.Random(2017), 0, 0, database_url("directory")
    for first in range(0, args.count, demo.BATCH):
        size = min(demo.BATCH, args.count - first)
        published += _in_transaction(lambda session, outbox: demo.load_demo(session, outbox, size, rng))
        # Each publish reads the record's links, planned by the tables' statistics: refreshed each time the tables
        # doubled (a few times in all), or PostgreSQL without autovacuum planned for the empty tables and walked
        # every record for each publish (100,000 records: 38,000 in 6 minutes, and slowing)
        if published >= 2 * planned_for:
            refresh_statistics(url)
            planned_for = published
    if planned_for != published:
        refresh_statistics(url)
    print(f"published {published} generated demo records")


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
    command.set_defaults(handler=load_demo)
