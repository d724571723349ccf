#!/usr/bin/env python3
"""Throughput of geoborder on PostGIS, with 1 and 2 workers, side by side with tipg on the same database.

One run: a throwaway PostgreSQL + PostGIS cluster on 127.0.0.1 (tests/pg_fixtures.py `Cluster`),
`geoborder publish` of the GeoPackage into it (schema `gb_<version>`), then for each worker count
geoborder (uvicorn `api.main:app_from_env`, GEOBORDER_STORE=postgresql://..., the settings of
`geoborder run`) and tipg (PyPI, TIPG_DB_SCHEMAS=["gb_<version>"]) are started with that many
workers on the same database and measured one after the other under `hey -z DUR -c C` with the same
queries: items limit=100, bbox (a tenth of the layer's extent), one feature by id (the layer key,
which is tipg's id: the table's primary key), a deep offset, a CQL2-text filter. Before timing,
each query is asked once of both servers and numberMatched / numberReturned (and the keys of the
features) are compared; a mismatch is printed and recorded, never hidden. A row whose hey run had
non-2xx answers or client errors is flagged.

How to run (from the checkout; needs PostgreSQL 15 + PostGIS 3 binaries, `hey`, and tipg in
/tmp/peers/venv-tipg, created with `pip install tipg uvicorn` when missing):

    .venv/bin/python bench/postgis.py                                  # var/geoborder.gpkg, communes_2025, 10 s per run
    .venv/bin/python bench/postgis.py --layers communes_2025 communes_2009 --duration 10s --markdown
    .venv/bin/python bench/postgis.py --duration 2s --out /tmp/pg_bench   # a quick smoke run

Results: a table on stdout (query, workers, geoborder req/s, tipg req/s, ratio geoborder / tipg),
and `<out>.tsv` / `<out>.json` (default bench/results/postgis.*: the queries' URLs, hey's p50, the
non-2xx counts, the checks, the load average before and after, the versions). Run it on a quiet
machine: geoborder, tipg, PostgreSQL and hey share the cores.

Only loopback addresses are used. Every process started runs in its own process group and is
stopped by it, and the cluster is removed, at the end, on an error and on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # pg_fixtures.Cluster (and the conftest it imports)
sys.path.insert(0, str(Path(__file__).resolve().parent))

# a sibling script of bench/, importable once its folder is on sys.path (above)
from ogc_items import free_port, stop, uvicorn_command  # noqa: E402

DEFAULT_TIPG_VENV = Path("/tmp/peers/venv-tipg")
GEOJSON = "application/geo+json"


@dataclass
class Server:
    name: str
    workers: int
    proc: subprocess.Popen
    items: str  # .../collections/<id>/items
    params: dict  # added to every query (tipg: f=geojson)
    accept: str | None  # Accept header (geoborder: application/geo+json)
    log: Path

    def url(self, query: str, item: str | None = None) -> str:
        q = "&".join(filter(None, [urllib.parse.urlencode(self.params), query]))
        path = f"{self.items}/{urllib.parse.quote(item, safe='')}" if item is not None else self.items
        return f"{path}?{q}" if q else path


@dataclass
class Row:
    layer: str
    query: str
    workers: int
    geoborder_rps: float | None = None
    tipg_rps: float | None = None
    ratio: float | None = None
    geoborder_p50_s: float | None = None
    tipg_p50_s: float | None = None
    geoborder_non2xx: int | None = None
    tipg_non2xx: int | None = None
    check: str = ""
    urls: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- processes


def _start(name: str, cmd: list[str], env: dict, cwd: Path, log: Path, probe: str, timeout: float = 120):
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(probe, timeout=10) as r:
                if r.status == 200:
                    return proc
        except (OSError, urllib.error.HTTPError):
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    stop(proc)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    raise RuntimeError(f"{name} did not answer {probe}; tail of {log}:\n{tail}")


def start_geoborder(url: str, layer: str, workers: int, work: Path) -> Server:
    port = free_port()
    env = dict(os.environ, GEOBORDER_STORE=url)
    cmd = uvicorn_command(port, workers)
    base = f"http://127.0.0.1:{port}"
    log = work / f"geoborder-w{workers}.log"
    proc = _start("geoborder", cmd, env, ROOT, log, f"{base}/health")
    return Server("geoborder", workers, proc, f"{base}/collections/{layer}/items", {}, GEOJSON, log)


def start_tipg(venv: Path, url: str, schema: str, workers: int, work: Path) -> tuple[Server, str]:
    port = free_port()
    cwd = work / "tipg"  # tipg's settings read a .env from the working directory: an empty one
    cwd.mkdir(exist_ok=True)
    env = dict(os.environ, DATABASE_URL=url, TIPG_DB_SCHEMAS=json.dumps([schema]), TIPG_MAX_FEATURES_PER_QUERY="20000")
    cmd = [
        str(venv / "bin" / "uvicorn"),
        "tipg.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    base = f"http://127.0.0.1:{port}"
    log = work / f"tipg-w{workers}.log"
    proc = _start("tipg", cmd, env, cwd, log, f"{base}/collections")
    return Server("tipg", workers, proc, "", {"f": "geojson"}, None, log), base


def ensure_tipg(venv: Path) -> str:
    py = venv / "bin" / "python"
    if (
        not (venv / "bin" / "uvicorn").exists()
        or subprocess.run([str(py), "-c", "import tipg"], capture_output=True).returncode
    ):
        print(f"creating {venv} (pip install tipg uvicorn)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "tipg", "uvicorn"], check=True)
    return subprocess.run(
        [str(py), "-c", "import tipg; print(tipg.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()


# --------------------------------------------------------------------------- database


def start_cluster():
    from pg_fixtures import PG_BIN, Cluster

    if not (PG_BIN / "initdb").exists():
        sys.exit(f"no PostgreSQL in {PG_BIN} (Debian: apt-get install postgresql postgresql-15-postgis-3)")
    cluster = Cluster()
    cluster.start()
    with cluster.admin() as con:
        con.execute("CREATE DATABASE geoborder")
    with cluster.admin("geoborder") as con:
        con.execute("CREATE EXTENSION postgis")
    return cluster


def publish(store: Path, url: str, log: Path) -> tuple[str, str, str]:
    """`geoborder publish` (the CLI, as an operator runs it); (version, schema, PostGIS version)."""
    import psycopg

    exe = Path(sys.executable).with_name("geoborder")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "geoborder.cli.main"]
    t = time.perf_counter()
    with open(log, "wb") as out:
        r = subprocess.run(
            cmd + ["publish", "--to", url, "--store", str(store)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    if r.returncode:
        raise RuntimeError(f"geoborder publish failed; see {log}")
    print(f"published {store} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    with psycopg.connect(url) as con:
        version, schema = con.execute("SELECT version, schema_name FROM geoborder.published").fetchone()
        postgis = con.execute("SELECT postgis_lib_version()").fetchone()[0]
    return version, schema, postgis


def layer_facts(url: str, schema: str, layer: str, bbox_frac: float, offset_frac: float) -> dict:
    """Feature count, a bbox covering `bbox_frac` of the layer's extent around its centre, a deep
    offset, and the key of the first feature (for the one-feature query)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as con:
        row = con.execute(
            sql.SQL("SELECT key_field, row_count, min_x, min_y, max_x, max_y FROM {}.{} WHERE table_name = %s").format(
                sql.Identifier(schema), sql.Identifier("_gb_tables")
            ),
            (layer,),
        ).fetchone()
        if row is None:
            sys.exit(f"no layer {layer!r} in {schema}")
        key, count, x0, y0, x1, y1 = row
        first = con.execute(
            sql.SQL("SELECT {} FROM {}.{} ORDER BY fid LIMIT 1").format(
                sql.Identifier(key or "fid"), sql.Identifier(schema), sql.Identifier(layer)
            )
        ).fetchone()[0]
    s = math.sqrt(bbox_frac)
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * s / 2, (y1 - y0) * s / 2
    return {
        "count": count,
        "key": key,
        "first_id": str(first),
        "offset": int(count * offset_frac),
        "bbox": ",".join(f"{v:.5f}" for v in (cx - w, cy - h, cx + w, cy + h)),
    }


