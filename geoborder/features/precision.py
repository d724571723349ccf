"""Coordinates rounded for output without making a geometry invalid.

Rounding every coordinate to a number of decimals can collapse a small ring (too few distinct
points) or make two rings touch: what rounding made invalid is snapped to the same grid with
GEOS' precision reducer instead (`shapely.set_precision`), which keeps the result valid by
removing what collapsed. Geometries that were invalid before rounding are left as they are.
"""

from __future__ import annotations

import numpy as np
import shapely


def rounded(geoms: np.ndarray, decimals: int) -> np.ndarray:
    """`geoms` with coordinates rounded to `decimals`, valid where they were valid."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    has = ~shapely.is_missing(geoms)
    if has.any():
        out[has] = shapely.transform(geoms[has], lambda c: np.round(c, decimals))
    return keep_valid(out, geoms, decimals)


def keep_valid(rounded_geoms: np.ndarray, original: np.ndarray, decimals: int) -> np.ndarray:
    """`rounded_geoms` (the rounding of `original`, possibly reprojected), with each one that
    rounding made invalid replaced by the original snapped to the grid of `decimals`."""
    out = np.asarray(rounded_geoms, dtype=object)
    has = ~shapely.is_missing(out)
    bad = np.zeros(len(out), dtype=bool)
    bad[has] = ~shapely.is_valid(out[has])
    if not bad.any():
        return out
    idx = np.flatnonzero(bad)
    idx = idx[shapely.is_valid(np.asarray(original, dtype=object)[idx])]  # invalid before: left alone
    if not len(idx):
        return out
    out = out.copy()
    grid = 10.0**-decimals
    for i in idx:
        try:
            fixed = shapely.set_precision(out[i], grid)
        except shapely.errors.GEOSException:
            fixed = shapely.make_valid(out[i])
        # the grid values written as the same decimals (set_precision leaves binary noise)
        again = shapely.transform(fixed, lambda c: np.round(c, decimals))
        out[i] = again if shapely.is_valid(again) else fixed
    return out
