"""Benchmark of the expensive public requests of issue 13 (item 18): a natural-breaks legend on the
11,163 pre-2025 communes, and /indicators/links.

    .venv/bin/python bench/legend.py [--store var/geoborder.gpkg] [--parallel 4]

Reports, through the API (TestClient, in process):
- `legend_cold_ms`: the first /maps/legend of a new combination (natural breaks, k = 5..9, 2009
  units, whole country), each k a new combination so nothing is cached;
- `legend_warm_ms`: the same combination again (cached);
- `legend_parallel_ms`: `--parallel` requests of one new combination at once (a map page asks its
  legend, lookup and tiles together), the slowest of them;
- `links_cold_ms`, `links_warm_ms`, `links_bytes`: /indicators/links, first and again, and with
  If-None-Match (`links_304_ms`) when the answer has an ETag.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 1)


def run(store_path: Path, parallel: int) -> dict:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.store.open import open_store

    store = open_store(store_path)
    out: dict = {}
    with TestClient(create_app(store=store)) as c:
        c.get("/maps/legend?indicator=density&vintage=2009&area=all").raise_for_status()  # frames read
        cold = []
        for k in (5, 6, 7, 8, 9):
            t0 = time.perf_counter()
            c.get(
                f"/maps/legend?indicator=density&vintage=2009&area=all&classes=natural_breaks&k={k}"
            ).raise_for_status()
            cold.append(_ms(t0))
        out["legend_cold_ms"] = cold
        warm = []
        for _ in range(5):
            t0 = time.perf_counter()
            c.get("/maps/legend?indicator=density&vintage=2009&area=all&classes=natural_breaks&k=5")
            warm.append(_ms(t0))
        out["legend_warm_ms"] = statistics.median(warm)

        def one(_):
            t0 = time.perf_counter()
            c.get("/maps/legend?indicator=population&vintage=2009&area=all&classes=natural_breaks&k=5")
            return _ms(t0)

        with ThreadPoolExecutor(parallel) as pool:
            out["legend_parallel_ms"] = max(pool.map(one, range(parallel)))

        t0 = time.perf_counter()
        r = c.get("/indicators/links")
        out["links_cold_ms"] = _ms(t0)
        out["links_bytes"] = len(r.content)
        warm = []
        for _ in range(3):
            t0 = time.perf_counter()
            r = c.get("/indicators/links")
            warm.append(_ms(t0))
        out["links_warm_ms"] = statistics.median(warm)
        etag = r.headers.get("etag")
        out["links_etag"] = etag
        if etag:
            t0 = time.perf_counter()
            r = c.get("/indicators/links", headers={"If-None-Match": etag})
            out["links_304_ms"] = _ms(t0)
            out["links_304_status"] = r.status_code
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=ROOT / "var" / "geoborder.gpkg")
    ap.add_argument("--parallel", type=int, default=4)
    args = ap.parse_args()
    print(json.dumps(run(args.store, args.parallel), indent=1))


if __name__ == "__main__":
    main()
