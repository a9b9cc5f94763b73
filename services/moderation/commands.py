"""`dsi` subcommands of the moderation service: staff accounts."""
import getpass
import sys

from sqlalchemy.orm import Session

from dsi import settings
from dsi.database import make_engine
from dsi.errors import InvalidInput

from . import accounts


def database_url() -> str:
    return settings.database_url("moderation")


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput("No terminal to ask for the password: pipe it in with --password-stdin.")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Password again: ") != first:
        raise InvalidInput("The two passwords differ; nothing was created.")
    return first


def create_staff(args) -> None:
    password = _password(args)
    engine = make_engine(database_url())
    try:
        with Session(engine) as session, session.begin():
            staff = accounts.create_staff(session, {"email": args.email, "name": args.name or "", "role": args.role,
                                                    "password": password}, created_by="dsi create-admin")
    finally:
        engine.dispose()
    print(f"created {staff['role']} account {staff['email']}")


def register(commands) -> None:
    command = commands.add_parser("create-admin", help="create a staff account (the first admin, for a start)")
    command.add_argument("email")
    command.add_argument("--name", default="")
    command.add_argument("--role", default="admin", choices=("admin", "moderator", "editor"))
    command.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    command.set_defaults(handler=create_staff)
