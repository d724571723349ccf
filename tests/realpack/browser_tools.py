"""What the browser tests of tests/realpack share besides their fixtures (conftest.py): where the
screenshots go, the app served on loopback, the network log of the page, and waiting for a script's answer."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

OUT = Path(__file__).resolve().parents[2] / "test-output"


@contextmanager
def serve(app) -> Iterator[str]:
    """`app` served by uvicorn in a thread on 127.0.0.1:<a free port>, with its lifespan: its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the test server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _network(driver) -> tuple[dict[str, int], list[str]]:
    """(url -> HTTP status of every response, every URL requested) since the last call."""
    status, requested = {}, []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            requested.append(msg["params"]["request"]["url"])
        elif msg["method"] == "Network.responseReceived":
            status[msg["params"]["response"]["url"]] = msg["params"]["response"]["status"]
    return status, requested


def _internet(urls: list[str], live_url: str) -> list[str]:
    """The requests that left this machine's test server (chrome:// and data: are the browser's own)."""
    return [
        u for u in urls if u.split(":", 1)[0] in ("http", "https", "ws", "wss") and not u.startswith(live_url + "/")
    ]


def _wait(driver, script: str, timeout: float = 45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = driver.execute_script(script)
        if v:
            return v
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for: {script}")


TILES_DONE = """
  var imgs = Array.from(document.querySelectorAll('img.leaflet-tile'))
    .filter(function (i) { return i.src.indexOf('.png?indicator=') >= 0; });
  return imgs.length > 0 && imgs.every(function (i) { return i.complete && i.classList.contains('leaflet-tile-loaded'); })
    ? imgs.length : 0;
"""
