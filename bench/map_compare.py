"""Benchmark of the compare pages (issue 15): a change map and two maps side by side.

    .venv/bin/python bench/map_compare.py [--store var/geoborder.gpkg] [--repeat 5]

Reports, server side (FastAPI TestClient, one process):
On a warm worker (it waits for /health's "warm": true), as the goal of issue 18 is put:
- the change map of the made-up Sơn La review (tests/fixtures, imported into a throwaway
  indicator database): first legend (cold: both years' maps, the change and its classes) and
  cached; its page's size;
- two maps side by side: the population of the 2009 and the 2025 units, for Sơn La and the whole
  country: first page (cold) and cached, size raw and gzip.
The store is opened read-only; nothing is written into var/.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIX = ROOT / "tests" / "fixtures" / "indicators_madeup_sonla_review_2017_2024_pre2025.csv"


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", default=str(ROOT / "var" / "geoborder.gpkg"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.indicators.db import IndicatorDB
    from geoborder.indicators.importing import import_file
    from geoborder.store.open import open_store

    store = open_store(Path(args.store))
    with tempfile.TemporaryDirectory() as tmp:
        db = IndicatorDB(Path(tmp) / "indicators.sqlite")
        import_file(store, db, FIX.read_bytes(), FIX.name, vintage=2009)
        with TestClient(create_app(store=store, indicators=db)) as api:
            # the goal is of a first request on a warm server (issue 18): wait for the warm-up
            t0 = time.perf_counter()
            while not api.get("/health").json().get("warm", True) and _ms(t0) < 300_000:
                time.sleep(0.25)
            print(f"warm after {_ms(t0) / 1000:.1f} s")
            change = {"indicator": "poverty_rate", "vintage": 2009, "area": "303", "from": 2017, "year": 2024}
            t0 = time.perf_counter()
            assert api.get("/maps/legend", params=change).status_code == 200
            cold = _ms(t0)
            warm = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                api.get("/maps/legend", params=change)
                warm.append(_ms(t0))
            page = {k: v for k, v in change.items() if k != "indicator"}
            t0 = time.perf_counter()
            html = api.get("/maps/poverty_rate", params=page).content
            page_ms = _ms(t0)
            print(
                f"change map, Sơn La 2009 units, 2017 -> 2024: legend cold {cold:.0f} ms, cached median "
                f"{statistics.median(warm):.1f} ms; page {page_ms:.0f} ms, {len(html) / 1024:.0f} kB "
                f"({len(gzip.compress(html)) / 1024:.0f} kB gzip)"
            )
            for area in ("14", "all"):
                url = f"/maps/population/compare?area={area}"
                t0 = time.perf_counter()
                r = api.get(url)
                cold = _ms(t0)
                assert r.status_code == 200, r.text[-300:]
                warm = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    api.get(url)
                    warm.append(_ms(t0))
                body = r.content
                print(
                    f"side by side, population 2009 | 2025 units, area={area}: first {cold:.0f} ms, cached median "
                    f"{statistics.median(warm):.1f} ms; {len(body) / 1024:.0f} kB ({len(gzip.compress(body)) / 1024:.0f} kB gzip)"
                )


if __name__ == "__main__":
    main()
