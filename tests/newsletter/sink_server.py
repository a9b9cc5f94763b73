"""The newsletter's mail sink with refusals for tests: run as `python -m tests.newsletter.sink_server`.

Recipients whose local part starts with `bounce` get 550, `busy` always 451, `flaky` 451 on the first try;
for `slow` the sink keeps the message but answers only after two seconds."""
import asyncio
import logging
from collections import Counter
from pathlib import Path

from services.newsletter.sink import FileSink, arguments, serve


class RefusingSink(FileSink):
    def __init__(self, directory):
        super().__init__(directory)
        self.tries = Counter()

    def reply(self, envelope):
        for rcpt in envelope.rcpt_tos:
            local = rcpt.split("@")[0]
            self.tries[rcpt] += 1
            if local.startswith("bounce"):
                return "550 5.1.1 No such mailbox"
            if local.startswith("busy") or (local.startswith("flaky") and self.tries[rcpt] == 1):
                return "451 4.3.0 Try again later"
        return None

    async def handle_DATA(self, server, session, envelope):
        if any(rcpt.startswith("slow") for rcpt in envelope.rcpt_tos):
            await asyncio.sleep(2)
        return await super().handle_DATA(server, session, envelope)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    args = arguments()
    serve(RefusingSink(Path(args.dir)), args.host, args.port)
