#!/usr/bin/env python3
"""First and repeated latency of every public GET endpoint group, on a freshly started server.

Starts one worker of the service (the server of `geoborder run`: uvicorn with httptools' guarded
protocol and uvloop, `geoborder.cli.main._serve`) on a copy of the built store and indicator
database, in a subprocess, on a free loopback port. Waits until /health answers (start-up) and,
unless --no-wait-warm, until it says "warm": true (the background warm-up, geoborder/warmup.py).
Then, for each endpoint, one first request and --repeat repeats, one client on one keep-alive
connection, gzip accepted like a browser, the whole body read. Goals beside each: first request
<= 1 s, repeated p95 <= 100 ms; whole-layer downloads are measured as throughput (MB/s) instead.
The worker's RSS (/proc/<pid>/status VmRSS, and the peak VmHWM) is read after the run.

    .venv/bin/python bench/latency.py --markdown              # writes bench/results/latency-<date>.json
    .venv/bin/python bench/latency.py --repeat 5 --only queries
    .venv/bin/python bench/latency.py --warmup 0              # what a cold worker's first requests cost
    .venv/bin/python bench/latency.py --no-wait-warm          # first requests while the warm-up runs

Only loopback addresses are used; the server is stopped by its process group.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

FIRST_GOAL_S = 1.0
REPEAT_P95_GOAL_S = 0.100


@dataclass(frozen=True)
class Case:
    group: str
    label: str
    path: str
    download: bool = False  # a whole-layer download: throughput, not latency
    accept: str = "*/*"


def _q(path: str, **params) -> str:
    return f"{path}?{urlencode(params, quote_via=quote)}" if params else path


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def samples(store: Path) -> dict:
    """Codes to ask about, read from the store copy (no request to the server)."""
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:

        def one(sql: str, default: str) -> str:
            try:
                row = con.execute(sql).fetchone()
            except sqlite3.Error:
                return default
            return str(row[0]) if row and row[0] is not None else default

        return {
            "commune_2025": one("SELECT commune_code FROM border_communes_2025 ORDER BY commune_code LIMIT 1", "04045"),
            "commune_2009": one(
                "SELECT commune_code FROM border_communes_2009 ORDER BY commune_code LIMIT 1", "3031939"
            ),
            "n_2025": int(one("SELECT count(*) FROM communes_2025", "3321")),
            "n_2009": int(one("SELECT count(*) FROM communes_2009", "11163")),
            "gate": one("SELECT gate_id FROM gates ORDER BY gate_id LIMIT 1", "1"),
        }
    finally:
        con.close()


def cases(s: dict) -> list[Case]:
    """Every public GET endpoint group, with the parameters a planner's first visit uses."""
    c2025, c2009 = s["commune_2025"], s["commune_2009"]
    lon, lat = 103.9, 21.3  # Sơn La
    geo = "application/geo+json"
    out = [
        Case("service", "landing page", "/"),
        Case("service", "health", "/health"),
        Case("service", "layers", "/layers"),
        Case("service", "OpenAPI document", "/api"),
        Case("service", "conformance", "/conformance"),
        Case("service", "collections", "/collections"),
        Case("service", "one collection", "/collections/communes_2025"),
        Case("maps", "map picker", "/maps"),
        Case("maps", "map page 2025 national (border)", "/maps/density"),
        Case("maps", "map page 2009 national (border)", _q("/maps/density", vintage=2009)),
        Case("maps", "map page 2025 province Sơn La", _q("/maps/density", area="14")),
        Case("maps", "map page 2009 province Sơn La", _q("/maps/density", vintage=2009, area="303")),
        Case("maps", "map table (page search)", _q("/maps/table.json", indicator="density")),
        # two maps side by side (issue 15): the 2009 and the 2025 units (no second year of real data)
        Case("maps", "compare page density Sơn La 303 | 14", _q("/maps/density/compare", area="14")),
        Case("maps", "compare page population Sơn La 303 | 14", _q("/maps/population/compare", area="14")),
        Case("maps", "compare page density national (border)", "/maps/density/compare"),
        Case("maps", "compare page density whole country", _q("/maps/density/compare", area="all")),
    ]
    for vintage in (2025, 2009):
        for method in ("quantiles", "natural_breaks", "equal_interval"):
            out.append(
                Case(
                    "legends",
                    f"legend {method} {vintage}",
                    _q("/maps/legend", indicator="density", classes=method, vintage=vintage),
                )
            )
    out += [
        Case("lookups", "lookup 2025", _q("/maps/lookup", indicator="density", lon=lon, lat=lat)),
        Case("lookups", "lookup 2009", _q("/maps/lookup", indicator="density", vintage=2009, lon=lon, lat=lat)),
    ]
    for label, z, query in (
        ("choropleth PNG z6 2025", 6, {"indicator": "density"}),
        ("choropleth PNG z6 2009", 6, {"indicator": "density", "vintage": 2009}),
        ("choropleth PNG z9 Sơn La", 9, {"indicator": "density", "area": "14"}),
    ):
        x, y = tile_xy(lon, lat, z)
        out.append(Case("tiles", label, _q(f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png", **query)))
    for layer, z in (("communes_2025", 8), ("communes_2009", 8), ("roads", 8), ("border_lines", 6)):
        x, y = tile_xy(lon, lat, z)
        out.append(Case("tiles", f"MVT {layer} z{z}", f"/collections/{layer}/tiles/WebMercatorQuad/{z}/{x}/{y}"))
    for layer, z in (("roads", 9), ("places", 8)):
        x, y = tile_xy(lon, lat, z)
        out.append(
            Case("tiles", f"map tile {layer} z{z}", f"/collections/{layer}/map/tiles/WebMercatorQuad/{z}/{x}/{y}.png")
        )
    out += [
        Case("queries", "touching Houaphanh within Sơn La", _q("/queries/touching", unit="Houaphanh", within="14")),
        Case("queries", "touching Lào Cai (VN province)", _q("/queries/touching", unit="Lào Cai")),
        Case("queries", "touching LAO 2009", _q("/queries/touching", unit="LAO", vintage=2009)),
        Case("queries", "roadless villages (defaults)", "/queries/roadless-villages"),
        Case(
            "queries", "roadless towns <=10 km of border", _q("/queries/roadless-villages", layer="towns", border_km=10)
        ),
        Case("queries", "roadless by commune (defaults)", "/queries/roadless-villages/by-commune"),
        Case("queries", "nearest gates from a point", _q("/queries/nearest-gates", lon=lon, lat=lat)),
        Case("queries", "nearest gates from a commune", _q("/queries/nearest-gates", commune=c2025, k=5)),
        Case("queries", "border zone 10 km (defaults)", "/queries/border-zone"),
        Case("queries", "border zone 5 km facing Laos", _q("/queries/border-zone", distance_km=5, partner="LAO")),
        Case("queries", f"commune profile {c2025}", _q("/queries/commune-profile", code=c2025)),
        Case("queries", f"commune profile {c2009} (2009)", _q("/queries/commune-profile", code=c2009)),
        Case("indicators", "indicator catalog", "/indicators"),
        Case("indicators", "indicator links", "/indicators/links"),
        Case("indicators", "density values", "/indicators/density/values"),
        Case("indicators", "imports", "/indicators/imports"),
        Case("items", "communes_2025 limit=100", _q("/collections/communes_2025/items", limit=100), accept=geo),
        Case(
            "items",
            "communes_2025 bbox limit=100",
            _q("/collections/communes_2025/items", limit=100, bbox="103.5,21,104.5,22"),
            accept=geo,
        ),
        Case("items", "communes_2025 one feature", f"/collections/communes_2025/items/{c2025}", accept=geo),
        Case(
            "items",
            "communes_2025 offset=2656",
            _q("/collections/communes_2025/items", limit=100, offset=2656),
            accept=geo,
        ),
        Case("items", "communes_2009 limit=100", _q("/collections/communes_2009/items", limit=100), accept=geo),
        Case("items", "villages limit=100", _q("/collections/villages/items", limit=100), accept=geo),
        Case("items", "roads limit=100", _q("/collections/roads/items", limit=100), accept=geo),
        Case("items", "communes_2025 items HTML", _q("/collections/communes_2025/items", limit=10, f="html")),
        Case("records", "gates at today", "/records/gates"),
        Case("records", "one gate", f"/records/gates/{s['gate']}"),
        Case("records", "crossings by gate", "/records/crossings"),
        Case("records", "markers", "/records/markers"),
        Case("records", "cooperation Sơn La", _q("/records/cooperation", province="Sơn La")),
        Case("reports", "saved areas", "/reports/areas"),
        Case("reports", "targets", "/reports/targets"),
        # a review needs imported values of its indicator: without any (an empty indicator
        # database) the service rightly answers 400 "no values ... import the tables first"
        *(
            [
                Case(
                    "reports",
                    "review border:Sơn La (JSON)",
                    _q(
                        "/reports/review",
                        area="border:Sơn La",
                        **{"from": 2017, "to": 2025},
                        indicator="poor_households",
                        f="json",
                    ),
                )
            ]
            if s.get("poor_households_imported")
            else []
        ),
        Case(
            "downloads",
            "communes_2025 whole layer",
            _q("/collections/communes_2025/items", limit=s["n_2025"]),
            download=True,
            accept=geo,
        ),
        Case(
            "downloads",
            "communes_2009 whole layer",
            _q("/collections/communes_2009/items", limit=min(s["n_2009"], 10000)),
            download=True,
            accept=geo,
        ),
        Case("downloads", "map data GeoJSON (border)", _q("/maps/data.geojson", indicator="density"), download=True),
        Case("downloads", "map data CSV (border)", _q("/maps/data.csv", indicator="density"), download=True),
        Case("downloads", "map data XLSX (border)", _q("/maps/data.xlsx", indicator="density"), download=True),
        Case("downloads", "communes_2025 GeoPackage", _q("/collections/communes_2025/items", f="gpkg"), download=True),
    ]
    return out


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_store(src: Path, dst: Path) -> None:
    """A copy of the store for the server (never the working store), with its features file and
    tile file as `geoborder run` leaves them: copied when the source has them, written when they
    are missing or not this build's."""
    from geoborder.features.cache import ensure_feature_file, feature_file_path
    from geoborder.tiles.render import ensure_tile_file, tile_file_path

    shutil.copyfile(src, dst)
    for derived, ensure in ((feature_file_path, ensure_feature_file), (tile_file_path, ensure_tile_file)):
        if derived(src).is_file():
            shutil.copyfile(derived(src), derived(dst))
        ensure(dst)


def start_server(store: Path, indicators: Path, port: int, warmup: bool, log: Path) -> subprocess.Popen:
    """One worker, the server of `geoborder run` (without its build-if-stale step)."""
    env = dict(
        os.environ,
        GEOBORDER_STORE=str(store),
        GEOBORDER_INDICATORS=str(indicators),
        GEOBORDER_WARMUP="1" if warmup else "0",
    )
    code = (
        "from geoborder.cli.main import _serve; "
        f"_serve({str(store)!r}, host='127.0.0.1', port={port}, workers=1, access_log=False)"
    )
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def health(port: int) -> dict | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/health")
        r = conn.getresponse()
        body = r.read()
        conn.close()
        return json.loads(body) if r.status == 200 else None
    except (OSError, ValueError):
        return None


def rss_mb(pid: int) -> dict:
    """VmRSS and VmHWM (peak) of a process in MB (psutil when installed, else /proc)."""
    try:
        import psutil  # type: ignore[import-not-found]

        return {"rss_mb": round(psutil.Process(pid).memory_info().rss / 2**20, 1), "peak_mb": None}
    except ImportError:
        pass
    out = {"rss_mb": None, "peak_mb": None}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("VmHWM:"):
                out["peak_mb"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


# --------------------------------------------------------------------------- measuring


class Client:
    """One keep-alive connection; reconnects if the server closes it."""

    def __init__(self, port: int, timeout: float):
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, accept: str) -> tuple[float, int, int]:
        """Seconds to the whole body, status, body bytes (as sent: gzip when the server gzips)."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            t = time.perf_counter()
            try:
                self.conn.request("GET", path, headers={"Accept": accept, "Accept-Encoding": "gzip"})
                r = self.conn.getresponse()
                body = r.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - t
            if r.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return elapsed, r.status, len(body)
        raise RuntimeError("unreachable")


def percentile(values: list[float], p: float) -> float:
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def measure(client: Client, case: Case, repeat: int) -> dict:
    first, status, size = client.get(case.path, case.accept)
    runs, statuses = [], {status}
    for _ in range(repeat if not case.download else max(1, min(repeat, 3))):
        t, st, size = client.get(case.path, case.accept)
        runs.append(t)
        statuses.add(st)
    ok = all(200 <= s < 300 for s in statuses)
    row = {
        "group": case.group,
        "label": case.label,
        "path": case.path,
        "status": sorted(statuses),
        "bytes": size,
        "first_s": round(first, 4),
        "repeats": len(runs),
        "p50_s": round(statistics.median(runs), 4),
        "p95_s": round(percentile(runs, 0.95), 4),
        "download": case.download,
    }
    if case.download:
        best = min(runs)
        row["mb_per_s"] = round(size / 2**20 / best, 1) if best > 0 else None
        row["first_ok"] = None
        row["repeat_ok"] = None
    else:
        row["first_ok"] = ok and first <= FIRST_GOAL_S
        row["repeat_ok"] = ok and row["p95_s"] <= REPEAT_P95_GOAL_S
    row["ok_status"] = ok
    return row


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# --------------------------------------------------------------------------- output


def _ms(s: float) -> str:
    return f"{s * 1000:,.0f} ms" if s >= 0.01 else f"{s * 1000:.1f} ms"


def print_table(rows: list[dict], markdown: bool) -> None:
    if markdown:
        print("| group | endpoint | first | goal ≤ 1 s | repeated p50 | p95 | goal p95 ≤ 100 ms | size |")
        print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        mark = {True: "pass", False: "FAIL", None: "-"}
        size = f"{r['bytes'] / 1024:,.0f} kB"
        status = "" if r["ok_status"] else f" (HTTP {','.join(map(str, r['status']))})"
        if r["download"]:
            cells = [r["group"], r["label"] + status, _ms(r["first_s"]), "throughput", _ms(r["p50_s"]), "-"]
            cells += [f"{r['mb_per_s']} MB/s" if r.get("mb_per_s") else "-", size]
        else:
            cells = [r["group"], r["label"] + status, _ms(r["first_s"]), mark[r["first_ok"]], _ms(r["p50_s"])]
            cells += [_ms(r["p95_s"]), mark[r["repeat_ok"]], size]
        if markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(
                f"{cells[0]:<10} {cells[1]:<42} first {cells[2]:>9} {cells[3]:<10} p50 {cells[4]:>9} "
                f"p95 {cells[5]:>9} {cells[6]:<10} {cells[7]:>10}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=ROOT / "var" / "geoborder.gpkg")
    ap.add_argument("--indicators", type=Path, default=ROOT / "var" / "indicators.sqlite")
    ap.add_argument("--repeat", type=int, default=30, help="repeats per endpoint after the first (default 30)")
    ap.add_argument("--warmup", type=int, choices=(0, 1), default=1, help="GEOBORDER_WARMUP of the server")
    ap.add_argument("--no-wait-warm", action="store_true", help="measure at once, while the warm-up runs")
    ap.add_argument("--only", action="append", help="only these groups (repeatable)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    ap.add_argument("--out", type=Path, help="results file (default bench/results/latency-<date>.json)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args()
    if not args.store.exists():
        sys.exit(f"no store at {args.store}: run `geoborder build` first")

    work = Path(tempfile.mkdtemp(prefix="geoborder-latency-"))
    store = work / "geoborder.gpkg"
    copy_store(args.store, store)  # a copy: the server never shares the working store
    indicators = work / "indicators.sqlite"
    if args.indicators.exists():
        shutil.copyfile(args.indicators, indicators)
    s = samples(store)
    if indicators.exists():  # the review case needs imported values (see cases())
        with sqlite3.connect(indicators) as con:
            q = "SELECT 1 FROM sqlite_master WHERE name = 'observations'"
            s["poor_households_imported"] = bool(con.execute(q).fetchone()) and bool(
                con.execute("SELECT 1 FROM observations WHERE indicator = 'poor_households' LIMIT 1").fetchone()
            )
    todo = [c for c in cases(s) if not args.only or c.group in args.only]
    port = free_port()
    log = work / "server.log"
    load_before = load_average()
    started = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    proc = start_server(store, indicators, port, bool(args.warmup), log)
    rows: list[dict] = []
    try:
        body = None
        while body is None:
            if proc.poll() is not None or time.monotonic() - t0 > 120:
                sys.exit(f"the server did not start; see {log}")
            time.sleep(0.05)
            body = health(port)
        ready_s = time.monotonic() - t0
        rss_ready = rss_mb(proc.pid)
        warm_s = None
        if args.warmup and not args.no_wait_warm:
            while not body.get("warm"):
                if proc.poll() is not None or time.monotonic() - t0 > 900:
                    sys.exit(f"the server did not get warm; see {log}")
                time.sleep(0.2)
                body = health(port) or body
            warm_s = time.monotonic() - t0
        rss_warm = rss_mb(proc.pid)
        print(
            f"server pid {proc.pid}: ready (/health 200) after {ready_s:.1f} s"
            + (f", warm after {warm_s:.1f} s" if warm_s is not None else "")
            + f"; RSS {rss_ready['rss_mb']} MB at ready, {rss_warm['rss_mb']} MB before the run",
            file=sys.stderr,
        )
        if body.get("warmup_seconds"):
            print(f"warm-up steps (s): {body['warmup_seconds']}", file=sys.stderr)
        client = Client(port, args.timeout)
        for case in todo:
            try:
                row = measure(client, case, args.repeat)
            except (OSError, http.client.HTTPException) as exc:
                row = {"group": case.group, "label": case.label, "path": case.path, "error": str(exc)}
                print(f"{case.label}: {exc}", file=sys.stderr)
            rows.append(row)
        rss_after = rss_mb(proc.pid)
    finally:
        stop(proc)
    load_after = load_average()
    measured = [r for r in rows if "error" not in r]
    print_table(measured, args.markdown)
    latency = [r for r in measured if not r["download"]]
    summary = {
        "endpoints": len(latency),
        "first_pass": sum(bool(r["first_ok"]) for r in latency),
        "repeat_pass": sum(bool(r["repeat_ok"]) for r in latency),
        "errors": [r["label"] for r in rows if "error" in r] + [r["label"] for r in measured if not r["ok_status"]],
    }
    print(
        f"\n{summary['first_pass']}/{summary['endpoints']} first requests <= {FIRST_GOAL_S:g} s, "
        f"{summary['repeat_pass']}/{summary['endpoints']} repeated p95 <= {REPEAT_P95_GOAL_S * 1000:g} ms; "
        f"start-up {ready_s:.1f} s"
        + (f", warm {warm_s:.1f} s" if warm_s is not None else "")
        + f"; worker RSS {rss_after['rss_mb']} MB after the run (peak {rss_after['peak_mb']} MB, goal <= 500 MB); "
        f"load average {load_before} before, {load_after} after"
    )
    if summary["errors"]:
        print(f"not 2xx or failed: {', '.join(summary['errors'])}")
    result = {
        "date": started.date().isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "store": str(args.store),
        "repeat": args.repeat,
        "warmup": bool(args.warmup),
        "waited_for_warm": bool(args.warmup and not args.no_wait_warm),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "ready_s": round(ready_s, 2),
        "warm_s": round(warm_s, 2) if warm_s is not None else None,
        "warmup_steps_s": body.get("warmup_seconds"),
        "rss": {"at_ready": rss_ready, "before_run": rss_warm, "after_run": rss_after},
        "goals": {"first_s": FIRST_GOAL_S, "repeat_p95_s": REPEAT_P95_GOAL_S, "rss_mb": 500},
        "summary": summary,
        "rows": rows,
    }
    out = args.out or RESULTS / f"latency-{started.date().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
