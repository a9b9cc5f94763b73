"""A local SMTP server that accepts every mail and keeps it as a file, so that on a laptop (and in tests)
the platform's emails can be read: `python -m services.newsletter.sink --port 2525 --dir var/mail`.

Each message is written to `<dir>/<time>-<id>.eml`, with the envelope in `X-Sink-Mail-From` and
`X-Sink-Rcpt-To` headers on top; a file appears complete or not at all (written aside, then renamed)."""
import argparse
import asyncio
import logging
import os
import signal
import time
import uuid
from pathlib import Path

from aiosmtpd.smtp import SMTP

log = logging.getLogger("mail-sink")


class FileSink:
    """aiosmtpd handler storing every accepted message under `directory`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def reply(self, envelope) -> str | None:
        """The reply instead of accepting; None accepts. Subclasses (tests) refuse some addresses."""
        return None

    async def handle_DATA(self, server, session, envelope):
        refusal = self.reply(envelope)
        if refusal:
            return refusal
        envelope_lines = [f"X-Sink-Mail-From: {envelope.mail_from}"]
        envelope_lines += [f"X-Sink-Rcpt-To: {rcpt}" for rcpt in envelope.rcpt_tos]
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / f".{name}"
        with open(partial, "wb") as file:
            file.write(("\r\n".join(envelope_lines) + "\r\n").encode())
            file.write(envelope.original_content)
        os.replace(partial, self.directory / name)
        return "250 Message accepted for delivery"


class Session(SMTP):
    """aiosmtpd's SMTP session, except that a client hanging up does not discard what it sent before.

    aiosmtpd cancels the session as soon as the client's end of the stream arrives, even when a whole
    message (body and final dot) is still waiting in the buffer. A real MTA takes responsibility for a message
    once its final dot arrives, reply read or not (RFC 5321 4.1.1.4; the duplicate problem of RFC 1047), and
    the newsletter never resends such a message: the sink must keep it, as Postfix would."""

    def eof_received(self):
        self._reader.feed_eof()  # the session reads what is buffered, then meets the end of the stream
        return True  # keep our side open until then

    async def handle_exception(self, error):
        if isinstance(error, asyncio.IncompleteReadError):  # the client is gone; an unfinished message is dropped
            self.transport.close()
            return "421 4.4.2 Connection closed"
        return await super().handle_exception(error)


def serve(handler, host: str, port: int) -> None:
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        lambda: Session(handler, hostname="dsi-mail-sink", data_size_limit=10 * 1024 * 1024), host, port))
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, loop.stop)
    log.info("mail sink listening on %s:%s", host, port)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", default="var/mail", help="where to keep the messages (default var/mail)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s mail-sink %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
    args = arguments()
    serve(FileSink(Path(args.dir)), args.host, args.port)
