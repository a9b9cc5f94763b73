"""`dsi newsletter …`: editors' and operators' actions, sent over RPC to the running newsletter service (which
applies them, checked, in its own transactions), and the local mail sink that `dsi run` starts when no
SMTP_HOST is configured (mails land as files in var/mail/, or MAIL_SINK_DIR)."""
import json
import sys

from dsi.platform import cluster
from dsi.settings import environment

from dsi.i18n import LANGUAGES


def _call(method: str, *args, timeout: float = 30):
    """newsletter.`method`(*args) over RabbitMQ; its PlatformErrors reach `dsi`'s handler as they are."""
    from nameko.exceptions import UnknownService
    from nameko.standalone.rpc import RpcTimeout

    try:
        with cluster(timeout) as services:
            return getattr(services.newsletter, method)(*args)
    except (UnknownService, RpcTimeout):
        raise SystemExit("dsi newsletter: the newsletter service does not answer; is it running (`dsi run`)?")


def _print(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def background_processes() -> list[list[str]]:
    """For `dsi run`: without a configured SMTP server, a local sink keeps every mail under var/mail/ (or
    MAIL_SINK_DIR)."""
    if environment("SMTP_HOST"):
        return []
    port = environment("SMTP_PORT", "2525")
    directory = environment("MAIL_SINK_DIR", "var/mail")
    return [[sys.executable, "-m", "services.newsletter.sink", "--port", port, "--dir", directory]]


def register(commands) -> None:
    newsletter = commands.add_parser("newsletter", help="the newsletter: editions, previews, tests, schedules")
    actions = newsletter.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name, help, handler, *arguments):
        parser = actions.add_parser(name, help=help)
        for args, kwargs in arguments:
            parser.add_argument(*args, **kwargs)
        parser.set_defaults(handler=handler)

    edition_id = (("edition",), {"type": int, "help": "edition id (see `dsi newsletter list`)"})
    language = (("--language",), {"default": "en", "choices": list(LANGUAGES)})
    action("list", "list editions and their states", lambda a: _print(_call("list_editions")))
    action("create", "create the draft edition of a month",
           lambda a: _print(_call("create_edition", a.month)), (("month",), {"help": "YYYY-MM"}))
    action("preview", "print an edition as a reader would get it",
           lambda a: print(_call("preview_edition", a.edition, a.language, a.area or [])["html" if a.html else "text"]),
           edition_id, language,
           (("--area",), {"action": "append", "help": "a social area slug the reader follows (repeatable)"}),
           (("--html",), {"action": "store_true", "help": "print the HTML part instead of the text"}))
    action("edit", "set an edition's subject or intro",
           lambda a: _print(_call("update_edition", a.edition, {
               k: v for k, v in (("subject", a.subject),
                                 ("intro", open(a.intro_file).read() if a.intro_file else a.intro)) if v is not None
           })),
           edition_id, (("--subject",), {}), (("--intro",), {}),
           (("--intro-file",), {"help": "read the intro from a text file"}))
    action("test", "send a test copy of an edition to an address",
           lambda a: _print(_call("send_test", a.edition, a.to, a.language)), edition_id, (("to",), {}), language)
    action("schedule", "schedule an edition (now, or --at)",
           lambda a: _print(_call("schedule_edition", a.edition, a.at)),
           edition_id, (("--at",), {"help": "ISO 8601 time, UTC unless it says otherwise"}))
    for name in ("unschedule", "pause", "resume", "cancel"):
        action(name, f"{name} an edition",
               lambda a, name=name: _print(_call("edition_action", a.edition, name)), edition_id)
    action("report", "an edition's state and delivery counts",
           lambda a: _print(_call("edition_report", a.edition)), edition_id)
    action("purge", "delete stale unconfirmed sign-ups now",
           lambda a: print(f"purged {_call('purge_signups')} sign-ups"))
