"""Geometry helpers of the build: the metric CRS round trip and the nearest unit of a point.

Every measure is taken in the catalog's metric CRS (VN-2000 / UTM 48N), never in degrees;
results are returned in EPSG:4326.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely import STRtree

from geoborder.core.crs import reproject

WGS84 = "EPSG:4326"


def to_metric(gdf: gpd.GeoDataFrame, metric_crs: str) -> np.ndarray:
    return reproject(gdf.geometry.values, WGS84, metric_crs)


def to_wgs84(geoms, metric_crs: str) -> np.ndarray:
    return reproject(np.asarray(geoms, dtype=object), metric_crs, WGS84)


def nearest(tree_geoms: np.ndarray, points: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Index of the polygon holding or nearest to each point (-1 beyond tol), and the distance.

    Point-in-polygon first (prepared geometries, cheap); for the points outside every polygon,
    the nearest of the polygons' boundaries cut into short pieces, so that one distance is never
    computed against a whole province outline.
    """
    tree_geoms = np.asarray(tree_geoms, dtype=object)
    idx = np.full(len(points), -1, dtype=np.int64)
    d = np.full(len(points), np.nan)
    if not len(points) or not len(tree_geoms):
        return idx, d
    # the polygons are the query side so that GEOS prepares them (each once)
    dst, src = STRtree(points).query(tree_geoms, predicate="intersects")
    order = np.lexsort((dst, src))  # lowest polygon index wins on a shared edge: deterministic
    src, dst = src[order], dst[order]
    first = np.unique(src, return_index=True)[1]
    idx[src[first]] = dst[first]
    d[src[first]] = 0.0
    rest = np.flatnonzero(idx < 0)
    if len(rest):
        rings, owner = shapely.get_parts(shapely.boundary(tree_geoms), return_index=True)
        coords, cidx = shapely.get_coordinates(rings, return_index=True)
        same = cidx[:-1] == cidx[1:]
        edges = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
        edge_owner = owner[cidx[:-1][same]]
        (s2, e2), dist = STRtree(edges).query_nearest(
            points[rest], max_distance=tol, return_distance=True, all_matches=False
        )
        idx[rest[s2]] = edge_owner[e2]
        d[rest[s2]] = dist
    return idx, d
