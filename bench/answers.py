"""What a spatial answer costs computed and held (geoborder.queries.answers), in process.

For each of the slow questions of issue 18: the answer computed with the cache cleared (the
question's work, the GeoJSON, orjson and gzip: what a first request with new parameters costs
once the per-version inputs exist, as after the warm-up) and the same request again (a lookup of
the held gzip). Medians of --repeat runs; the size of the JSON and of the held gzip.

    .venv/bin/python bench/answers.py [--store var/geoborder.gpkg] [--repeat 5]

Timings only here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geoborder import queries as q
from geoborder.queries import answers as A
from geoborder.store.open import open_store
from geoborder.warmup import Warmup

CASES = {
    "roadless by commune (defaults)": (q.roadless_by_commune_answer, {}),
    "roadless villages (defaults)": (q.roadless_villages_answer, {}),
    "border zone 10 km (defaults)": (q.border_zone_answer, {}),
    "border zone 5 km facing Laos": (q.border_zone_answer, {"distance_km": 5.0, "partner": "LAO"}),
    "touching Lào Cai": (q.touching_answer, {"unit": "Lào Cai"}),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default="var/geoborder.gpkg")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    store = open_store(args.store)
    w = Warmup(store, None)
    for step in w.steps:  # the per-version inputs the questions read (as after the warm-up)
        if step.name in ("layers", "metric"):
            step.run()
    out = {"load_average_before": list(os.getloadavg()), "cases": {}}
    for name, (ask, kw) in CASES.items():
        ask(store, **kw)
        computed, held = [], []
        for _ in range(args.repeat):
            A.ANSWERS.clear()
            t = time.perf_counter()
            ask(store, **kw)
            computed.append(time.perf_counter() - t)
            t = time.perf_counter()
            a = ask(store, **kw)
            held.append(time.perf_counter() - t)
        out["cases"][name] = {
            "computed_median_s": round(statistics.median(computed), 3),
            "held_median_ms": round(statistics.median(held) * 1000, 3),
            "json_bytes": a.size,
            "gzip_bytes": a.nbytes,
        }
        print(
            f"{name}: computed {statistics.median(computed):.3f} s, held {statistics.median(held) * 1000:.3f} ms, "
            f"{a.size:,} B JSON, {a.nbytes:,} B gzip"
        )
    out["load_average_after"] = list(os.getloadavg())
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
