"""Villages and hamlets (GeoNames points): which are kept, and the communes holding each.

The source (places_villages_geonames) holds every GeoNames populated place of the 25 pre-2025
border provinces. The build keeps one point per village:
- points without a GeoNames id (Who's On First localities from other sources, mostly towns) are
  left out: the layer is keyed by geonameid;
- abandoned or destroyed places (PPLQ, PPLW: `abandoned_or_destroyed`) are left out;
- the towns that are already in `places` (same geonameid) stay in `places` only: not doubled.
Each is counted in the build report. A kept village gets its 2025 and pre-2025 commune by
position: the commune holding it, else the nearest within `village_commune_tolerance_m` (57 % of
the points are on a whole-arc-minute grid, about ±1-2 km, so a point just outside a commune edge
or the coast is that rounding, not another commune).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoborder.build.geom import nearest, to_metric
from geoborder.build.report import DeriveReport

# (output field, commune layer field) per vintage
_FIELDS = {
    2025: (
        "communes_2025",
        {
            "commune_code_2025": "commune_code",
            "commune_name_2025": "name",
            "province_code_2025": "province_code",
            "province_name_2025": "province_name",
        },
    ),
    2009: (
        "communes_2009",
        {
            "commune_code_2009": "commune_code",
            "commune_name_2009": "name_full",
            "district_name_2009": "district_name",
            "province_code_2009": "province_code",
            "province_name_2009": "province_name",
        },
    ),
}


def select_villages(villages: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame, dict]:
    """The villages kept, and the counts of what was left out and why."""
    no_id = villages["geonameid"].isna().to_numpy()
    # one GeoNames record twice (two WOF ids): keep the finer position (not on the minute grid),
    # else the first in the file
    grid = villages["coord_minute_grid"].fillna(False).astype(bool).to_numpy()
    order = np.lexsort((np.arange(len(villages)), grid))
    repeated = np.zeros(len(villages), dtype=bool)
    ids = villages["geonameid"].to_numpy()[order]
    repeated[order] = pd.Series(ids).duplicated().to_numpy() & ~no_id[order]
    gone = villages["abandoned_or_destroyed"].fillna(False).astype(bool).to_numpy() & ~no_id & ~repeated
    towns = set(places["geonameid"].astype(str)) if places is not None else set()
    in_places = villages["geonameid"].isin(towns).to_numpy() & ~no_id & ~gone & ~repeated
    keep = ~(no_id | repeated | gone | in_places)
    counts = {
        "read": int(len(villages)),
        "kept": int(keep.sum()),
        "left_out_abandoned_or_destroyed": int(gone.sum()),
        "left_out_no_geonameid": int(no_id.sum()),
        "left_out_repeated_geonameid": int(repeated.sum()),
        "matched_to_towns": int(in_places.sum()),
        "kept_on_minute_grid": int(grid[keep].sum()),
    }
    return villages[keep].reset_index(drop=True), counts


def _method_part(vintage: int, i: int, d: float, tol: float) -> str:
    if i < 0:
        return f"{vintage}: none within {tol / 1000:g} km"
    return f"{vintage}: inside" if d == 0 else f"{vintage}: nearest, {d:.0f} m away"


def place_villages(
    villages: gpd.GeoDataFrame,
    *,
    places: gpd.GeoDataFrame | None,
    communes: dict[int, gpd.GeoDataFrame | None],
    metric_crs: str,
    tol: float,
    rep: DeriveReport,
) -> gpd.GeoDataFrame:
    """The kept villages with the communes (of each vintage there is) that hold them."""
    kept, counts = select_villages(villages, places)
    pts = to_metric(kept, metric_crs)
    methods: list[list[str]] = [[] for _ in range(len(kept))]
    for vintage, (_lid, fields) in _FIELDS.items():
        units = communes.get(vintage)
        if units is None:
            counts[f"commune_{vintage}"] = "no commune layer in this pack"
            continue
        idx, dist = nearest(to_metric(units, metric_crs), pts, tol)
        ok = idx >= 0
        for out, src in fields.items():
            vals = np.full(len(kept), None, dtype=object)
            vals[ok] = units[src].to_numpy()[idx[ok]]
            kept[out] = vals
        for k, (i, d) in enumerate(zip(idx, dist)):
            methods[k].append(_method_part(vintage, int(i), float(d), tol))
        counts[f"commune_{vintage}"] = {
            "inside": int((ok & (dist == 0)).sum()),
            "nearest_within_tolerance": int((ok & (dist > 0)).sum()),
            "none": int((~ok).sum()),
        }
        pcol = "province_name_2009" if vintage == 2009 else "province_name_2025"
        per = pd.Series(kept[pcol]).dropna().value_counts().sort_index()
        counts[f"per_province_{vintage}"] = {str(k): int(v) for k, v in per.items()}
    kept["commune_method"] = ["; ".join(m) or None for m in methods]
    rep.measures["villages"] = counts
    rep.notes.append(
        f"villages: {counts['kept']:,} kept of {counts['read']:,} read; left out "
        f"{counts['left_out_abandoned_or_destroyed']} abandoned or destroyed and "
        f"{counts['left_out_no_geonameid']} without a GeoNames id (and {counts['left_out_repeated_geonameid']} "
        f"repeats of one GeoNames record); {counts['matched_to_towns']} are towns "
        f"already in `places` (same geonameid), kept there only. {counts['kept_on_minute_grid']:,} kept "
        f"points lie on a whole-arc-minute grid (about ±1-2 km)"
    )
    return kept
