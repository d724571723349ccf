"""Spatial helpers of `geoborder fetch`: which unit holds a point, metric geometry, pack writers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoborder.sources.fetch.options import METRIC, WGS84


class Units:
    """Polygons of one admin level (any countries), for 'which unit holds / is nearest' questions."""

    def __init__(self, gdf: gpd.GeoDataFrame | None):
        self.gdf = gdf if gdf is not None and len(gdf) else None
        if self.gdf is not None:
            self.geoms_m = to_metric(self.gdf.geometry.values)
            self.tree = shapely.STRtree(self.geoms_m)

    def nearest(self, pts_m: np.ndarray, max_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Row of the unit holding or nearest each point (-1 beyond max_m), and the distance."""
        n = len(pts_m)
        if self.gdf is None or n == 0:
            return np.full(n, -1), np.full(n, np.inf)
        (pi, ui), dist = self.tree.query_nearest(pts_m, max_distance=max_m, return_distance=True, all_matches=False)
        idx = np.full(n, -1)
        d = np.full(n, np.inf)
        idx[pi] = ui
        d[pi] = dist
        return idx, d

    def value(self, idx: np.ndarray | Sequence[int], col: str) -> list:
        if self.gdf is None:
            return [None] * len(idx)
        vals = self.gdf[col].to_numpy()
        return [vals[i] if i >= 0 else None for i in idx]


def to_metric(geoms) -> np.ndarray:
    from geoborder.core.crs import reproject

    return reproject(np.asarray(geoms, dtype=object), WGS84, METRIC)


def concat_units(layers: Iterable) -> gpd.GeoDataFrame | None:
    """The units of several GbLayer, one frame, with their country in `_iso3` (None for no layer)."""
    frames = []
    for lyr in layers:
        g = lyr.gdf[["shapeName", "shapeISO", "shapeID", "geometry"]].copy()
        g["_iso3"] = lyr.iso3
        frames.append(g)
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)


# --------------------------------------------------------------------------- contract files


def write_geojson(gdf: gpd.GeoDataFrame, path: Path):
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(gdf, path, driver="GeoJSON", layer_options={"RFC7946": "YES"})


def write_csv(df: pd.DataFrame, path: Path):
    df.to_csv(path, index=False, encoding="utf-8")


def osm_name(tags: dict) -> str | None:
    return tags.get("name:vi") or tags.get("name") or None
