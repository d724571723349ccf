#!/usr/bin/env python3
"""RSS of one worker: at ready, warm, after every endpoint of bench/latency.py once, and after a
schemathesis run against it (the run of tests/api/test_schemathesis.py: its config, every check,
deterministic, one worker). Goal: <= 500 MB after either.

    .venv/bin/python bench/memory.py                      # writes bench/results/memory-<date>.json
    .venv/bin/python bench/memory.py -n 1 --get-only      # a short check
    .venv/bin/python bench/memory.py --no-pyarrow         # the worker with pyarrow hidden

pyarrow is a dependency of geoborder: pandas keeps text columns in Arrow when it is installed (the
store's frames take a quarter of the memory of Python strings). `--no-pyarrow` starts the worker
with pyarrow hidden, to see what a worker takes without it.

The worker is the server of `geoborder run` (1 worker) on a copy of the store, as in
bench/latency.py; RSS is VmRSS of /proc/<pid>/status (psutil when installed), the peak VmHWM.
After the endpoints and after schemathesis it is read twice: at once, and at rest REST_SECONDS
later (one interval of the worker's heap keeper, geoborder/core/heap.py, which hands back what
glibc holds free). Documents are drawn in a child process (geoborder/reports/process.py): its
peak RSS is reported beside the worker's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import latency as L  # bench/latency.py: the server, the endpoints, RSS

ROOT = L.ROOT
SCHEMATHESIS_CONFIG = ROOT / "tests" / "api" / "schemathesis.toml"
REST_SECONDS = 6.0


def children_peak_mb(pid: int) -> float | None:
    """The largest peak RSS (VmHWM) among the live child processes of `pid`, in MB."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(pid) and "VmHWM" in fields:
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return round(max(peaks), 1) if peaks else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=ROOT / "var" / "geoborder.gpkg")
    ap.add_argument("--indicators", type=Path, default=ROOT / "var" / "indicators.sqlite")
    ap.add_argument("-n", "--max-examples", type=int, default=3, help="schemathesis examples per operation")
    ap.add_argument("--get-only", action="store_true", help="schemathesis: GET operations only")
    ap.add_argument("--warmup", type=int, choices=(0, 1), default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--no-pyarrow", action="store_true", help="the worker with pyarrow hidden (what it takes without)")
    args = ap.parse_args()
    if not args.store.exists():
        sys.exit(f"no store at {args.store}: run `geoborder build` first")
    work = Path(tempfile.mkdtemp(prefix="geoborder-memory-"))
    store, indicators = work / "geoborder.gpkg", work / "indicators.sqlite"
    L.copy_store(args.store, store)
    if args.indicators.exists():
        shutil.copyfile(args.indicators, indicators)
    port = L.free_port()
    started = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    saved_path = os.environ.get("PYTHONPATH")
    if args.no_pyarrow:  # a sitecustomize in the worker's path hides pyarrow from pandas
        hide = work / "nopyarrow"
        hide.mkdir()
        (hide / "sitecustomize.py").write_text("import sys\nsys.modules['pyarrow'] = None\n")
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(hide), saved_path) if p)
    proc = L.start_server(store, indicators, port, bool(args.warmup), work / "server.log")
    if args.no_pyarrow:  # the worker only; schemathesis runs as it is
        if saved_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved_path
    points: dict[str, dict] = {}
    children = None
    try:
        body = None
        while body is None:
            if proc.poll() is not None or time.monotonic() - t0 > 120:
                sys.exit(f"the server did not start; see {work / 'server.log'}")
            time.sleep(0.05)
            body = L.health(port)
        points["ready"] = L.rss_mb(proc.pid)
        while args.warmup and not body.get("warm"):
            time.sleep(0.2)
            body = L.health(port) or body
        points["warm"] = L.rss_mb(proc.pid)
        client = L.Client(port, 300)
        for case in L.cases(L.samples(store)):
            try:
                client.get(case.path, case.accept)
            except OSError as exc:
                print(f"{case.label}: {exc}", file=sys.stderr)
        points["after_latency_endpoints"] = L.rss_mb(proc.pid)
        time.sleep(REST_SECONDS)
        points["after_latency_endpoints_at_rest"] = L.rss_mb(proc.pid)
        cmd = [sys.executable, "-m", "schemathesis.cli"]
        cmd += ["--config-file", str(SCHEMATHESIS_CONFIG)] if SCHEMATHESIS_CONFIG.exists() else []
        cmd += ["run", f"http://127.0.0.1:{port}/api", "--checks", "all", "--mode", "all"]
        cmd += ["-n", str(args.max_examples), "--generation-deterministic", "--workers", "1", "--no-color"]
        cmd += ["--request-timeout", "60"] + (["--include-method", "GET"] if args.get_only else [])
        t = time.monotonic()
        st = subprocess.run(cmd, cwd=work, capture_output=True, text=True, check=False)
        st_seconds = time.monotonic() - t
        points["after_schemathesis"] = L.rss_mb(proc.pid)
        children = children_peak_mb(proc.pid)
        time.sleep(REST_SECONDS)
        points["after_schemathesis_at_rest"] = L.rss_mb(proc.pid)
        tail = (st.stdout or "").strip().splitlines()[-3:]
    finally:
        L.stop(proc)
    for name, p in points.items():
        print(f"{name:<26} RSS {p['rss_mb']} MB (peak {p['peak_mb']} MB)")
    print(f"document process (alive at the end of schemathesis): peak {children} MB")
    print(f"schemathesis: exit {st.returncode} in {st_seconds:.0f} s; {' / '.join(tail)}")
    result = {
        "date": started.date().isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "warmup": bool(args.warmup),
        "pyarrow": not args.no_pyarrow,
        "schemathesis": {"max_examples": args.max_examples, "get_only": args.get_only, "exit": st.returncode},
        "load_average_after": L.load_average(),
        "goal_mb": 500,
        "rss": points,
        "rest_seconds": REST_SECONDS,
        "document_process_peak_mb": children,
        "env": {k: v for k, v in os.environ.items() if k.startswith(("MALLOC_", "PYTHONMALLOC"))},
    }
    out = args.out or L.RESULTS / f"memory-{started.date().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
