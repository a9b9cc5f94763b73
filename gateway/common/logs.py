"""What the gateway's logs must not keep."""
import logging
import re


class HideTokens(logging.Filter):
    """The web server's access log names every request's URL, and a mailed link's token is a secret (it
    confirms, unsubscribes or opens someone's data): the log keeps `token=…` only."""

    TOKEN = re.compile(r"(token=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = self.TOKEN.sub(r"\1…", record.msg)
        return True


def hide_tokens() -> None:
    """Installed once, when the gateway service is imported: the logger nameko hands eventlet's server."""
    logger = logging.getLogger("nameko.web.server")
    if not any(isinstance(each, HideTokens) for each in logger.filters):
        logger.addFilter(HideTokens())
