"""Timing of the spatial queries on a built store, and the measurement behind the adjacency
tolerance of geoborder.queries.

    .venv/bin/python bench/queries.py                 # timings (store: GEOBORDER_STORE or var/geoborder.gpkg)
    .venv/bin/python bench/queries.py --store path.gpkg --repeat 50
    .venv/bin/python bench/queries.py --tolerance     # neighbour gap/overlap histogram (~2 min)

"cold" includes reading the layers and computing their metric geometries and trees (once per
store version); "warm" is the median of --repeat runs after that.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geoborder import queries as q
from geoborder.core.settings import StoreSettings
from geoborder.queries._common import _metric
from geoborder.queries._local import _nearest_roads
from geoborder.store.open import open_store


def _time(fn, repeat: int) -> tuple[float, float, object]:
    t = time.perf_counter()
    out = fn()
    cold = time.perf_counter() - t
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return cold, statistics.median(runs) if runs else float("nan"), out


def timings(store, repeat: int) -> None:
    n = len(store.frame("places"))
    cases = [
        (
            f"roadless-villages, every settlement ({n}), countries=all, > 0 m",
            lambda: q.roadless_villages(store, min_distance_m=0, countries="all"),
        ),
        ("roadless-villages, VN, > 2 km", lambda: q.roadless_villages(store, min_distance_m=2000)),
        (
            "roadless-villages, VN, > 2 km, <= 10 km of the border",
            lambda: q.roadless_villages(store, min_distance_m=2000, border_km=10),
        ),
        (
            f"nearest road of all {n} settlements, uncached (one STRtree.query_nearest)",
            lambda: _nearest_roads(store, _metric(store), None),
        ),
        ("roadless by commune, VN, > 2 km", lambda: q.roadless_by_commune(store, min_distance_m=2000)),
        ("touching Houaphanh within Sơn La", lambda: q.touching(store, "Houaphanh", within="14")),
        (
            "touching Lào Cai within Xín Mần (2009 adjacency)",
            lambda: q.touching(store, "Lào Cai", within="Xín Mần", vintage=2009),
        ),
        (
            "nearest 3 international gates from a point",
            lambda: q.nearest_gates(store, lon=103.9, lat=21.3, k=3, international_only=True),
        ),
        ("border zone 10 km, whole border", lambda: q.border_zone(store, distance_km=10)),
        ("commune profile 04045", lambda: q.commune_profile(store, "04045")),
    ]
    print(f"store {store.path} (version {store.version}); warm = median of {repeat} runs")
    for label, fn in cases:
        cold, warm, out = _time(fn, repeat)
        n_out = out.get("numberReturned") if isinstance(out, dict) else len(out[0])
        print(f"  {label:<62} cold {cold * 1000:8.1f} ms   warm {warm * 1000:8.2f} ms   ({n_out} features)")


def tolerance(store, step_m: float = 50.0, reach_m: float = 2000.0) -> None:
    """Signed distance from commune boundary samples to the nearest *other* commune."""
    import pandas as pd
    import shapely

    bins = [0, 50, 75, 100, 125, 150, 175, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000]
    for layer in ("communes_2009", "communes_2025"):
        t = time.perf_counter()
        g = q.metric_geometries(store, layer)
        pts, owner = shapely.get_coordinates(shapely.segmentize(shapely.boundary(g), step_m), return_index=True)
        P = shapely.points(pts)
        src, dst = shapely.STRtree(g).query(P, predicate="dwithin", distance=reach_m)
        keep = owner[src] != dst
        src, dst = src[keep], dst[keep]
        d = shapely.distance(P[src], g[dst])
        inside = d == 0
        d[inside] = -shapely.distance(P[src[inside]], shapely.boundary(g[dst[inside]]))  # overlap depth
        df = pd.DataFrame({"p": src, "d": d, "a": np.abs(d)}).sort_values("a").drop_duplicates("p")
        hist, _ = np.histogram(df["a"], bins=bins)
        print(
            f"{layer}: {len(P):,} boundary samples every {step_m:g} m, {len(df):,} with another commune "
            f"within {reach_m:g} m ({time.perf_counter() - t:.0f} s)"
        )
        print(
            f"  exactly shared: {np.mean(df['a'] < 0.01):.1%}; gaps {np.mean(df['d'] > 0.01):.1%}; "
            f"overlaps {np.mean(df['d'] < -0.01):.1%}"
        )
        for lo, hi, n in zip(bins[:-1], bins[1:], hist):
            print(f"  {lo:>5}-{hi:<5} m {n:>10,}")
    print("chosen (geoborder.queries.ADJACENCY_TOLERANCE_M):", q.ADJACENCY_TOLERANCE_M)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--tolerance", action="store_true", help="measure neighbour gaps/overlaps instead")
    args = ap.parse_args()
    store = open_store(args.store or StoreSettings().store)
    if args.tolerance:
        tolerance(store)
    else:
        timings(store, args.repeat)


if __name__ == "__main__":
    main()
