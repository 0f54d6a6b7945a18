"""A tiny SMTP server for tests, written with the standard library only: it accepts (or refuses) mail on
127.0.0.1 and keeps what it received, parsed."""

from __future__ import annotations

import socketserver
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        sink = self.server.sink
        self.reply("220 sink.test ESMTP")
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:
                if line.rstrip(b"\r\n") == b".":
                    sink.received.append(
                        cast(EmailMessage, message_from_bytes(b"".join(data), policy=policy.default))
                    )
                    data = None
                    self.reply("250 2.0.0 queued")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb == b"EHLO":
                self.reply("250-sink.test")
                self.reply("250 8BITMIME")
            elif verb in (b"HELO", b"MAIL", b"RSET", b"NOOP"):
                self.reply("250 OK")
            elif verb == b"RCPT":
                self.reply(sink.rcpt_reply)
            elif verb == b"DATA":
                data = []
                self.reply("354 end data with <CR><LF>.<CR><LF>")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 5.5.2 command not recognised")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    sink: SmtpSink


class SmtpSink:
    """`with SmtpSink() as sink:` listens on sink.port; set `refuse_recipients` to answer RCPT with 550."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.refuse_recipients = False
        self._server = _Server(("127.0.0.1", 0), _Session)
        self._server.sink = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def rcpt_reply(self) -> str:
        return "550 5.1.1 mailbox unavailable" if self.refuse_recipients else "250 OK"

    def __enter__(self) -> SmtpSink:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