# --------------------------------------------------------------------------- measuring


def queries(facts: dict, cql2: str) -> list[tuple[str, str, str | None]]:
    """(name, query string, feature id or None) asked of both servers."""
    return [
        ("items limit=100", "limit=100", None),
        ("bbox limit=100", f"limit=100&bbox={facts['bbox']}", None),
        ("one feature by id", "", facts["first_id"]),
        (f"offset={facts['offset']} limit=100", f"limit=100&offset={facts['offset']}", None),
        (f"CQL2 {cql2} limit=100", "limit=100&filter-lang=cql2-text&" + urllib.parse.urlencode({"filter": cql2}), None),
    ]


def get_json(url: str, accept: str | None) -> tuple[int, dict | None]:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def compare(gb: Server, tg: Server, query: str, item: str | None, key: str | None) -> str:
    """'ok' when both answer 2xx with the same numberMatched, number of features and feature keys;
    else what differs."""
    answers = {}
    for s in (gb, tg):
        code, body = get_json(s.url(query, item), s.accept)
        if not 200 <= code < 300 or body is None:
            answers[s.name] = f"HTTP {code}"
            continue
        feats = body.get("features", [body] if body.get("type") == "Feature" else [])
        keys = sorted(str(f["properties"].get(key) if key else f.get("id")) for f in feats)
        answers[s.name] = (body.get("numberMatched"), len(feats), keys)
    a, b = answers["geoborder"], answers["tipg"]
    if isinstance(a, str) or isinstance(b, str):
        return f"MISMATCH: geoborder {a if isinstance(a, str) else 'ok'}, tipg {b if isinstance(b, str) else 'ok'}"
    out = []
    if a[0] != b[0]:
        out.append(f"numberMatched geoborder {a[0]} tipg {b[0]}")
    if a[1] != b[1]:
        out.append(f"features geoborder {a[1]} tipg {b[1]}")
    elif a[2] != b[2]:
        out.append(f"other features ({len(set(a[2]) ^ set(b[2]))} keys differ)")
    matched = f", matched {a[0]}" if a[0] is not None else ""
    return ("MISMATCH: " + "; ".join(out)) if out else f"ok ({a[1]} features{matched})"


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_P50 = re.compile(r"\s50%+ in ([\d.]+) secs")
_STATUS = re.compile(r"^\s*\[(\d{3})\]\s+(\d+) responses", re.M)
_ERRORS = re.compile(r"^\s*\[(\d+)\]\s+Get ", re.M)


