"""Transactional mail: every request is rendered and stored before it is acknowledged, then sent from the
`mails` table by the delivery loop. Nothing here logs a recipient's links: they are secrets."""
import logging

from pydantic import ValidationError
from sqlalchemy import select

from dsi.errors import InvalidInput

from . import composing, delivery
from .models import Mail
from .schemas import MailRequest

log = logging.getLogger(__name__)


def enqueue(session, request_id: str, template: str, to: str, language: str, context: dict) -> Mail | None:
    """Store a mail to send; a request id seen before adds nothing. Unknown templates are stored as failed."""
    if session.scalar(select(Mail.id).where(Mail.request_id == request_id)) is not None:
        return None
    try:
        rendered = composing.render(f"mail/{template}", {**context, "language": language})
    except InvalidInput as error:
        log.error("mail request %s names no known template (%s); recorded as failed", request_id, template)
        return store(session, request_id, template, to, composing.Rendered("", "", ""), error.message)
    return store(session, request_id, template, to, rendered)


def store(session, request_id: str, template: str, to: str, rendered: composing.Rendered,
          error: str | None = None) -> Mail:
    mail = Mail(request_id=request_id, template=template, to=to, subject=rendered.subject, text=rendered.text,
                html=rendered.html, state=delivery.FAILED if error else delivery.QUEUED, last_error=error)
    session.add(mail)
    session.flush()
    return mail


def on_requested(session, event: dict) -> None:
    """A `mail_requested` event from another service."""
    try:
        request = MailRequest.model_validate(event.get("payload"))
    except ValidationError as error:  # retrying cannot fix it: say which fields, never the values
        fields = sorted({".".join(map(str, item["loc"])) for item in error.errors()})
        log.error("mail request %s from %s is malformed (%s); dropped", event.get("id"), event.get("producer"),
                  ", ".join(fields))
        return
    enqueue(session, event["id"], request.template, request.to, request.language, request.context)


def prepare(sender: str):
    """The delivery loop's `prepare` for the mails table."""
    def build(session, claimed) -> list[delivery.Job]:
        rows = {mail.id: mail for mail in session.scalars(select(Mail).where(Mail.id.in_([i for i, _ in claimed])))}
        jobs = []
        for mail_id, attempts in claimed:
            mail = rows[mail_id]
            rendered = composing.Rendered(mail.subject, mail.text, mail.html)
            jobs.append(delivery.Job(mail_id, attempts, mail.to, composing.message_bytes(rendered, sender, mail.to)))
        return jobs

    return build
