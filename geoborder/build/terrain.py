"""Terrain of each commune: zonal statistics of the pack's DEM (rasterio), and its villages' heights.

For each commune, the DEM cells whose centre lies inside the commune polygon (rasterio's
`geometry_mask`, in the DEM's own CRS, read in the window of the commune's bounds) give the mean,
lowest and highest elevation and the share of cells above `dem_high_m`. Cells with no data are
left out. A cell below 0 m is read as 0 m: the cell's centre is inside a commune, so it is land
(or coast) that the DEM puts below sea level. ETOPO5 does that along the coasts and over much of
the Mekong delta (Cần Thơ reads -10 m), and a sea depth is not a commune's elevation. A commune that holds no cell centre (smaller
than a cell, or a thin strip) takes the one cell under its centroid, and `elev_method` says so.

The development pack's DEM is ETOPO5: 5′ cells, about 9 km. That is coarse: it smooths the relief
(Fansipan reads 1,219 m, true 3,143 m), so the figures are a regional picture, not the commune's
own terrain; most pre-2025 communes are smaller than one cell. `elev_source` names the DEM and its
resolution on every row.

The villages' own elevations (GeoNames `dem_m`, SRTM-based) are summarised per commune too:
median, highest, and the name of the highest village.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import shapely

from geoborder.core.crs import reproject

CELLS_INSIDE = "cells inside"
CENTROID_CELL = "centroid cell (commune smaller than a DEM cell)"
NO_LAND_CELL = "no DEM cell (outside the DEM's extent)"

TERRAIN_FIELDS = (
    "elev_mean_m",
    "elev_min_m",
    "elev_max_m",
    "elev_above_1000m_pct",
    "elev_cells",
    "elev_method",
    "elev_source",
)
VILLAGE_FIELDS = ("village_elev_median_m", "village_elev_max_m", "village_highest")


@dataclass
class Dem:
    values: np.ndarray  # float64, NaN where no data or sea
    transform: rasterio.Affine
    crs: str
    label: str
    cell_km: float


def read_dem(path: Path, attribution: str) -> Dem:
    """The DEM's first band as floats (no data as NaN, below 0 m read as 0 m), with a label that
    names the source and the cell size."""
    with rasterio.open(path) as ds:
        arr = ds.read(1).astype("float64")
        if ds.nodata is not None:
            arr[arr == ds.nodata] = np.nan
        arr[arr < 0] = 0.0  # below sea level in the DEM: coast or delta land, read as 0 m
        res_x, res_y = ds.res
        if ds.crs is not None and ds.crs.is_geographic:
            cell_km = res_y * 111.32
            if res_y * 60 >= 1:
                size = f"{res_y * 60:.3g}′ cells (~{cell_km:.0f} km)"
            else:  # finer than an arc-minute (GLO-30: 1″, ~30 m)
                size = f"{res_y * 3600:.3g}″ cells (~{cell_km * 1000:.0f} m)"
        else:
            cell_km = res_y / 1000.0
            size = f"{res_y:.0f} m cells"
        crs = ds.crs.to_string() if ds.crs is not None else "EPSG:4326"
        return Dem(arr, ds.transform, crs, f"{attribution}; {size}", cell_km)


def _centre_ranges(bounds: np.ndarray, t: rasterio.Affine, rows: int, cols: int):
    """Per geometry, the rows and columns [r0, r1) x [c0, c1) of the cells whose centre lies in
    its bounding box (a north-up grid; empty when no centre does)."""
    minx, miny, maxx, maxy = bounds.T
    # column of a centre: x = t.c + (col + 0.5) * t.a; row: y = t.f + (row + 0.5) * t.e (t.e < 0)
    c0 = np.ceil((minx - t.c) / t.a - 0.5)
    c1 = np.floor((maxx - t.c) / t.a - 0.5) + 1
    r0 = np.ceil((maxy - t.f) / t.e - 0.5)
    r1 = np.floor((miny - t.f) / t.e - 0.5) + 1

    def clip(v, hi):
        return np.clip(np.nan_to_num(v, nan=0), 0, hi).astype(np.int64)

    return clip(r0, rows), clip(r1, rows), clip(c0, cols), clip(c1, cols)


def zonal_stats(geoms_dem: np.ndarray, dem: Dem, high_m: float) -> pd.DataFrame:
    """The terrain fields of each geometry (given in the DEM's CRS), one row per geometry.

    The cells of a geometry are those whose centre lies inside it: `geometry_mask` over the
    cells whose centre is in its bounding box (none there: none inside, no mask needed)."""
    t = dem.transform
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise ValueError(f"the DEM grid is not north-up ({t}): reproject it to a north-up grid first")
    n = len(geoms_dem)
    mean = np.full(n, np.nan)
    vmin = np.full(n, np.nan)
    vmax = np.full(n, np.nan)
    high = np.full(n, np.nan)
    cells = np.zeros(n, dtype=np.int64)
    method = np.full(n, NO_LAND_CELL, dtype=object)
    rows, cols = dem.values.shape
    ok = ~(shapely.is_missing(geoms_dem) | shapely.is_empty(geoms_dem))
    bounds = np.full((n, 4), np.nan)
    bounds[ok] = shapely.bounds(geoms_dem[ok])
    r0, r1, c0, c1 = _centre_ranges(bounds, t, rows, cols)
    cent = np.full(n, None, dtype=object)
    cent[ok] = shapely.centroid(geoms_dem[ok])
    with rasterio.Env():
        for i in np.flatnonzero(ok):
            vals = np.array([])
            if r1[i] > r0[i] and c1[i] > c0[i]:
                # the window's own transform (north-up: the grid's, moved to its first cell)
                wt = rasterio.Affine(t.a, 0.0, t.c + c0[i] * t.a, 0.0, t.e, t.f + r0[i] * t.e)
                inside = rasterio.features.geometry_mask(
                    [geoms_dem[i]], out_shape=(int(r1[i] - r0[i]), int(c1[i] - c0[i])), transform=wt, invert=True
                )
                vals = dem.values[r0[i] : r1[i], c0[i] : c1[i]][inside]
                vals = vals[~np.isnan(vals)]
                if len(vals):
                    method[i] = CELLS_INSIDE
            if not len(vals):  # no cell centre inside: the cell under the centroid
                c = cent[i]
                r, cc = int(np.floor((c.y - t.f) / t.e)), int(np.floor((c.x - t.c) / t.a))
                if 0 <= r < rows and 0 <= cc < cols and not np.isnan(dem.values[r, cc]):
                    vals = np.array([dem.values[r, cc]])
                    method[i] = CENTROID_CELL
            if len(vals):
                mean[i] = round(float(vals.mean()), 1)
                vmin[i], vmax[i] = vals.min(), vals.max()
                high[i] = round(100.0 * float((vals > high_m).sum()) / len(vals), 1)
                cells[i] = len(vals)
    return pd.DataFrame(
        {
            "elev_mean_m": pd.array(mean, dtype="Float64"),
            "elev_min_m": pd.array([None if np.isnan(v) else int(v) for v in vmin], dtype="Int64"),
            "elev_max_m": pd.array([None if np.isnan(v) else int(v) for v in vmax], dtype="Int64"),
            "elev_above_1000m_pct": pd.array(high, dtype="Float64"),
            "elev_cells": pd.array(cells, dtype="Int64"),
            "elev_method": method,
            "elev_source": np.full(n, dem.label, dtype=object),
        }
    )


def village_elevations(codes: np.ndarray, villages: gpd.GeoDataFrame | None, code_field: str) -> pd.DataFrame:
    """Median and highest village elevation (GeoNames dem_m) and the highest village, per commune."""
    out = pd.DataFrame(index=pd.Index(codes, name="code"))
    out["village_elev_median_m"] = pd.array([None] * len(codes), dtype="Float64")
    out["village_elev_max_m"] = pd.array([None] * len(codes), dtype="Int64")
    out["village_highest"] = pd.Series([None] * len(codes), index=out.index, dtype=object)
    if villages is None or code_field not in villages.columns or not len(villages):
        return out.reset_index(drop=True)
    v = pd.DataFrame(
        {
            "code": villages[code_field],
            "dem": pd.to_numeric(villages["dem_m"], errors="coerce"),
            "name": villages["name"],
            "id": villages["geonameid"],
        }
    ).dropna(subset=["code", "dem"])
    v = v.sort_values(["code", "dem", "id"], ascending=[True, False, True], kind="stable")
    g = v.groupby("code", sort=True)
    med = g["dem"].median()
    top = g.head(1).set_index("code")
    known = out.index.isin(med.index)
    out.loc[known, "village_elev_median_m"] = med.reindex(out.index[known]).round(1).to_numpy()
    out.loc[known, "village_elev_max_m"] = top["dem"].reindex(out.index[known]).astype("int64").to_numpy()
    out.loc[known, "village_highest"] = top["name"].reindex(out.index[known]).to_numpy()
    return out.reset_index(drop=True)


def commune_terrain(
    communes: gpd.GeoDataFrame, dem: Dem | None, high_m: float, villages: gpd.GeoDataFrame | None, vintage: int
) -> tuple[gpd.GeoDataFrame, dict]:
    """The commune layer with its terrain fields filled, and what the report says about it."""
    out = communes.copy()
    summary: dict = {}
    if dem is not None:
        geoms = np.asarray(out.geometry.values, dtype=object)
        if dem.crs != "EPSG:4326":
            geoms = reproject(geoms, "EPSG:4326", dem.crs)
        stats = zonal_stats(geoms, dem, high_m)
        for col in TERRAIN_FIELDS:
            out[col] = stats[col].to_numpy() if col in ("elev_method", "elev_source") else stats[col].array
        summary = {
            "dem": dem.label,
            "cell_km": round(dem.cell_km, 2),
            "cells_inside": int((stats["elev_method"] == CELLS_INSIDE).sum()),
            "centroid_cell": int((stats["elev_method"] == CENTROID_CELL).sum()),
            "no_land_cell": int((stats["elev_method"] == NO_LAND_CELL).sum()),
        }
    vel = village_elevations(out["commune_code"].astype(str).to_numpy(), villages, f"commune_code_{vintage}")
    for col in VILLAGE_FIELDS:
        out[col] = vel[col].array if col != "village_highest" else vel[col].to_numpy()
    summary["communes_with_village_elevation"] = int(vel["village_elev_max_m"].notna().sum())
    return out, summary


# --------------------------------------------------------------------------- the store's DEM copy
#
# The hillshade tiles (geoborder/tiles/hillshade.py) read the DEM the store was built from. The
# build writes a copy beside the store (`var/geoborder.gpkg` -> `var/geoborder.dem.tif`): a tiled,
# DEFLATE-compressed GeoTIFF with overviews, tagged with the store's fingerprint. A GeoTIFF because
# GDAL/rasterio read its windows and overviews directly and cheaply (a raster table inside the
# GeoPackage would need the gridded-coverage extension, written by a second GDAL driver into the
# file the vector writer builds, for no gain); beside the store because the pack may move or
# change after the build, and the tag tells a reader whether the copy belongs to the store it has.

DEM_COPY_SUFFIX = ".dem.tif"
FINGERPRINT_TAG = "GEOBORDER_FINGERPRINT"


def dem_copy_path(store: Path) -> Path:
    """Where the build puts the DEM of the store at `store`."""
    store = Path(store)
    return store.with_name(store.stem + DEM_COPY_SUFFIX)


def write_dem_copy(src: Path, store: Path, fingerprint: str, label: str) -> Path:
    """The DEM `src` copied to a temporary file beside `store` (tiled, compressed, overviews, the
    fingerprint and label as tags); the caller renames it to dem_copy_path(store)."""
    import rasterio.shutil
    from rasterio.enums import Resampling

    tmp = Path(store).with_name(f".building-{Path(store).stem}{DEM_COPY_SUFFIX}")
    tmp.unlink(missing_ok=True)
    rasterio.shutil.copy(
        src, tmp, driver="GTiff", TILED="YES", BLOCKXSIZE=256, BLOCKYSIZE=256, COMPRESS="DEFLATE", BIGTIFF="IF_SAFER"
    )
    with rasterio.open(tmp, "r+") as ds:
        factors = [f for f in (2, 4, 8, 16, 32, 64, 128) if min(ds.width, ds.height) // f >= 64]
        if factors:
            ds.build_overviews(factors, Resampling.average)
        ds.update_tags(**{FINGERPRINT_TAG: fingerprint, "GEOBORDER_DEM": label})
    return tmp
