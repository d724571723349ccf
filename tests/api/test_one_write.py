"""api/server.py `OneWriteCycle` (issue 18): the status line and headers of an answer go out in
the same write as its first body bytes; the bytes on the wire are uvicorn's own."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from api.server import GuardedHttpToolsProtocol, OneWriteCycle


class Recording:
    """A transport that records each write call (a writelines is one call: one writev)."""

    def __init__(self):
        self.calls: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.calls.append(bytes(data))

    def writelines(self, chunks) -> None:
        self.calls.append(b"".join(chunks))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name, default=None):
        return default

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def _wire(messages: list[dict], *, method: str = "GET", keep_alive: bool = True, cls=OneWriteCycle):
    """What one cycle of class `cls` writes for `messages`: (write calls, closed)."""
    transport = Recording()
    cycle = RequestResponseCycle(
        scope={"type": "http", "method": method, "path": "/", "http_version": "1.1", "headers": []},
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=False,
        default_headers=[(b"server", b"test")],
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: None,
    )
    cycle.__class__ = cls

    async def run():
        for m in messages:
            await cycle.send(m)

    asyncio.run(run())
    return transport.calls, transport.closed


def _start(length: int | None) -> dict:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http.response.start", "status": 200, "headers": headers}


BODY = b'{"type": "FeatureCollection"}'
CASES = {
    "one message": [_start(len(BODY)), {"type": "http.response.body", "body": BODY}],
    "streamed": [
        _start(None),
        {"type": "http.response.body", "body": BODY[:10], "more_body": True},
        {"type": "http.response.body", "body": BODY[10:], "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ],
    "empty body": [_start(0), {"type": "http.response.body", "body": b""}],
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("keep_alive", [True, False])
def test_the_same_bytes_as_uvicorn_in_fewer_writes(name, method, keep_alive):
    mine, mine_closed = _wire(CASES[name], method=method, keep_alive=keep_alive)
    theirs, theirs_closed = _wire(CASES[name], method=method, keep_alive=keep_alive, cls=RequestResponseCycle)
    assert b"".join(mine) == b"".join(theirs) and mine_closed == theirs_closed
    assert b"".join(mine).startswith(b"HTTP/1.1 200 OK\r\n")
    if method == "HEAD":
        assert len(mine) == len(theirs) == 1  # the headers alone, still written
    elif name == "streamed":
        assert len(mine) == len(theirs) - 1  # the headers ride with the first chunk
    else:
        assert len(mine) == 1 < len(theirs)  # status line, headers and body in one write


def test_answers_over_a_real_socket_keep_alive_and_pipelined(real_store, tmp_path):
    """With the protocol of `geoborder run`: three pipelined requests on one connection, each
    answer complete and in order."""
    import uvicorn

    from api.main import create_app
    from geoborder.indicators.open import open_indicators

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(store=real_store, indicators=open_indicators(tmp_path / "ind.sqlite")),
        host="127.0.0.1",
        port=port,
        http=GuardedHttpToolsProtocol,
        loop="asyncio",
        log_level="warning",
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        paths = ["/conformance", "/collections/communes_2025/items?limit=2", "/health"]
        request = b"".join(f"GET {p} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n".encode() for p in paths)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            c.sendall(request + b"HEAD /conformance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := c.recv(65536):
                data += chunk
        answers = []
        while data:
            head, _, rest = data.partition(b"\r\n\r\n")
            headers = dict(
                line.lower().split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line
            )
            n = 0 if len(answers) == 3 else int(headers["content-length"])
            answers.append((head.split(b"\r\n")[0], headers, rest[:n]))
            data = rest[n:]
        assert [a[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 4
        assert b"conformsTo" in answers[0][2] and b'"FeatureCollection"' in answers[1][2]
        assert b'"status"' in answers[2][2]
        assert answers[3][1]["content-length"] == answers[0][1]["content-length"]  # HEAD: the GET's headers
    finally:
        srv.should_exit = True
        thread.join(timeout=30)


def test_the_protocol_reads_the_settings_once_per_process(monkeypatch):
    """A protocol is made for every connection: the limits come from the settings read once
    (api/server.py `_limits`), with the values of GEOBORDER_HEADER_TIMEOUT / _MAX_URL_BYTES."""
    from api import server

    made = []

    class Counting(server.ApiSettings):
        def __init__(self, **kw):
            made.append(1)
            super().__init__(**kw)

    monkeypatch.setenv("GEOBORDER_HEADER_TIMEOUT", "7.5")
    monkeypatch.setenv("GEOBORDER_MAX_URL_BYTES", "4096")
    monkeypatch.setattr(server, "ApiSettings", Counting)
    server._limits.cache_clear()
    try:
        assert server._limits() == (7.5, 4096)
        assert server._limits() == (7.5, 4096)
        assert len(made) == 1
    finally:
        server._limits.cache_clear()
