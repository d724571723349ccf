"""Shared parts about the border: segments per commune and partner unit, and the border line as
short edges in an STRtree for fast distance queries (roadless villages and the border zone)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from geoborder.queries._common import _Metric
from geoborder.queries.names import Unit, resolve_partner

MAX_ZONE_KM = 100.0


def _segment_mask(seg: pd.DataFrame, u: Unit) -> np.ndarray:
    field = {"country": "partner_iso3", "partner_province": "partner_unit_code"}.get(u.kind, "partner_district_code")
    return np.array(seg[field] == u.code, dtype=bool)


_FACING = ["partner_iso3", "partner_unit_code", "partner_unit_name", "partner_district_code", "partner_district_name"]


def _breakdown(g: pd.DataFrame) -> dict[str, list[dict]]:
    """Per commune: length per partner unit and Lao district, from border segments."""
    out: dict[str, list[dict]] = {}
    if not len(g):
        return out
    agg = (
        g.fillna({"partner_district_code": "", "partner_district_name": ""})
        .groupby(["commune_code", *_FACING], sort=True)["length_km"]
        .sum()
    )
    for (code, *k), km in agg.items():
        d = dict(zip(_FACING, k))
        d["partner_district_code"] = d["partner_district_code"] or None
        d["partner_district_name"] = d["partner_district_name"] or None
        d["length_km"] = round(float(km), 3)
        out.setdefault(code, []).append(d)
    return out


def _border_line(store, m: _Metric, partner: Unit | None, vintage: int):
    """The border line in the metric CRS: all of it, one country's, or one partner unit's part."""

    def make():
        if partner is None or partner.kind == "country":
            bl = store.frame("border_lines")
            g = m.geoms(store, "border_lines")
            if partner is not None:
                g = g[(bl["partner_iso3"] == partner.code).to_numpy()]
            return shapely.union_all(g) if len(g) else None
        layer = f"border_segments_{vintage}"
        seg = store.frame(layer)
        g = m.geoms(store, layer)[_segment_mask(seg, partner)]
        return shapely.union_all(g) if len(g) else None

    return m.memo(("border_line", partner.code if partner else None, vintage), make, asked=partner is not None)


def _partner_for_zone(store, partner) -> Unit | None:
    if partner is None or not str(partner).strip():
        return None
    return resolve_partner(store, partner)


def _edges(geoms) -> tuple[np.ndarray, np.ndarray]:
    """Lines cut into their straight edges (two-point linestrings) and the owner of each edge."""
    parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    same = cidx[:-1] == cidx[1:]
    edges = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    return edges, owner[cidx[:-1][same]]


class _Line:
    """A border line as short edges in an STRtree: distance queries never run against one
    4,000 km geometry, so they stay in milliseconds."""

    def __init__(self, line):
        self.line = line
        self.edges, _ = _edges([line])
        self.tree = STRtree(self.edges)

    def near(self, geoms, d: float) -> tuple[np.ndarray, np.ndarray]:
        """Indices of `geoms` within d metres of the line, and their distance to it: one
        nearest-neighbour search (pruned at d), not a distance to every edge."""
        geoms = np.asarray(geoms, dtype=object)
        if not len(geoms):
            return np.array([], dtype=np.int64), np.array([])
        (gi, _), dist = self.tree.query_nearest(geoms, max_distance=d, return_distance=True, all_matches=False)
        order = np.argsort(gi, kind="stable")
        return gi[order], dist[order]

    def distance(self, geoms) -> np.ndarray:
        geoms = np.asarray(geoms, dtype=object)
        out = np.full(len(geoms), np.inf)
        if len(geoms):
            (gi, _), d = self.tree.query_nearest(geoms, return_distance=True, all_matches=False)
            out[gi] = d
        return out


def _border(store, m: _Metric, partner: Unit | None, vintage: int) -> _Line | None:
    def make():
        line = _border_line(store, m, partner, vintage)
        return None if line is None or shapely.is_empty(line) else _Line(line)

    return m.memo(("border_edges", partner.code if partner else None, vintage), make, asked=partner is not None)
