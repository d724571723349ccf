"""Hostile requests against a real server: uvicorn started by the test (in a thread, on a free
loopback port) with the protocol and options of `geoborder run` (api/server.py), real sockets.

Idle and trickling connections, a URL too long, HEAD, bad Accept, unknown parameters, uploads
too large or with a bad key refused before their body is read (the body never arrives), and
nothing written to the indicator database on a refusal.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

HEADER_TIMEOUT = 1.0
MAX_URL = 32 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(real_store, tmp_path_factory):
    import uvicorn

    from api.main import create_app
    from api.server import GuardedHttpToolsProtocol
    from geoborder.indicators.db import IndicatorDB

    class Protocol(GuardedHttpToolsProtocol):
        header_timeout = HEADER_TIMEOUT
        max_url_bytes = MAX_URL

    db = IndicatorDB(tmp_path_factory.mktemp("reliability") / "indicators.sqlite")
    key = db.add_key("reliability")
    port = _free_port()
    config = uvicorn.Config(
        create_app(store=real_store, indicators=db),
        host="127.0.0.1",
        port=port,
        http=Protocol,
        loop="asyncio",
        timeout_keep_alive=1,
        limit_concurrency=1000,
        log_level="warning",
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield {"port": port, "db": db, "key": key}
    srv.should_exit = True
    thread.join(timeout=30)


def _get(port: int, path: str, method: str = "GET", headers: dict | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, headers=headers or {})
    return conn.getresponse()


def _closed_by_server(sock: socket.socket, within: float = 30.0) -> bool:
    """The server closed `sock` (EOF or reset) before `within` seconds passed (what it still
    sends before, the rest of an answer, is read and dropped)."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _raw(port: int, data: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes, read the whole answer (the server closes the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


# --------------------------------------------------------------------------- slow clients


def test_200_idle_connections_while_real_requests_succeed_then_closed(server):
    port = server["port"]
    idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(200)]
    try:
        for path in ("/health", "/queries/touching?unit=LAO&within=14", "/collections/communes_2025/items?limit=5"):
            r = _get(port, path)
            assert r.status == 200, (path, r.status)
            r.read()
        # every idle connection is closed by the header time-out, none is left open
        assert all(_closed_by_server(s) for s in idle)
    finally:
        for s in idle:
            s.close()


def test_trickling_headers_are_cut_off(server):
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        closed = False
        while time.monotonic() - start < 30:  # one header byte every 0.1 s, never the end of the headers
            try:
                s.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            s.settimeout(0.1)
            try:
                if s.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed = True
                break
        assert closed


def test_keep_alive_connection_is_closed_after_its_timeout(server):
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        got = s.recv(65536)
        assert got.startswith(b"HTTP/1.1 200")
        assert _closed_by_server(s)


# --------------------------------------------------------------------------- hostile URLs and headers


@pytest.mark.parametrize("size", [MAX_URL + 100, 70_000, 200_000])
def test_too_long_url_is_414_with_an_ogc_body(server, size):
    status, headers, body = _raw(server["port"], b"GET /collections?f=" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414 and headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == "URITooLong"


def test_garbage_request_is_400_with_an_ogc_body(server):
    status, headers, body = _raw(server["port"], b"GET / HTTP/1.1\r\nHost x\r\n\r\n")
    assert status == 400 and json.loads(body)["code"] == "BadRequest"


def test_head_over_a_socket_has_headers_and_no_body(server):
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=10) as s:
        s.sendall(b"HEAD /collections HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 200") < 2 or not data.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head_answer, _, rest = data.partition(b"\r\n\r\n")
    assert head_answer.startswith(b"HTTP/1.1 200") and b"content-length: " in head_answer.lower()
    assert rest.startswith(b"HTTP/1.1 200")  # the HEAD sent no body: the next answer follows at once


def test_bad_accept_and_unknown_parameters_on_a_real_server(server):
    r = _get(server["port"], "/collections", headers={"Accept": "text/html;q=nonsense, */*;;"})
    assert r.status == 200 and r.getheader("content-type").startswith("application/json")
    r.read()
    r = _get(server["port"], "/queries/border-zone?distance=3")
    assert r.status == 400 and "distance_km" in json.loads(r.read())["description"]


# --------------------------------------------------------------------------- uploads refused before the body


def _upload_headers_only(port: int, headers: dict) -> tuple[int, dict]:
    """POST the upload's headers and no body: the answer must come while the body never arrives."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.putrequest("POST", "/indicators/imports")
    for k, v in {"Content-Type": "multipart/form-data; boundary=b", **headers}.items():
        conn.putheader(k, v)
    conn.endheaders()
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    return r.status, {"code": body["code"], "connection": r.getheader("connection")}


@pytest.mark.parametrize(
    "headers, status, code",
    [
        ({"Content-Length": str(200 * 1024 * 1024), "X-API-Key": "KEY"}, 413, "PayloadTooLarge"),
        ({"Content-Length": "5000", "X-API-Key": "not-a-key"}, 403, "Forbidden"),
        ({"Content-Length": "5000"}, 401, "Unauthorized"),
        ({"Content-Length": str(200 * 1024 * 1024), "Authorization": "Bearer not-a-key"}, 413, "PayloadTooLarge"),
    ],
)
def test_upload_refused_by_its_headers_before_the_body(server, headers, status, code):
    headers = {k: (server["key"] if v == "KEY" else v) for k, v in headers.items()}
    got_status, got = _upload_headers_only(server["port"], headers)
    assert (got_status, got["code"]) == (status, code)
    assert got["connection"] == "close"
    assert server["db"].imports() == []


def test_chunked_upload_stops_being_read_at_the_limit(server):
    """No Content-Length: the body is counted as it arrives and reading stops past 20 MB."""
    boundary = b"b"
    head = (
        b"POST /indicators/imports HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\nX-API-Key: " + server["key"].encode() + b"\r\n\r\n"
    )
    part = b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
    chunk = b"x" * 65536
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=30) as s:
        s.sendall(head + b"%x\r\n%s\r\n" % (len(part), part))
        s.settimeout(0)
        try:
            while sent < 200 * 1024 * 1024:
                s.settimeout(5)
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                s.settimeout(0)
                try:
                    answer += s.recv(65536)
                    if answer:
                        break
                except BlockingIOError:
                    pass
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        s.settimeout(10)
        try:
            while b"\r\n\r\n" not in answer and (more := s.recv(65536)):
                answer += more
        except (ConnectionResetError, TimeoutError):
            pass
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 100 * 1024 * 1024  # refused at ~20 MB (plus the socket buffers), not after 200 MB
    assert server["db"].imports() == []
