"""Logs keep no personal data: e-mail addresses and link tokens are masked in every log record a service makes,
its message and its traceback alike (a validation error quotes the submitted address).

`install()` wraps the logging record factory, so it covers every logger and handler, whatever the logging
configuration (nameko's `LOGGING` in config.yml, pytest's capture); every service calls it when imported.
"""
import logging
import re

URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@", re.IGNORECASE)  # amqp://user:pass@host
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
TOKEN_PARAMETER = re.compile(r"((?:token|session|csrf|password|passwd|secret)[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;)]+",
                             re.IGNORECASE)
SIGNED_TOKEN = re.compile(r"\b[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{4,8}\.[A-Za-z0-9_-]{20,}\b")  # itsdangerous: data.time.mac
MASKED_EMAIL, MASKED_TOKEN, MASKED_PASSWORD = "[email]", "[token]", "[password]"


def redact(text: str) -> str:
    # (each pattern only where it can match: every access line is redacted, and most hold no "@" and one "." or none)
    if "@" in text:
        text = URL_PASSWORD.sub(lambda match: match.group(1) + MASKED_PASSWORD + "@", text)  # before EMAIL: user:pw@
        text = EMAIL.sub(MASKED_EMAIL, text)
    text = TOKEN_PARAMETER.sub(lambda match: match.group(1) + MASKED_TOKEN, text)
    return SIGNED_TOKEN.sub(MASKED_TOKEN, text) if text.count(".") >= 2 else text


_formatter = logging.Formatter()


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: let the handler report it as it would have
        return record
    record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:  # formatters reuse exc_text: the traceback is formatted once, here
        record.exc_text = redact(_formatter.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Mask personal data in every log record from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacting", False):
        return

    def redacting_factory(*args, **kwargs):
        return _redacted(factory(*args, **kwargs))

    redacting_factory.redacting = True
    logging.setLogRecordFactory(redacting_factory)
