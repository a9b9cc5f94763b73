"""`dsi newsletter …`: editors' and operators' actions on the newsletter's database, and the local mail sink
that `dsi run` starts when no SMTP_HOST is configured (mails land as files in var/mail/)."""
import json
import os
import sys
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from dsi.database import make_engine

from . import editions, subscribers
from .dependencies import Settings
from .i18n import LANGUAGES


def database_url() -> str:
    return os.environ.get("NEWSLETTER_DB_URL", "sqlite:///var/newsletter.db")


def settings() -> Settings:
    env = os.environ
    return Settings.from_config({"PUBLIC_URL": env.get("PUBLIC_URL", "http://localhost:8000"),
                                 "MAIL_FROM": env.get("MAIL_FROM", "DSI network <newsletter@localhost>")})


def _in_transaction(work):
    engine = make_engine(database_url())
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            return work(session)
    finally:
        engine.dispose()


def _print(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _at(text: str | None):
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def background_processes() -> list[list[str]]:
    """For `dsi run`: without a configured SMTP server, a local sink keeps every mail under var/mail/."""
    if os.environ.get("SMTP_HOST"):
        return []
    port = os.environ.get("SMTP_PORT", "2525")
    return [[sys.executable, "-m", "services.newsletter.sink", "--port", port, "--dir", "var/mail"]]


def register(commands) -> None:
    newsletter = commands.add_parser("newsletter", help="the newsletter: editions, previews, tests, schedules")
    actions = newsletter.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name, help, handler, *arguments):
        parser = actions.add_parser(name, help=help)
        for args, kwargs in arguments:
            parser.add_argument(*args, **kwargs)
        parser.set_defaults(handler=handler)

    edition_id = (("edition",), {"type": int, "help": "edition id (see `dsi newsletter list`)"})
    action("list", "list editions and their states",
           lambda a: _print(_in_transaction(editions.overview)))
    action("create", "create the draft edition of a month",
           lambda a: _print(_in_transaction(lambda s: editions.view(editions.create(s, a.month)))),
           (("month",), {"help": "YYYY-MM"}))
    action("preview", "print an edition as a reader would get it",
           lambda a: print(_in_transaction(lambda s: editions.preview(
               s, a.edition, a.language, a.area or [], settings().links))["html" if a.html else "text"]),
           edition_id, (("--language",), {"default": "en", "choices": list(LANGUAGES)}),
           (("--area",), {"action": "append", "help": "a social area slug the reader follows (repeatable)"}),
           (("--html",), {"action": "store_true", "help": "print the HTML part instead of the text"}))
    action("edit", "set an edition's subject or intro",
           lambda a: _print(_in_transaction(lambda s: editions.view(editions.change(s, a.edition, {
               k: v for k, v in (("subject", a.subject),
                                 ("intro", open(a.intro_file).read() if a.intro_file else a.intro)) if v is not None
           })))),
           edition_id, (("--subject",), {}), (("--intro",), {}),
           (("--intro-file",), {"help": "read the intro from a text file"}))
    action("test", "send a test copy to an address (sent by the running service)",
           lambda a: _print(_in_transaction(lambda s: editions.send_test(s, a.edition, a.to, a.language,
                                                                          settings().links))),
           edition_id, (("to",), {}), (("--language",), {"default": "en", "choices": list(LANGUAGES)}))
    action("schedule", "schedule an edition (now, or --at)",
           lambda a: _print(_in_transaction(lambda s: editions.view(editions.act(s, a.edition, "schedule",
                                                                                  _at(a.at))))),
           edition_id, (("--at",), {"help": "ISO 8601 time, UTC unless it says otherwise"}))
    for name in ("unschedule", "pause", "resume", "cancel"):
        action(name, f"{name} an edition",
               lambda a, name=name: _print(_in_transaction(lambda s: editions.view(editions.act(s, a.edition, name)))),
               edition_id)
    action("report", "an edition's delivery counts",
           lambda a: _print(_in_transaction(lambda s: editions.report(s, a.edition))), edition_id)
    action("purge", "delete stale unconfirmed sign-ups now",
           lambda a: print(f"purged {_in_transaction(lambda s: subscribers.purge(s, settings().limits))} sign-ups"))