def hey(url: str, accept: str | None, duration: str, concurrency: int) -> tuple[float | None, float | None, int, str]:
    """(req/s, p50 s, non-2xx answers + client errors, hey's summary)."""
    cmd = ["hey", "-z", duration, "-c", str(concurrency), "-t", "60"] + (["-A", accept] if accept else []) + [url]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rps = _RPS.search(out)
    p50 = _P50.search(out)
    bad = sum(int(n) for code, n in _STATUS.findall(out) if not code.startswith("2"))
    bad += sum(int(n) for n in _ERRORS.findall(out))
    if rps is None:
        bad = max(bad, 1)
    return (float(rps.group(1)) if rps else None, float(p50.group(1)) if p50 else None, bad, out)


def warm(server: Server, qs, rounds: int = 6) -> None:
    """Each worker's first use of a layer (geoborder: reading it and building the per-feature
    GeoJSON; tipg: its connection pool) is not part of the timing; uvicorn spreads connections
    over the workers, so every query is asked a few times, with and without gzip."""
    for _ in range(rounds):
        for _name, query, item in qs:
            for enc in ("gzip", "identity"):
                headers = {"Accept-Encoding": enc, **({"Accept": server.accept} if server.accept else {})}
                with contextlib.suppress(urllib.error.HTTPError):
                    urllib.request.urlopen(
                        urllib.request.Request(server.url(query, item), headers=headers), timeout=120
                    ).read()


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --------------------------------------------------------------------------- main


def run(args) -> dict:
    tipg_version = ensure_tipg(args.tipg_venv)
    work = Path(tempfile.mkdtemp(prefix="geoborder-pgbench-"))
    started: list[subprocess.Popen] = []
    cluster = None
    rows: list[Row] = []
    meta = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_before": loadavg(),
        "cores": os.cpu_count(),
        "machine": platform.platform(),
        "duration": args.duration,
        "concurrency": args.concurrency,
        "tipg": tipg_version,
        "store": str(args.store),
        "layers": args.layers,
        "work": str(work),
    }
    try:
        cluster = start_cluster()
        url = cluster.url("geoborder")
        version, schema, postgis = publish(args.store, url, work / "publish.log")
        meta.update(version=version, schema=schema, postgis=postgis)
        facts = {layer: layer_facts(url, schema, layer, args.bbox_frac, args.offset_frac) for layer in args.layers}
        meta["facts"] = facts
        for workers in args.workers:
            gb = start_geoborder(url, args.layers[0], workers, work)
            started.append(gb.proc)
            tg, tipg_base = start_tipg(args.tipg_venv, url, schema, workers, work)
            started.append(tg.proc)
            for layer in args.layers:
                f = facts[layer]
                gb.items = gb.items.rsplit("/collections/", 1)[0] + f"/collections/{layer}/items"
                tg.items = f"{tipg_base}/collections/{schema}.{layer}/items"
                qs = queries(f, args.cql2)
                for s in (gb, tg):
                    warm(s, qs)
                for name, query, item in qs:
                    row = Row(layer, name, workers)
                    row.check = compare(gb, tg, query, item, f["key"])
                    for s in (gb, tg):
                        u = s.url(query, item)
                        row.urls[s.name] = u
                        rps, p50, bad, _ = hey(u, s.accept, args.duration, args.concurrency)
                        setattr(row, f"{s.name}_rps", rps)
                        setattr(row, f"{s.name}_p50_s", p50)
                        setattr(row, f"{s.name}_non2xx", bad)
                    if row.geoborder_rps and row.tipg_rps:
                        row.ratio = row.geoborder_rps / row.tipg_rps
                    rows.append(row)
                    print(_line(row), file=sys.stderr, flush=True)
            for p in (tg.proc, gb.proc):
                stop(p)
                started.remove(p)
    finally:
        for p in reversed(started):
            stop(p)
        if cluster is not None:
            cluster.stop()
    meta["load_after"] = loadavg()
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return {"meta": meta, "rows": [asdict(r) for r in rows]}


