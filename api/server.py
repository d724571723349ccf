"""The HTTP server's own answers (before any ASGI code runs): uvicorn's httptools protocol with
a request-header deadline, a URL length limit answered 414, and OGC exception bodies instead of
uvicorn's plain-text 400.

`geoborder run` serves with `api.server:GuardedHttpToolsProtocol` (`http=` of uvicorn). What
uvicorn alone does not do, and this adds:
- a connection that sends nothing, or trickles its request line and headers, is closed after
  `header_timeout` seconds (uvicorn's `timeout_keep_alive` only runs after a full request);
- a URL longer than `max_url_bytes` gets 414 with a JSON body (httptools' own limit, about
  64 kB of request line and headers, answers a plain-text 400);
- a request the parser refuses gets 400 with a JSON body;
- an answer's status line and headers go out with its first body bytes, in one write
  (`OneWriteCycle`): an answer of one body message, which is nearly every answer, costs one
  system call and wakes the client once, instead of twice.
The limits are ApiSettings (GEOBORDER_HEADER_TIMEOUT, GEOBORDER_MAX_URL_BYTES); a subclass may set
them as class attributes (the tests do).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Sequence
from typing import cast

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from geoborder.core.settings import ApiSettings


def error_bytes(status: int, code: str, description: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> bytes:
    """A whole HTTP/1.1 answer with an OGC exception body, closing the connection."""
    body = json.dumps({"code": code, "description": description}).encode()
    out = [STATUS_LINE[status]]
    for name, value in headers:
        out.extend([name, b": ", value, b"\r\n"])
    out.extend(
        [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )
    return b"".join(out)


@functools.cache
def _limits() -> tuple[float, int]:
    """The settings' header deadline and URL limit, read once per server process: a protocol is
    made for every connection, and reading the settings costs about half a millisecond."""
    settings = ApiSettings()
    return settings.header_timeout, settings.max_url_bytes


class _Held:
    """A transport that keeps what is written (and a close) until `flush`; the rest is the real one's."""

    __slots__ = ("real", "chunks", "closed")

    def __init__(self, real, chunks: list[bytes] | None = None):
        self.real = real
        self.chunks = chunks if chunks is not None else []
        self.closed = False

    def write(self, data: bytes) -> None:
        if data:
            self.chunks.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed or self.real.is_closing()

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def flush(self) -> None:
        if self.chunks:
            self.real.writelines(self.chunks)  # uvloop: one writev
        if self.closed:
            self.real.close()


class OneWriteCycle(RequestResponseCycle):
    """uvicorn's request-response cycle, writing the status line and headers together with the
    first body message (uvicorn writes them apart: two system calls for a one-message answer).
    Everything else is uvicorn's own `send`: the bytes on the wire are the same."""

    _held: list[bytes] | None = None

    async def send(self, message) -> None:
        if message["type"] == "http.response.start" and not self.response_started:
            real, held = self.transport, _Held(self.transport)
            self.transport = cast(asyncio.Transport, held)
            try:
                await super().send(message)
            finally:
                self.transport = real
            if held.closed:  # not expected from a start message: write what there is
                held.flush()
            else:
                self._held = held.chunks
            return
        chunks, self._held = self._held, None
        if chunks is None:
            await super().send(message)
            return
        real, held = self.transport, _Held(self.transport, chunks)
        self.transport = cast(asyncio.Transport, held)
        try:
            await super().send(message)
        finally:
            self.transport = real
            held.flush()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout: float | None = None  # seconds from connection (or request start) to the end of the headers
    max_url_bytes: int | None = None
    LINGER_SECONDS = 2.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cls = type(self)
        if cls.header_timeout is None or cls.max_url_bytes is None:
            header_timeout, max_url_bytes = _limits()
            self.header_timeout = cls.header_timeout if cls.header_timeout is not None else header_timeout
            self.max_url_bytes = cls.max_url_bytes if cls.max_url_bytes is not None else max_url_bytes
        self._header_deadline: asyncio.TimerHandle | None = None
        self._refusal: tuple[int, str, str] | None = None
        self._refusing = False

    # ----------------------------------------------------------------- the header deadline

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None and self.header_timeout:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._header_deadline_passed)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        # only a connection with no request running: a slow answer is not the client's fault
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_deadline()  # a connection that never sends a request is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and type(cycle) is RequestResponseCycle:
            # before its task first runs (it takes `cycle.send` then): the one-write cycle
            cycle.__class__ = OneWriteCycle

    # ----------------------------------------------------------------- limits and parser errors

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if self.max_url_bytes and len(self.url) > self.max_url_bytes:
            self._refusal = (
                414,
                "URITooLong",
                f"the URL is longer than {self.max_url_bytes} bytes; send a long filter as CQL2-JSON "
                "in the body of a POST, or split the request",
            )
            raise ValueError("URL too long")  # stops the parser: data_received answers through send_400_response

    def send_400_response(self, msg: str) -> None:
        refusal, self._refusal = self._refusal, None
        self._refuse(*(refusal or (400, "BadRequest", f"the request is not valid HTTP/1.1 ({msg.rstrip('.')})")))

    def data_received(self, data: bytes) -> None:
        if self._refusing:
            return  # the rest of a refused request is read and dropped
        super().data_received(data)

    def _refuse(self, status: int, code: str, description: str) -> None:
        """Answer and close, lingering: closing at once with unread request bytes would make the
        kernel reset the connection, and the client would lose the answer."""
        self._disarm_header_deadline()
        self._refusing = True
        self.logger.warning("%s: %s", status, description)
        if self.transport.is_closing():
            return
        self.transport.write(error_bytes(status, code, description, self.server_state.default_headers))
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the answer is complete; the client closes, or the timer below
            self.loop.call_later(self.LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()
