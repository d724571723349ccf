"""The GeoJSON of the answers, built for one orjson call: geometries as their rounded coordinate
arrays (numpy, serialised by orjson in C) instead of a GeoJSON text parsed back into Python
lists, and properties cleaned by a fast path for the plain values (str, int, bool, None).

The bytes are those the former `_common._features` gave: coordinates rounded to 6 decimals by
`_common._round_coords` (kept valid), each written by orjson in its shortest form, so the same
double gives the same text. `features` takes the place of `_common._features`, `collection` of
`_common._collection`."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import orjson
import shapely

from geoborder.queries._common import _clean, _round_coords

_PLAIN = (str, int, bool, type(None))


def clean(v):
    """`_common._clean` with a fast path: a str, int, bool or None is itself, a float is itself
    unless it is not finite (None); anything else (numpy scalars, NA, lists, dicts) as before."""
    t = type(v)
    if t in _PLAIN:
        return v
    if t is float:
        return v if math.isfinite(v) else None
    if t is list or t is tuple:
        return [clean(x) for x in v]
    if t is dict:
        return {k: clean(x) for k, x in v.items()}
    return _clean(v)


_TYPES = {
    shapely.GeometryType.POINT: "Point",
    shapely.GeometryType.LINESTRING: "LineString",
    shapely.GeometryType.POLYGON: "Polygon",
    shapely.GeometryType.MULTIPOINT: "MultiPoint",
    shapely.GeometryType.MULTILINESTRING: "MultiLineString",
    shapely.GeometryType.MULTIPOLYGON: "MultiPolygon",
}


def _rings(polygons: np.ndarray) -> list[list[np.ndarray]]:
    """The rings (exterior first) of each polygon, as (n, 2) coordinate arrays."""
    rings, owner = shapely.get_rings(polygons, return_index=True)
    coords, cidx = shapely.get_coordinates(rings, return_index=True)
    cuts = np.searchsorted(cidx, np.arange(1, len(rings)))
    arrays = np.split(coords, cuts) if len(rings) else []
    out: list[list[np.ndarray]] = [[] for _ in range(len(polygons))]
    for o, a in zip(owner.tolist(), arrays):
        out[o].append(a)
    return out


def _lines(lines: np.ndarray) -> list[np.ndarray]:
    coords, cidx = shapely.get_coordinates(lines, return_index=True)
    return np.split(coords, np.searchsorted(cidx, np.arange(1, len(lines)))) if len(lines) else []


def geometries(geoms: np.ndarray) -> list[dict | None]:
    """GeoJSON geometry objects of (already rounded) geometries, their coordinates as numpy
    arrays; None for a missing or empty one. A geometry with z, or a collection, goes through
    its GeoJSON text (as before)."""
    geoms = np.asarray(geoms, dtype=object)
    out: list[dict | None] = [None] * len(geoms)
    ok = ~shapely.is_missing(geoms)
    ok[ok] = ~shapely.is_empty(geoms[ok])
    if not ok.any():
        return out
    kinds = np.full(len(geoms), -1)
    kinds[ok] = shapely.get_type_id(geoms[ok])
    odd = ok.copy()
    odd[ok] = shapely.has_z(geoms[ok])
    for j in np.flatnonzero(odd | (ok & ~np.isin(kinds, list(_TYPES)))).tolist():
        out[j] = orjson.loads(shapely.to_geojson(geoms[j]))
        ok[j] = False
    for kind, name in _TYPES.items():
        rows = np.flatnonzero(ok & (kinds == kind))
        if not len(rows):
            continue
        g = geoms[rows]
        if kind == shapely.GeometryType.POINT:
            coords = shapely.get_coordinates(g)
            items: Iterable = coords
        elif kind == shapely.GeometryType.LINESTRING:
            items = _lines(g)
        elif kind == shapely.GeometryType.POLYGON:
            items = _rings(g)
        else:
            parts, owner = shapely.get_parts(g, return_index=True)
            if kind == shapely.GeometryType.MULTIPOINT:
                sub: list = list(shapely.get_coordinates(parts))
            elif kind == shapely.GeometryType.MULTILINESTRING:
                sub = _lines(parts)
            else:
                sub = _rings(parts)
            grouped: list[list] = [[] for _ in range(len(g))]
            for o, s in zip(owner.tolist(), sub):
                grouped[o].append(s)
            items = grouped
        for i, c in zip(rows.tolist(), items):
            out[i] = {"type": name, "coordinates": c}
    return out


def features(props: list[dict], geoms_wgs84: Iterable, ids: Iterable | None = None) -> list[dict]:
    """GeoJSON features: coordinates to 6 decimals (kept valid), properties cleaned."""
    geoms = _round_coords(np.asarray(list(geoms_wgs84), dtype=object))
    encoded = geometries(geoms)
    ids = list(ids) if ids is not None else [None] * len(props)
    out = []
    for p, g, fid in zip(props, encoded, ids):
        f: dict[str, object] = {"type": "Feature"}
        if fid is not None:
            f["id"] = clean(fid)
        f["geometry"] = g
        f["properties"] = {k: clean(v) for k, v in p.items()}
        out.append(f)
    return out


def collection(feats: list[dict], **members) -> dict:
    fc: dict[str, object] = {"type": "FeatureCollection"}
    fc.update({k: clean(v) for k, v in members.items()})
    fc["numberReturned"] = len(feats)
    fc["features"] = feats
    return fc
