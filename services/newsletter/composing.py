"""Turning templates into mail: jinja2 renders subject, plain text and HTML; the email package builds the
message. Editions are built once per variant and copied per recipient (see MessageTemplate)."""
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, TemplateNotFound, pass_context, select_autoescape

from dsi import i18n
from dsi.errors import InvalidInput

TEMPLATES = Path(__file__).resolve().parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)


def _lang(context) -> str:
    return i18n.language(context.get("language"))


# Mails translate with `{{ _("Text") }}` from the interface's catalogues, in the context's `language`.
environment.install_gettext_callables(
    pass_context(lambda context, message: i18n.gettext(_lang(context), message)),
    pass_context(lambda context, singular, plural, n: i18n.ngettext(_lang(context), singular, plural, n)),
    newstyle=True)
environment.filters["tr"] = pass_context(lambda context, label: i18n.gettext(_lang(context), label) if label else label)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(name: str, context: dict) -> Rendered:
    """`name`.txt (whose `subject` block is the subject) and `name`.html, rendered with `context`."""
    try:
        text = environment.get_template(f"{name}.txt")
        html = environment.get_template(f"{name}.html")
    except TemplateNotFound:
        raise InvalidInput(f"There is no mail template {name!r}.", {"template": "unknown template"})
    subject = "".join(text.blocks["subject"](text.new_context(context)))
    return Rendered(" ".join(subject.split())[:300], text.render(context), html.render(context))


def _domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def message_bytes(rendered: Rendered, sender: str, to: str, headers: dict | None = None) -> bytes:
    """A complete multipart/alternative message (7bit-safe encodings)."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message.as_bytes()


# Stand-ins for a recipient's own values: rendered into an edition's variant, replaced in each copy.
_MARK = uuid.uuid4().hex
PERSONAL = {name: f"x{_MARK}{name}x" for name in ("to", "message_id", "unsubscribe_url", "preferences_url")}


class MessageTemplate:
    """One rendered variant of an edition as bytes, rendered with PERSONAL stand-ins; each recipient's copy
    swaps in their address, message id and links. The parts are 8bit UTF-8, so a copy needs no re-encoding:
    building a message with the email package costs milliseconds, a copy microseconds."""

    def __init__(self, rendered: Rendered, sender: str, headers: dict):
        self.domain = _domain(sender)
        message = EmailMessage(policy=SMTP)
        message["Subject"] = rendered.subject
        message["From"] = sender
        message["To"] = PERSONAL["to"]
        message["Date"] = formatdate()
        message["Message-ID"] = f"<{PERSONAL['message_id']}@{self.domain}>"
        for name, value in headers.items():
            message[name] = value
        message.set_content(rendered.text, cte="8bit")
        message.add_alternative(rendered.html, subtype="html", cte="8bit")
        self.body = message.as_bytes()

    def fill(self, **values: str) -> bytes:
        """The copy for one recipient: `values` for every name in PERSONAL."""
        body = self.body
        for name, marker in PERSONAL.items():
            body = body.replace(marker.encode(), values[name].encode())
        return body
