"""CRS helpers: the metric CRS of derivations, reprojection of shapely arrays, and the registry of
coordinate reference systems the service can answer in (OGC API - Features Part 2).

The registry is immutable and built lazily, once per process. Axis order follows the EPSG
definition, as OGC API - Features Part 2 requires: EPSG:4326 and EPSG:4756 (VN-2000 geographic)
are latitude, longitude; CRS84 and every projected CRS here are x (east), y (north).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geoborder.core.errors import InvalidParameter


@lru_cache(maxsize=64)
def transformer(src: str, dst: str) -> Transformer:
    """A cached lon/lat-ordered (always_xy) transformer between two CRS strings."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def reproject(geoms: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Reproject an array of shapely geometries, vectorised over all coordinates."""
    t = transformer(src, dst)
    return shapely.transform(
        np.asarray(geoms, dtype=object), lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
    )


# --------------------------------------------------------------------------- supported CRSs

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"

# EPSG codes served besides CRS84, in the order collections list them.
SUPPORTED_EPSG = (4326, 3857, 4756, 3405, 3406, *range(9205, 9219))


@dataclass(frozen=True)
class SupportedCrs:
    """One CRS the service can answer in."""

    uri: str  # the OGC URI, as clients send it and as Content-Crs carries it
    auth: str  # "OGC:CRS84" or "EPSG:9206": what pyproj reads
    name: str
    swap_xy: bool  # the CRS's first axis is north (lat/lon): coordinates go out as y, x
    geographic: bool
    decimals: int  # coordinates are rounded to this many decimals (~1 cm)

    @property
    def epsg(self) -> int | None:
        return int(self.auth.split(":")[1]) if self.auth.startswith("EPSG:") else None

    @property
    def is_crs84(self) -> bool:
        return self.uri == CRS84_URI


def _make(uri: str, auth: str) -> SupportedCrs:
    c = CRS.from_user_input(auth)
    return SupportedCrs(
        uri=uri,
        auth=auth,
        name=c.name,
        swap_xy=c.axis_info[0].direction.lower() == "north",
        geographic=c.is_geographic,
        decimals=7 if c.is_geographic else 2,
    )


@lru_cache(maxsize=1)
def supported_crs() -> Mapping[str, SupportedCrs]:
    """Every supported CRS by URI, CRS84 first (read-only, built once)."""
    out = {CRS84_URI: _make(CRS84_URI, "OGC:CRS84")}
    for code in SUPPORTED_EPSG:
        uri = EPSG_URI.format(code)
        out[uri] = _make(uri, f"EPSG:{code}")
    return MappingProxyType(out)


def crs84() -> SupportedCrs:
    return supported_crs()[CRS84_URI]


_EPSG_FORMS = (
    re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/[^/]+/(\d+)$", re.I),
    re.compile(r"^\[?EPSG:(\d+)\]?$", re.I),
    re.compile(r"^urn:ogc:def:crs:EPSG:[^:]*:(\d+)$", re.I),
)
_CRS84_FORMS = {
    CRS84_URI.lower(),
    "https://www.opengis.net/def/crs/ogc/1.3/crs84",
    "ogc:crs84",
    "[ogc:crs84]",
    "crs84",
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "http://www.opengis.net/def/crs/ogc/0/crs84",
}


def resolve_crs(value: str, *, parameter: str = "crs") -> SupportedCrs:
    """The supported CRS a client named (URI, `EPSG:n`, `[EPSG:n]` or URN); 400 otherwise."""
    v = (value or "").strip()
    if v.lower() in _CRS84_FORMS:
        return crs84()
    for pat in _EPSG_FORMS:
        m = pat.match(v)
        if m:
            uri = EPSG_URI.format(int(m.group(1)))
            if uri in supported_crs():
                return supported_crs()[uri]
            break
    raise InvalidParameter(f"{parameter}: {value!r} is not a supported CRS; use one of: " + ", ".join(supported_crs()))


# --------------------------------------------------------------------------- transforms


def _swap(xy: np.ndarray) -> np.ndarray:
    return xy[:, ::-1]


def geoms_to(geoms: np.ndarray, crs: SupportedCrs, *, rounded: bool = True) -> np.ndarray:
    """CRS84 (lon/lat) geometries expressed in `crs`, in its axis order, rounded to ~1 cm."""
    t = None if crs.is_crs84 or crs.auth == "EPSG:4326" else transformer("OGC:CRS84", crs.auth)
    dec = crs.decimals

    def fn(xy: np.ndarray) -> np.ndarray:
        if t is not None:
            xy = np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
        if crs.swap_xy:
            xy = _swap(xy)
        return np.round(xy, dec) if rounded else xy

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def geoms_from(geoms: np.ndarray, crs: SupportedCrs) -> np.ndarray:
    """Geometries given in `crs` (its axis order) expressed in CRS84 lon/lat."""
    if crs.is_crs84:
        return np.asarray(geoms, dtype=object)
    t = None if crs.auth == "EPSG:4326" else transformer(crs.auth, "OGC:CRS84")

    def fn(xy: np.ndarray) -> np.ndarray:
        if crs.swap_xy:
            xy = _swap(xy)
        if t is not None:
            xy = np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
        return xy

    return shapely.transform(np.asarray(geoms, dtype=object), fn)


def bbox_to_crs84(bbox: tuple[float, ...], crs: SupportedCrs) -> tuple[float, float, float, float]:
    """A 4- or 6-number bbox given in `crs` axis order as a CRS84 lon/lat box (densified edges)."""
    if len(bbox) == 6:
        bbox = (bbox[0], bbox[1], bbox[3], bbox[4])
    a0, a1, b0, b1 = bbox
    if crs.is_crs84:
        return (a0, a1, b0, b1)
    box = shapely.segmentize(shapely.box(a0, a1, b0, b1), max(abs(b0 - a0), abs(b1 - a1)) / 20 or 1.0)
    out = geoms_from(np.array([box], dtype=object), crs)[0]
    if out.is_empty or not np.all(np.isfinite(out.bounds)):
        raise InvalidParameter(f"bbox: {list(bbox)} is outside the area of use of {crs.uri}")
    x0, y0, x1, y1 = (float(v) for v in out.bounds)
    return (x0, y0, x1, y1)


def bbox_from_crs84(bbox: tuple[float, float, float, float], crs: SupportedCrs) -> list[float]:
    """A CRS84 box expressed in `crs` (axis order of `crs`), for extents and the Content-Crs."""
    if crs.is_crs84:
        return list(bbox)
    box = shapely.segmentize(shapely.box(*bbox), max(bbox[2] - bbox[0], bbox[3] - bbox[1]) / 20 or 1.0)
    return [float(v) for v in geoms_to(np.array([box], dtype=object), crs, rounded=False)[0].bounds]


def bbox_literal(arguments) -> tuple[float, float, float, float]:
    """The corners of a CQL2 BBOX literal: 4 numbers, or 6 (with heights, ignored)."""
    nums = [a for a in arguments if isinstance(a, (int, float)) and not isinstance(a, bool)]
    if len(nums) != len(arguments) or len(nums) not in (4, 6):
        raise InvalidParameter("filter: BBOX(...) takes 4 or 6 numbers")
    a0, a1, b0, b1 = (float(v) for v in (nums[:2] + nums[2:] if len(nums) == 4 else nums[:2] + nums[3:5]))
    return (a0, a1, b0, b1)
