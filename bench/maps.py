"""Benchmark of the national map page (all 3,321 communes of 2025): its size and first-render time.

    .venv/bin/python bench/maps.py [--store var/geoborder.gpkg] [--indicator density] [--no-browser]

Reports
- the page's HTML size (raw and gzip) — it carries no commune geometry, only tile URLs;
- server time to the first page (cold: store layers read + indicator computed + page built) and warm;
- server time of the first choropleth tiles (cold) and of cached tiles;
- with Debian chromium + chromium-driver: the time a headless browser takes from navigation to
  the map with every choropleth tile drawn (the first render a planner sees), on loopback.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def server_side(store_path: Path, indicator: str) -> dict:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.store.open import open_store
    from geoborder.tiles import render as T

    store = open_store(store_path)
    url = f"/maps/{indicator}?vintage=2025&area=all"
    out = {}
    with TestClient(create_app(store=store)) as c:
        t0 = time.perf_counter()
        r = c.get(url)
        out["page_cold_ms"] = _ms(t0)
        r.raise_for_status()
        out["html_bytes"] = len(r.content)
        out["html_gzip_bytes"] = len(gzip.compress(r.content))
        warm = []
        for _ in range(5):
            t0 = time.perf_counter()
            c.get(url)
            warm.append(_ms(t0))
        out["page_warm_ms"] = statistics.median(warm)
        tiles = [(6, x, y) for x in range(50, 53) for y in range(27, 31)]
        q = f"indicator={indicator}&vintage=2025&area=all"
        t0 = time.perf_counter()
        for z, x, y in tiles:
            c.get(f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{q}").raise_for_status()
        out["tiles_cold_ms_each"] = _ms(t0) / len(tiles)
        t0 = time.perf_counter()
        for z, x, y in tiles:
            c.get(f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png?{q}")
        out["tiles_cached_ms_each"] = _ms(t0) / len(tiles)
        T.clear_cache()
    return out


def browser_side(store_path: Path, indicator: str) -> dict | None:
    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_bin):
        return None
    import uvicorn
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from api.main import create_app
    from geoborder.store.open import open_store

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(store=open_store(store_path)), log_level="warning"))
    th = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.05)
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="bench-chromium-")
    for a in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(driver_bin), options=opts)
    done = (
        "var i = Array.from(document.querySelectorAll('img.leaflet-tile')).filter(e => e.src.indexOf('.png?indicator=') >= 0);"
        "return i.length > 0 && i.every(e => e.complete && e.classList.contains('leaflet-tile-loaded'));"
    )
    out = {}
    try:
        # 1) the first map a fresh server process renders (layers read, indicators computed, tiles drawn)
        # 2) another map on the now warm process (its page and tiles are new, the data is in memory)
        for label, fresh in (("browser_first_render_cold_ms", True), ("browser_first_render_warm_ms", False)):
            url = f"http://127.0.0.1:{port}/maps/{indicator}?vintage=2025&area=all"
            if fresh:
                url += "&k=6"  # a map the server has not rendered yet
            t0 = time.perf_counter()
            d.get(url)
            out[label.replace("first_render", "load_event")] = _ms(t0)  # waits for the first tiles too
            while not d.execute_script(done):
                time.sleep(0.02)
            out[label] = _ms(t0)
    finally:
        d.quit()
        server.should_exit = True
        th.join(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=ROOT / "var" / "geoborder.gpkg")
    ap.add_argument("--indicator", default="density")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    if not args.store.exists():
        sys.exit(f"no store at {args.store}: run `make build` first")
    res = server_side(args.store, args.indicator)
    if not args.no_browser:
        res.update(browser_side(args.store, args.indicator) or {"browser": "chromium not installed"})
    print(f"national map page ({args.indicator}, 2025 units, 3,321 communes)")
    for k, v in res.items():
        print(f"  {k:32s} {v:12,.0f}" if isinstance(v, (int, float)) else f"  {k:32s} {v}")


if __name__ == "__main__":
    main()
