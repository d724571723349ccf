"""Where the parts of a printed map sheet go (geoborder.reports.mapsheet): the papers and their
layout, the sheet a render returns, the map's extent (the mainland, the islands of the inset) and
the geometry helpers that fit and simplify the layers to the paper."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from geoborder.core.errors import InvalidParameter, NotFound

FORMATS = ("pdf", "png")
PAPERS = {"A4": (8.27, 11.69), "A3": (11.69, 16.54)}  # inches, portrait
ORIENTATIONS = ("portrait", "landscape")
PNG_DPI = 150
NATIONAL = ("all", "border", "border_communes")
#: east of every mainland commune (the easternmost, in Khánh Hòa, is at 109.47°E): parts of a unit
#: east of this are the offshore archipelagos, Hoàng Sa (Đà Nẵng) and Trường Sa (Khánh Hòa)
ISLANDS_LON = 109.55

BORDER_COLOR = "#d7191c"  # as the map page (web/map_style.py)
GATE_STYLE = {  # class: colour (the page's), marker, size in points
    "international": ("#08306b", "s", 6.5),
    "main": ("#2171b5", "D", 5.0),
    "secondary": ("#9ecae1", "o", 4.5),
}
PARTNER_FILL, PARTNER_EDGE = "#efefef", "#9a9a9a"
VN_EDGE = "#8c8c8c"
NORTH_COLOR = "#1a1a1a"


def check_options(fmt: str, paper: str, orientation: str) -> tuple[str, str, str]:
    fmt, orientation = str(fmt).lower(), str(orientation).lower()
    paper = str(paper).upper()
    if fmt not in FORMATS:
        raise InvalidParameter(f"format: write pdf or png, not {fmt!r}")
    if paper not in PAPERS:
        raise InvalidParameter(f"paper: A4 or A3, not {paper!r}")
    if orientation not in ORIENTATIONS:
        raise InvalidParameter(f"orientation: portrait or landscape, not {orientation!r}")
    return fmt, paper, orientation


@dataclass(frozen=True)
class Layout:
    size: tuple[float, float]  # inches
    scale: float  # font scale (A3 = √2 × A4)
    title_y: float
    map: tuple[float, float, float, float]  # figure fractions: x, y, w, h
    legend: tuple[float, float, float, float]
    symbols: tuple[float, float, float, float]
    sources: tuple[float, float, float, float]


def layout(paper: str, orientation: str) -> Layout:
    w, h = PAPERS[paper]
    s = 1.0 if paper == "A4" else math.sqrt(2)
    if orientation == "landscape":
        return Layout(
            (h, w),
            s,
            0.955,
            map=(0.03, 0.115, 0.655, 0.775),
            legend=(0.71, 0.47, 0.27, 0.42),
            symbols=(0.71, 0.125, 0.27, 0.33),
            sources=(0.03, 0.012, 0.95, 0.09),
        )
    return Layout(
        (w, h),
        s,
        0.967,
        map=(0.04, 0.25, 0.92, 0.66),
        legend=(0.04, 0.085, 0.47, 0.15),
        symbols=(0.54, 0.085, 0.42, 0.15),
        sources=(0.04, 0.008, 0.92, 0.068),
    )


@dataclass
class Sheet:
    """A rendered map: the document and where its parts are on the page (fractions, lower left
    origin: x, y, w, h), and the map's extent in lon/lat (x0, x1, y0, y1)."""

    data: bytes
    media_type: str
    file_name: str
    boxes: dict = field(default_factory=dict)
    swatches: list = field(default_factory=list)  # (class, colour, box) of each legend row
    extent: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    inset_extent: tuple[float, float, float, float] | None = None
    texts: dict = field(default_factory=dict)  # title, legend labels, sources: what the page says


# --------------------------------------------------------------------------- geometry helpers


def _frame(store, layer_id: str):
    try:
        return store.frame(layer_id)
    except NotFound:
        return None


def _parts(geoms) -> tuple[np.ndarray, np.ndarray]:
    """Every polygon part of `geoms` and the index of the geometry it came from."""
    parts, idx = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    return parts, idx


def _split_islands(geoms) -> tuple[np.ndarray, np.ndarray]:
    """(mainland parts, island parts) of `geoms`: parts whose centre lies east of ISLANDS_LON."""
    parts, _ = _parts(geoms)
    if not len(parts):
        return parts, parts
    east = shapely.get_x(shapely.centroid(parts)) > ISLANDS_LON
    return parts[~east], parts[east]


def _bounds(geoms) -> tuple[float, float, float, float] | None:
    g = np.asarray(geoms, dtype=object)
    if not len(g):
        return None
    b = shapely.total_bounds(g)
    return (float(b[0]), float(b[2]), float(b[1]), float(b[3])) if np.all(np.isfinite(b)) else None


def _fit(extent, box_w: float, box_h: float, pad: float = 0.04):
    """`extent` (x0, x1, y0, y1) padded and widened (or heightened) so that at the aspect of its
    central latitude it fills a box of box_w × box_h inches; and that aspect."""
    x0, x1, y0, y1 = extent
    dx, dy = max(x1 - x0, 0.05), max(y1 - y0, 0.05)
    x0, x1, y0, y1 = x0 - dx * pad, x1 + dx * pad, y0 - dy * pad, y1 + dy * pad
    aspect = 1.0 / math.cos(math.radians((y0 + y1) / 2))
    want = box_w / box_h  # screen width / height = (x1 - x0) / (aspect * (y1 - y0))
    have = (x1 - x0) / (aspect * (y1 - y0))
    if have < want:
        grow = (want * aspect * (y1 - y0) - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = ((x1 - x0) / (want * aspect) - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    return (x0, x1, y0, y1), aspect


def _simplified(frame, tol: float, box):
    """The rows of `frame` that meet `box`, simplified to `tol` degrees (a fraction of a millimetre
    on the paper) and clipped a little outside the box."""
    if frame is None or not len(frame):
        return frame
    geoms = np.asarray(frame.geometry.values, dtype=object)
    keep = shapely.intersects(geoms, box)
    sub = frame[keep].copy()
    if not len(sub):
        return sub
    g = shapely.simplify(np.asarray(sub.geometry.values, dtype=object), tol, preserve_topology=True)
    sub = sub.set_geometry(list(shapely.clip_by_rect(g, *box.bounds)), crs=frame.crs)
    return sub[~sub.geometry.is_empty]


def _nice_km(width_km: float) -> float:
    target = width_km * 0.22
    p = 10 ** math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * p <= target:
            return m * p
    return p


def extents(dr):
    """The lon/lat bounds of the map's mainland and of the islands of its inset (None: no inset)."""
    ch = dr.ch
    communes = dr.store.frame(ch.layer_id)
    area_geoms = np.asarray(communes.geometry.values[ch.area.mask], dtype=object)
    provinces = _frame(dr.store, f"provinces_{dr.vintage}")
    if dr.national and provinces is not None:
        main, islands = _split_islands(provinces.geometry.values)
        if dr.ch.spec.area != "all":
            main = _split_islands(area_geoms)[0]
    else:
        main, islands = _split_islands(area_geoms)
        if provinces is not None and "province_code" in provinces:
            own = provinces[provinces["province_code"].astype(str) == str(ch.spec.area)]
            islands = _split_islands(own.geometry.values)[1] if len(own) else islands
    if not len(main):  # an area that is only islands: no inset, the islands are the map
        main, islands = islands, islands[:0]
    return _bounds(main), _bounds(islands) if len(islands) else None
