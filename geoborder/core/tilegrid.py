"""The tile grid (WebMercatorQuad, morecantile): tile ids, their bounds, the served zooms.

Shared by the tile renderers (geoborder.tiles) and the PostGIS tile SQL.
"""

from __future__ import annotations

from functools import lru_cache

import morecantile

from geoborder.core.errors import InvalidParameter, NotFound

TMS_ID = "WebMercatorQuad"
TILE_SIZE = 256
MVT_EXTENT = 4096
MVT_BUFFER = 64  # tile units kept around the tile when clipping (both MVT renderers)
MIN_ZOOM, MAX_ZOOM = 0, 18
OUTLINE_FROM_ZOOM = 8
PNG = "image/png"
MVT = "application/vnd.mapbox-vector-tile"


@lru_cache(maxsize=1)
def tms() -> morecantile.TileMatrixSet:
    return morecantile.tms.get(TMS_ID)


def check_tms(tms_id: str) -> None:
    if tms_id != TMS_ID:
        raise InvalidParameter(f"tileMatrixSetId: only {TMS_ID} is served, not {tms_id!r}")


def check_tile(z: int, x: int, y: int) -> None:
    """400 for a zoom level that is not served; 404 for an x/y outside the tile matrix of that
    zoom (OGC API - Tiles /req/tileset/tm-limits: the tile does not exist)."""
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise InvalidParameter(f"z: zoom level {z} is outside {MIN_ZOOM}..{MAX_ZOOM}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise NotFound(f"x/y: tile {z}/{x}/{y} does not exist (x and y are 0..{n - 1} at zoom {z})")


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile's box in EPSG:3857 metres."""
    b = tms().xy_bounds(morecantile.Tile(x, y, z))
    return b.left, b.bottom, b.right, b.top


def tile_lonlat_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    b = tms().bounds(morecantile.Tile(x, y, z))
    return b.left, b.bottom, b.right, b.top