def _fmt(v, spec=",.0f") -> str:
    return "-" if v is None else format(v, spec)


def _line(r: Row) -> str:
    flag = (
        ""
        if (r.geoborder_non2xx, r.tipg_non2xx) == (0, 0)
        else f"  NON-2xx geoborder {r.geoborder_non2xx} tipg {r.tipg_non2xx}"
    )
    return (
        f"{r.layer:<15} {r.query:<34} w={r.workers}  geoborder {_fmt(r.geoborder_rps):>7} req/s  "
        f"tipg {_fmt(r.tipg_rps):>7} req/s  ratio {_fmt(r.ratio, '.2f'):>6}  {r.check}{flag}"
    )


def report(result: dict, markdown: bool) -> None:
    rows = [Row(**r) for r in result["rows"]]
    m = result["meta"]
    print(
        f"\ngeoborder vs tipg {m['tipg']} on PostGIS {m.get('postgis', '?')}, hey -z {m['duration']} -c {m['concurrency']}, "
        f"{m['cores']} cores, load average {m['load_before']} before / {m['load_after']} after"
    )
    if markdown:
        print("\n| layer | query | workers | geoborder req/s | tipg req/s | ratio | same answer |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            bad = (
                ""
                if (r.geoborder_non2xx, r.tipg_non2xx) == (0, 0)
                else f" (non-2xx: {r.geoborder_non2xx}/{r.tipg_non2xx})"
            )
            print(
                f"| {r.layer} | {r.query} | {r.workers} | {_fmt(r.geoborder_rps)} | {_fmt(r.tipg_rps)} | "
                f"{_fmt(r.ratio, '.2f')} | {r.check}{bad} |"
            )
    else:
        for r in rows:
            print(_line(r))


def write(result: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    cols = [
        "layer",
        "query",
        "workers",
        "geoborder_rps",
        "tipg_rps",
        "ratio",
        "geoborder_p50_s",
        "tipg_p50_s",
        "geoborder_non2xx",
        "tipg_non2xx",
        "check",
    ]
    lines = ["\t".join(cols)]
    for r in result["rows"]:
        lines.append(
            "\t".join("" if r[c] is None else (f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c])) for c in cols)
        )
    out.with_suffix(".tsv").write_text("\n".join(lines) + "\n")
    print(f"wrote {out.with_suffix('.tsv')} and {out.with_suffix('.json')}", file=sys.stderr)


def _interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=ROOT / "var" / "geoborder.gpkg", help="the GeoPackage to publish")
    ap.add_argument("--layers", nargs="+", default=["communes_2025"])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--duration", default="10s", help="hey -z per query and server")
    ap.add_argument("--concurrency", "-c", type=int, default=4)
    ap.add_argument("--cql2", default="population>10000", help="the CQL2-text filter query")
    ap.add_argument("--bbox-frac", type=float, default=0.1, help="the bbox covers this fraction of the extent")
    ap.add_argument("--offset-frac", type=float, default=0.8, help="deep offset = features x this")
    ap.add_argument("--tipg-venv", type=Path, default=DEFAULT_TIPG_VENV)
    ap.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "postgis", help="writes OUT.tsv and OUT.json"
    )
    ap.add_argument("--markdown", action="store_true", help="print a table for README.md")
    args = ap.parse_args()
    if not args.store.exists():
        sys.exit(f"no store at {args.store}: run `geoborder build` first")
    args.store = args.store.resolve()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        result = run(args)
    except KeyboardInterrupt:
        sys.exit("interrupted: every process stopped, cluster removed")
    write(result, args.out)
    report(result, args.markdown)
    mismatches = [r for r in result["rows"] if not r["check"].startswith("ok")]
    failures = [r for r in result["rows"] if r["geoborder_non2xx"] or r["tipg_non2xx"]]
    if mismatches:
        print(f"\n{len(mismatches)} queries where geoborder and tipg do not answer the same (see 'check')")
    if failures:
        print(f"{len(failures)} rows with non-2xx answers or client errors")


if __name__ == "__main__":
    main()
