"""A mail server that takes every message and keeps none: the pipeline bench's SMTP server, so
the bulk worker sends its e-mails as in production (a connection, EHLO, MAIL, RCPT, DATA,
QUIT through Django's SMTP backend) and not into a refused connection and its retries.

    python bench/smtp_sink.py PORT TALLY_FILE

Each message taken appends one byte to TALLY_FILE: its size is the number of messages.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tally) -> None:
    writer.write(b"220 bench sink ESMTP\r\n")
    in_data = False
    while line := await reader.readline():
        if in_data:
            # smtplib doubles a leading dot, so a lone dot ends the message.
            if line.rstrip(b"\r\n") == b".":
                in_data = False
                tally.write(b".")
                tally.flush()
                writer.write(b"250 2.0.0 taken\r\n")
            continue
        verb = line[:4].upper()
        if verb == b"EHLO":
            writer.write(b"250-bench sink\r\n250 8BITMIME\r\n")
        elif verb == b"DATA":
            in_data = True
            writer.write(b"354 end with <CRLF>.<CRLF>\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 2.0.0 bye\r\n")
            await writer.drain()
            break
        else:  # HELO, MAIL, RCPT, RSET, NOOP: all taken
            writer.write(b"250 2.0.0 ok\r\n")
        await writer.drain()
    writer.close()


async def serve(port: int, tally_path: Path) -> None:
    with tally_path.open("ab") as tally:
        server = await asyncio.start_server(lambda r, w: _session(r, w, tally), "127.0.0.1", port)
        async with server:
            await server.serve_forever()


def messages_taken(tally_path: Path) -> int:
    return tally_path.stat().st_size if tally_path.exists() else 0


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), Path(sys.argv[2])))
