"""Hillshade PNG tiles on WebMercatorQuad from the DEM the store was built from.

The DEM is the copy the build writes beside the store (geoborder/build/terrain.py,
`var/geoborder.gpkg` -> `var/geoborder.dem.tif`, tagged with the store's fingerprint); a store
whose build report names the copy elsewhere (a PostGIS store published from a GeoPackage) reads
it there. A copy whose fingerprint is not the store's is not used: no relief rather than the
relief of another build.

A tile: the DEM window under the tile (read at about the tile's resolution, so the overviews
serve the low zooms) is reprojected with rasterio.warp.reproject into the tile's EPSG:3857 grid
(bilinear), one pixel of margin on each side for the slopes. The hillshade is the usual one
(Horn's 3x3 gradients, sun azimuth 315°, altitude 45°): elevations are metres and the pixel size
is taken in ground metres, the Web Mercator pixel times cos(latitude) of its row, so no z-factor
is needed whatever the DEM's own CRS (degrees or metres). A coarse DEM smooths the slopes away
(ETOPO5's 9 km cells put Fansipan at 1,219 m), so the shading, and only the shading, is
exaggerated vertically by the DEM's cell size in km, between 1 (GLO-30: none) and 5. The result is grey with a constant
alpha (it is drawn under the choropleth); cells with no data, and at or below 0 m (the sea: ETOPO5
holds the sea floor), are transparent, and a tile the DEM does not reach is empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
import rasterio.windows
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.warp import reproject
from rasterio.windows import from_bounds as window_from_bounds

from geoborder.core.cache import LRU
from geoborder.core.tilegrid import TILE_SIZE, tile_bounds, tile_lonlat_bounds

AZIMUTH_DEG = 315.0
ALTITUDE_DEG = 45.0
ALPHA = 160  # of 255: the relief shows through the choropleth above it
R_EARTH = 6378137.0
MAX_EXAGGERATION = 5.0
DEM_COPY_SUFFIX = ".dem.tif"  # as geoborder.build.terrain writes it
FINGERPRINT_TAG = "GEOBORDER_FINGERPRINT"


@dataclass(frozen=True)
class StoreDem:
    path: Path
    label: str  # the DEM's source and resolution, as the build labelled it
    bounds: tuple[float, float, float, float]  # lon/lat
    key: str  # what the tiles' cache key and ETag hold: the DEM's fingerprint
    cell_m: float  # the DEM's cell size in ground metres (north-south)

    @property
    def exaggeration(self) -> float:
        """Vertical exaggeration of the shading: the cell size in km, within 1..5."""
        return min(MAX_EXAGGERATION, max(1.0, self.cell_m / 1000.0))


_DEMS = LRU(8)


def store_dem(store) -> StoreDem | None:
    """The DEM of the store (None when it has none), looked up once per data version."""
    return _DEMS.get_or_make((id(store), store.version), lambda: _find(store))


def _find(store) -> StoreDem | None:
    info = store.build_info() or {}
    fp = info.get("fingerprint")
    dem = (info.get("report") or {}).get("dem") or {}
    candidates = []
    path = getattr(store, "path", None)
    if path is not None:
        candidates.append(Path(path).with_name(Path(path).stem + DEM_COPY_SUFFIX))
    if dem.get("copy"):
        candidates.append(Path(dem["copy"]))
    for c in candidates:
        if not c.exists():
            continue
        with rasterio.open(c) as ds:
            tag = ds.tags().get(FINGERPRINT_TAG)
            if fp and tag != fp:
                continue  # another build's copy
            b = ds.bounds
            if ds.crs is not None and not ds.crs.is_geographic:
                from rasterio.warp import transform_bounds

                b = transform_bounds(ds.crs, "EPSG:4326", *b)
            label = ds.tags().get("GEOBORDER_DEM") or dem.get("label") or c.name
            cell_m = abs(ds.res[1]) * (111_320.0 if ds.crs is None or ds.crs.is_geographic else 1.0)
            return StoreDem(c, label, (b[0], b[1], b[2], b[3]), tag or str(c.stat().st_mtime_ns), cell_m)
    return None


def _disjoint(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def elevation_3857(dem: StoreDem, z: int, x: int, y: int, margin: int = 1) -> np.ndarray | None:
    """The DEM on the tile's EPSG:3857 grid, `margin` pixels around it (NaN where no data); None
    when the DEM does not reach the tile."""
    lonlat = tile_lonlat_bounds(z, x, y)
    if _disjoint(lonlat, dem.bounds):
        return None
    x0, y0, x1, y1 = tile_bounds(z, x, y)
    px = (x1 - x0) / TILE_SIZE
    n = TILE_SIZE + 2 * margin
    dst_t = from_bounds(x0 - margin * px, y0 - margin * px, x1 + margin * px, y1 + margin * px, n, n)
    out = np.full((n, n), np.nan, dtype="float32")
    with rasterio.open(dem.path) as ds:
        # the source window under the tile (a few cells of margin), read at about the tile's
        # resolution: GDAL takes the overview that fits
        lon0, lat0, lon1, lat1 = lonlat
        pad_x = max((lon1 - lon0) / TILE_SIZE * (margin + 2), 2 * abs(ds.res[0]))
        pad_y = max((lat1 - lat0) / TILE_SIZE * (margin + 2), 2 * abs(ds.res[1]))
        if ds.crs is not None and not ds.crs.is_geographic:
            from rasterio.warp import transform_bounds

            lon0, lat0, lon1, lat1 = transform_bounds("EPSG:4326", ds.crs, *lonlat)
            pad_x = pad_y = 2 * max(abs(ds.res[0]), abs(ds.res[1]), px)
        win = window_from_bounds(lon0 - pad_x, lat0 - pad_y, lon1 + pad_x, lat1 + pad_y, ds.transform)
        c0, r0 = math.floor(win.col_off), math.floor(win.row_off)
        win = rasterio.windows.Window(
            c0, r0, math.ceil(win.col_off + win.width) - c0, math.ceil(win.row_off + win.height) - r0
        )
        full = rasterio.windows.Window(0, 0, ds.width, ds.height)
        try:
            win = win.intersection(full)
        except rasterio.errors.WindowError:
            return None
        scale = max(1.0, min(win.width, win.height) / (2 * n))  # no finer than twice the tile's pixels
        shape = (max(2, int(win.height / scale)), max(2, int(win.width / scale)))
        src = ds.read(1, window=win, out_shape=shape, resampling=Resampling.bilinear, masked=True)
        src_t = ds.window_transform(win) @ rasterio.Affine.scale(win.width / shape[1], win.height / shape[0])
        arr = src.astype("float32").filled(np.nan)
        reproject(
            arr,
            out,
            src_transform=src_t,
            src_crs=ds.crs or "EPSG:4326",
            src_nodata=np.nan,
            dst_transform=dst_t,
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    return out


def hillshade(elev: np.ndarray, top_y: float, px: float, exaggeration: float = 1.0) -> np.ndarray:
    """Hillshade (0..1) of the inner cells of `elev` (EPSG:3857 grid, metres, one cell of margin),
    `top_y` the 3857 y of its top edge, `px` its pixel size in 3857 metres."""
    rows = elev.shape[0]
    ys = top_y - (np.arange(rows) + 0.5) * px
    lat = np.degrees(2 * np.arctan(np.exp(ys / R_EARTH)) - math.pi / 2)
    ground = (px * np.cos(np.radians(lat)))[1:-1, None]  # metres on the ground per pixel, per row
    e = elev * exaggeration
    # Horn's method: 3x3 weighted differences
    dzdx = ((e[:-2, 2:] + 2 * e[1:-1, 2:] + e[2:, 2:]) - (e[:-2, :-2] + 2 * e[1:-1, :-2] + e[2:, :-2])) / (8 * ground)
    dzdy = ((e[2:, :-2] + 2 * e[2:, 1:-1] + e[2:, 2:]) - (e[:-2, :-2] + 2 * e[:-2, 1:-1] + e[:-2, 2:])) / (8 * ground)
    # dzdy is positive southwards (rows grow to the south)
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(dzdy, -dzdx)
    zen = math.radians(90.0 - ALTITUDE_DEG)
    az = math.radians(360.0 - AZIMUTH_DEG + 90.0)
    shade = math.cos(zen) * np.cos(slope) + math.sin(zen) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def hillshade_png(store, z: int, x: int, y: int) -> bytes | None:
    """The hillshade tile (RGBA PNG), None when the store has no DEM or the tile has no land."""
    from geoborder.tiles.render import encode_png

    dem = store_dem(store)
    if dem is None:
        return None
    elev = elevation_3857(dem, z, x, y)
    if elev is None:
        return None
    inner = elev[1:-1, 1:-1]
    land = np.isfinite(inner) & (inner > 0)
    if not land.any():
        return None
    x0, _, x1, y1 = tile_bounds(z, x, y)
    px = (x1 - x0) / TILE_SIZE
    filled = np.where(np.isfinite(elev), np.maximum(elev, 0.0), 0.0)  # the sea as 0 m for the slopes
    shade = hillshade(filled, y1 + px, px, dem.exaggeration)
    grey = np.round(shade * 255).astype("uint8")
    rgba = np.zeros((4, TILE_SIZE, TILE_SIZE), dtype="uint8")
    rgba[0] = rgba[1] = rgba[2] = grey
    rgba[3] = np.where(land, ALPHA, 0).astype("uint8")
    return encode_png(rgba)
