"""Talking SMTP: one connection per sending green thread, replies sorted into temporary and permanent
failures, and a pacer that keeps an instance under its send rate. Knows nothing of nameko or the database."""
import re
import select
import smtplib
import socket
import time
from dataclasses import dataclass
from email.utils import parseaddr


class TemporaryFailure(Exception):
    """The server answered 4xx or could not be reached: the mail was not accepted; try again later."""


class PermanentFailure(Exception):
    """The server answered 5xx: the mail will never be accepted for this address."""


class Abandoned(Exception):
    """`before_end` declined: the connection was dropped before the message's final dot; nothing was delivered."""


class Unconfirmed(Exception):
    """The whole message went out but no answer came back: the server may have taken it. Never send it again."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 2525
    timeout: float = 30.0
    username: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = "DSI network <newsletter@localhost>"

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.sender)[1]


def _reply(code: int, text: bytes, step: str) -> None:
    if 200 <= code < 400:
        return
    message = f"{step}: {code} {text.decode('utf-8', 'replace')[:200]}"
    raise PermanentFailure(message) if code >= 500 else TemporaryFailure(message)


_LEADING_DOT = re.compile(rb"(?m)^\.")


class Connection:
    """A lazily opened SMTP connection that delivers one message to one recipient at a time."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.client: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        # Each message leaves in two writes (body, then the final dot: see send); Nagle's algorithm would hold
        # the dot back until the server acknowledges the body, tens of milliseconds with delayed ACKs.
        client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.ehlo()
        if s.starttls:
            client.starttls()
            client.ehlo()
        if s.username:
            client.login(s.username, s.password)
        if not client.has_extn("8bitmime"):  # editions go out as 8bit UTF-8 (RFC 6152)
            client.close()
            raise TemporaryFailure("the SMTP server does not offer 8BITMIME")
        self.client = client
        return client

    def send(self, to: str, message: bytes, before_end=lambda: True) -> None:
        """Deliver `message` (CRLF line ends) to `to`.

        The final dot is what makes the server take the message. `before_end()` runs once the body is with the
        server and room is left for the dot, and the dot follows at once: the last moment at which the mail is
        certainly not delivered. If it returns False, the connection is dropped and the server discards the
        unfinished message. Once the dot is out, a missing answer raises Unconfirmed, never TemporaryFailure."""
        try:
            client = self.client or self._open()
            _reply(*client.mail(self.settings.envelope_sender, ["BODY=8BITMIME"]), "MAIL FROM")
            _reply(*client.rcpt(to), "RCPT TO")
            client.putcmd("data")
            code, text = client.getreply()
            if code != 354:
                _reply(code if code >= 400 else 451, text, "DATA")
            body = _LEADING_DOT.sub(b"..", message)
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            client.send(body)
            if not select.select([], [client.sock], [], self.settings.timeout)[1]:  # the dot must not wait
                raise TimeoutError("the server stopped reading the message")
            if not before_end():
                self.close()
                raise Abandoned()
            client.send(b".\r\n")
            try:
                code, text = client.getreply()
            except (OSError, smtplib.SMTPException) as error:
                self.close()
                raise Unconfirmed(f"no answer after the message: {type(error).__name__}: {error}"[:300]) from None
            _reply(code, text, "end of DATA")
        except (TemporaryFailure, PermanentFailure):
            self._reset()
            raise
        except (OSError, smtplib.SMTPException) as error:  # refused, reset, timed out, disconnected
            self.close()
            raise TemporaryFailure(f"{type(error).__name__}: {error}"[:300]) from None

    def _reset(self) -> None:
        try:
            self.client.rset()
        except Exception:
            self.close()

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            finally:
                self.client = None


class Pacer:
    """Spaces sends so that this process stays under `per_second`; shared by its sending green threads."""

    def __init__(self, per_second: float):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_slot = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(self.next_slot, now - self.interval)  # at most one send of burst after a pause
        self.next_slot = slot + self.interval
        if slot > now:
            time.sleep(slot - now)
