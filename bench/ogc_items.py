#!/usr/bin/env python3
"""Benchmark geoborder's OGC API - Features items against peers serving the same GeoPackage layer.

Starts geoborder (uvicorn, 2 workers) on a free loopback port on the given store, runs the shared
peer harness (../shared/tools/run_peers.sh: pygeoapi, MapServer, QGIS Server, tipg, each with 2
workers, all under `hey -z $DUR -c $C`) with geoborder as one more server, then prints the ratio
geoborder / fastest peer for each query (req/s; for the whole-layer download, peer time / ours).

The static-file row: the bytes geoborder answered to each query (as sent, gzip), saved to files
and served by lighttpd (one process, static files from the page cache) under the same
`hey -z $DUR -c $C`, in the same run: the most any HTTP server can do with that answer on this
machine. Each query's "share of static" is geoborder's req/s over the static file's.

    .venv/bin/python bench/ogc_items.py                      # var/geoborder.gpkg, communes_2025
    INSTALL=1 PEERS="pygeoapi mapserver qgis tipg" .venv/bin/python bench/ogc_items.py --markdown
    PEERS="" .venv/bin/python bench/ogc_items.py             # geoborder alone

Environment passed through to run_peers.sh: DUR, C, PEERS, INSTALL, OUT, KEEP_WORK, ...
Only loopback addresses are used; every process started is stopped by its process group.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PEERS_SH = ROOT.parent / "shared" / "tools" / "run_peers.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uvicorn_command(port: int, workers: int) -> list[str]:
    """The service under uvicorn with the loop and protocol of `geoborder run` (geoborder/cli/main.py
    `_serve`): uvloop and httptools' parser in the guarded protocol of api/server.py (header
    deadline, URL limit, the status line and headers written with the body in one system call)."""
    return [sys.executable, "-m", "uvicorn", "api.main:app_from_env", "--factory", "--host", "127.0.0.1"] + [
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        "--http",
        "api.server:GuardedHttpToolsProtocol",
        "--loop",
        "uvloop",
        "--backlog",
        "2048",
    ]


def start_geoborder(store: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, GEOBORDER_STORE=str(store))
    uvicorn = uvicorn_command(port, workers)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            uvicorn, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    stop(proc)
    sys.exit(f"geoborder did not start; see {log}")


def warm(base: str, layer: str) -> None:
    """First use of a layer in each worker builds its per-feature GeoJSON: not part of the timing."""
    for _ in range(8):
        for q in ("limit=1", "limit=100", "limit=100&offset=2000"):
            for enc in ("gzip", "identity"):
                req = urllib.request.Request(
                    f"{base}/collections/{layer}/items?{q}",
                    headers={"Accept": "application/geo+json", "Accept-Encoding": enc},
                )
                urllib.request.urlopen(req, timeout=120).read()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def hey_rps(url: str, duration: str, concurrency: str, accept: str | None = None) -> tuple[float | None, int]:
    """Requests/s of one `hey` run and the count of non-2xx answers."""
    cmd = ["hey", "-z", duration, "-c", concurrency, "-t", "60"] + (["-A", accept] if accept else []) + [url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    rps, bad, dist = None, 0, False
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Requests/sec:"):
            rps = float(line.split()[1])
        elif line.startswith("Status code distribution:"):
            dist = True
        elif dist and line.startswith("["):
            code, n = line.split()[0].strip("[]"), int(line.split()[1])
            bad += 0 if code.startswith("2") else n
        elif dist and not line:
            dist = False
    return rps, bad


def static_rows(urls_tsv: Path, duration: str, concurrency: str) -> dict[str, dict]:
    """Each hey query of geoborder (not the whole layer) as a static file served by lighttpd:
    the same bytes (fetched once as hey asks: GeoJSON, gzip accepted), same duration and
    concurrency. {query: {"req_s", "bytes", "non2xx"}}; {} when lighttpd is missing."""
    lighttpd = shutil.which("lighttpd") or ("/usr/sbin/lighttpd" if Path("/usr/sbin/lighttpd").exists() else None)
    if lighttpd is None or not urls_tsv.exists() or shutil.which("hey") is None:
        print("static-file row skipped: lighttpd or hey is not installed", file=sys.stderr)
        return {}
    wanted = []
    for row in csv.reader(urls_tsv.open(), delimiter="\t"):
        if len(row) == 3 and row[0] == "geoborder" and not row[1].startswith("full layer"):
            wanted.append((row[1], row[2]))
    docroot = Path(tempfile.mkdtemp(prefix="geoborder-static-"))
    files = {}
    for i, (query, url) in enumerate(wanted):
        req = urllib.request.Request(url, headers={"Accept": "application/geo+json", "Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=120) as r:  # urllib never decodes: the bytes as sent
            body, gz = r.read(), r.headers.get("Content-Encoding") == "gzip"
        name = f"q{i}.gz.json" if gz else f"q{i}.json"
        (docroot / name).write_bytes(body)
        files[query] = (name, len(body))
    port = free_port()
    (docroot / "lighttpd.conf").write_text(
        f'''server.document-root = "{docroot}"
server.port = {port}
server.bind = "127.0.0.1"
server.errorlog = "{docroot}/error.log"
server.modules = ("mod_setenv")
mimetype.assign = (".json" => "application/geo+json")
$HTTP["url"] =~ "\\.gz\\.json$" {{ setenv.add-response-header = ("Content-Encoding" => "gzip") }}
'''
    )
    proc = subprocess.Popen(
        [lighttpd, "-D", "-f", str(docroot / "lighttpd.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out: dict[str, dict] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(50):
            try:
                urllib.request.urlopen(f"{base}/{next(iter(files.values()))[0]}", timeout=2).read()
                break
            except (OSError, StopIteration):
                time.sleep(0.1)
        for query, (name, size) in files.items():
            rps, bad = hey_rps(f"{base}/{name}", duration, concurrency)
            out[query] = {"req_s": rps, "bytes": size, "non2xx": bad}
            print(f"static file\t{query}\t{rps}\t{bad}\t{size} bytes", file=sys.stderr)
    finally:
        stop(proc)
        shutil.rmtree(docroot, ignore_errors=True)
    return out


def ratios(tsv: Path) -> list[dict]:
    rows = list(csv.DictReader(tsv.open(), delimiter="\t"))
    by_query: dict[str, dict[str, dict]] = {}
    for r in rows:
        if r["query"] == "(skipped)":
            continue
        q = r["query"]
        key = "full layer" if q.startswith("full layer") else "item by id" if q.startswith("item by id") else q
        by_query.setdefault(key, {})[r["server"]] = r
    out = []
    for q, servers in by_query.items():
        gb = servers.get("geoborder")
        peers = {s: r for s, r in servers.items() if s != "geoborder"}
        full = q == "full layer"

        def value(r, full=full):
            try:
                return float(r["p50_s"] if full else r["req_s"])
            except (TypeError, ValueError):
                return None

        vals = {s: value(r) for s, r in peers.items() if value(r) is not None and r["non2xx"] in ("0", "")}
        best = (min if full else max)(vals, key=vals.get) if vals else None
        g = value(gb) if gb else None
        ratio = None
        if g and best:
            ratio = vals[best] / g if full else g / vals[best]
        out.append(
            {
                "query": q,
                "geoborder": g,
                "best_peer": best,
                "best_value": vals.get(best) if best else None,
                "ratio": ratio,
                "peers": vals,
                "unit": "s" if full else "req/s",
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=ROOT / "var" / "geoborder.gpkg")
    ap.add_argument("--layer", default="communes_2025")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--peers-sh", type=Path, default=DEFAULT_PEERS_SH)
    ap.add_argument("--out", type=Path, default=Path("/tmp/geoborder_ogc_bench.tsv"))
    ap.add_argument("--markdown", action="store_true", help="print a table for README.md")
    ap.add_argument("--no-static", action="store_true", help="skip the static-file row (lighttpd)")
    args = ap.parse_args()
    if not args.store.exists():
        sys.exit(f"no store at {args.store}: run `geoborder build` first")
    port = free_port()
    log = Path("/tmp") / f"geoborder_bench_{port}.log"
    proc = start_geoborder(args.store.resolve(), port, args.workers, log)
    base = f"http://127.0.0.1:{port}"
    duration, concurrency = os.environ.get("DUR", "6s"), os.environ.get("C", "4")
    load_before = os.getloadavg()
    static: dict[str, dict] = {}
    try:
        warm(base, args.layer)
        env = dict(os.environ, OUT=str(args.out))
        subprocess.run(["bash", str(args.peers_sh), str(args.store.resolve()), args.layer, base], env=env, check=True)
        if not args.no_static:
            static = static_rows(args.out.with_name(args.out.stem + ".urls.tsv"), duration, concurrency)
    finally:
        stop(proc)
    results = ratios(args.out)
    for r in results:
        st = static.get(r["query"]) or next((v for k, v in static.items() if _same_query(k, r["query"])), None)
        r["static"] = st["req_s"] if st and not st["non2xx"] else None
        r["static_share"] = r["geoborder"] / r["static"] if r["static"] and r["geoborder"] else None
    if args.markdown:
        print(
            "\n| query | geoborder | fastest peer | peer value | ratio (x faster) | static file | share of static "
            "| all peers |"
        )
        print("|---|---|---|---|---|---|---|---|")
    for r in results:
        peers = ", ".join(f"{k} {v:g}" for k, v in sorted(r["peers"].items()))
        g = f"{r['geoborder']:g} {r['unit']}" if r["geoborder"] is not None else "-"
        pv = f"{r['best_value']:g} {r['unit']}" if r["best_value"] is not None else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        sv = f"{r['static']:g} req/s" if r["static"] else "-"
        share = f"{r['static_share']:.0%}" if r["static_share"] else "-"
        if args.markdown:
            print(f"| {r['query']} | {g} | {r['best_peer'] or '-'} | {pv} | {ratio} | {sv} | {share} | {peers} |")
        else:
            print(
                f"{r['query']:<22} geoborder {g:<14} best {r['best_peer'] or '-':<10} {pv:<14} ratio {ratio}   "
                f"static {sv:<14} share {share:<5} ({peers})"
            )
    # a shared machine shows in the load average: the numbers are comparable only on a quiet one
    load_after = os.getloadavg()
    print(
        f"\nload average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in load_before)} before, "
        f"{' '.join(f'{x:.2f}' for x in load_after)} after; {os.cpu_count()} CPUs"
    )
    if static:
        # each query against the same bytes served as a file (one feature is not compared with a page)
        print(f"\nstatic limit: each answer as sent, from a file, lighttpd (hey -z {duration} -c {concurrency}):")
        for r in results:
            if r["unit"] == "req/s" and r["geoborder"] and r["static"]:
                print(f"  {r['query']:<24} {r['geoborder']:g} of {r['static']:g} req/s = {r['static_share']:.0%}")


def _same_query(a: str, b: str) -> bool:
    """'item by id=123' in the URL list and 'item by id' in the ratios are the same query."""
    return a.split("=")[0] == b.split("=")[0] if a.startswith("item by id") else a == b


if __name__ == "__main__":
    main()
