"""The primitives of the spatial questions in memory: STRtrees on the metric geometries of the
store's frames (made once per store version, see `_common._metric`).

`LocalSpatial` is the `SpatialEngine` the query modules hand to `store.spatial_engine`: the
GeoPackage and memory stores answer with it, a PostGIS store with its SQL
(geoborder.store.postgis.queries.PostgisSpatial), which gives the same answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from geoborder.core.errors import NotFound
from geoborder.queries._border import _border, _edges
from geoborder.queries._common import _commune_layer, _commune_rows, _Metric, _metric, _place_communes, _vn_outline
from geoborder.queries.names import Unit
from geoborder.store.base import RoadlessArrays, SpatialEngine, Store


def spatial(store: Store) -> SpatialEngine:
    """The engine that answers the spatial primitives for `store`."""
    return store.spatial_engine(LocalSpatial(store))


def member_mask(frame: pd.DataFrame, unit: Unit) -> np.ndarray:
    """The rows of a commune frame that belong to a Vietnamese province or pre-2025 district."""
    field = "district_code" if unit.kind == "district" else "province_code"
    return np.array(frame[field] == unit.code, dtype=bool)


def nearest_roads_of(
    store: Store, m: _Metric, classes: tuple[str, ...] | None, layer: str = "places"
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest road (row) and distance (m) for every point of `layer` (the settlements `places`
    or the `villages`; railways excluded, limited to `classes` if given), memoised per store
    version: one STRtree.query_nearest call."""
    if layer == "places":  # the key the memo has always had
        key: tuple = ("nearest_roads", classes)
    else:
        key = ("nearest_roads", classes, layer)
    return m.memo(key, lambda: _nearest_roads(store, m, classes, layer), asked=classes is not None)


def layer_communes(store: Store, layer: str, vintage: int) -> np.ndarray:
    """Row of the commune (of `vintage`) of each point of `layer`, -1 when none: for `places` the
    commune holding it (STRtree); for `villages` the layer's own commune_code_{vintage} (the
    build placed each village: the commune holding it, else the nearest within 2 km)."""
    if layer == "places":
        return _place_communes(store, vintage)
    m = _metric(store)
    return m.memo(
        ("layer_communes", layer, vintage),
        lambda: _commune_rows(store, vintage, store.frame(layer)[f"commune_code_{vintage}"].fillna("").to_numpy()),
    )


def _nearest_roads(
    store: Store, m: _Metric, classes: tuple[str, ...] | None, layer: str
) -> tuple[np.ndarray, np.ndarray]:
    roads = store.frame("roads")
    ok = ~roads["is_railway"].fillna(False).astype(bool).to_numpy()
    if classes is not None:
        ok &= roads["road_class"].isin(classes).to_numpy()
    rows = np.flatnonzero(ok & ~shapely.is_missing(m.geoms(store, "roads")))
    pts = m.geoms(store, layer)
    has = np.flatnonzero(~shapely.is_missing(pts))
    idx = np.full(len(pts), -1, dtype=np.int64)
    dist = np.full(len(pts), np.inf)
    if len(rows) and len(has):
        (pi, ri), d = STRtree(m.geoms(store, "roads")[rows]).query_nearest(
            pts[has], return_distance=True, all_matches=True
        )
        pi = has[pi]
        # a settlement as near to two roads (at a junction): the first road by row, as in SQL
        order = np.lexsort((ri, pi))
        pi, ri, d = pi[order], ri[order], d[order]
        first = np.unique(pi, return_index=True)[1]
        idx[pi[first]] = rows[ri[first]]
        dist[pi[first]] = d[first]
    return idx, dist


class LocalSpatial:
    """`SpatialEngine` on the store's frames in memory."""

    def __init__(self, store: Store):
        self.store = store
        self.m = _metric(store)

    def distance_to_vietnam(self, point: shapely.Geometry) -> float | None:
        vn = _vn_outline(self.store)
        return None if vn is None else float(shapely.distance(point, vn))

    def origin(self, layer: str, row: int, *, surface: bool = False) -> shapely.Geometry:
        g = self.m.geoms(self.store, layer)[row]
        return shapely.point_on_surface(g) if surface else g

    def nearest_gates(
        self, point, k: int, *, international_only: bool, published_only: bool, partner_iso3: str | None
    ) -> tuple[np.ndarray, np.ndarray, int]:
        gates = self.store.frame("gates")
        G = self.m.geoms(self.store, "gates")
        ok = ~shapely.is_missing(G)
        if international_only:
            ok &= (gates["gate_class"] == "international").to_numpy()
        if published_only:
            ok &= (gates["location_quality"] == "published").to_numpy()
        if partner_iso3 is not None:
            ok &= (gates["partner_iso3"] == partner_iso3).to_numpy()
        rows = np.flatnonzero(ok)
        matched = len(rows)
        dist = shapely.distance(point, G[rows])
        order = np.argsort(dist, kind="stable")[:k]
        return rows[order], dist[order], matched

    def roadless(
        self, *, vintage: int, dmin: float, cc, classes, partner, border_m: float | None, layer: str = "places"
    ) -> RoadlessArrays:
        store, m = self.store, self.m
        frame = store.frame(layer)
        ridx, rdist = nearest_roads_of(store, m, classes, layer)
        sel = rdist > dmin
        if cc is not None:
            sel &= frame["cc"].isin(cc).to_numpy()
        bdist = None
        if border_m is not None:
            border = _border(store, m, partner, vintage)
            key = ("places_to_border", partner.code if partner else None, vintage)
            bdist = (
                np.full(len(frame), np.inf)
                if border is None
                else m.memo(
                    key if layer == "places" else (*key, layer),
                    lambda: border.distance(m.geoms(store, layer)),
                    asked=partner is not None,
                )
            )
            sel &= bdist <= border_m
        return RoadlessArrays(ridx, rdist, layer_communes(store, layer, vintage), bdist, sel)

    def settlements_per_commune(self, vintage: int, cc, layer: str = "places") -> pd.Series:
        pc = layer_communes(self.store, layer, vintage)
        frame = self.store.frame(layer)
        consider = frame["cc"].isin(cc).to_numpy() if cc is not None else np.ones(len(frame), bool)
        return pd.Series(pc[consider & (pc >= 0)]).value_counts()

    def _unit_union(self, vintage: int, u: Unit):
        store, m = self.store, self.m
        layer = _commune_layer(vintage)

        def make():
            g = m.geoms(store, layer)[member_mask(store.frame(layer), u)]
            return shapely.union_all(g) if len(g) else None

        return m.memo(("union", vintage, u.kind, u.code), make, asked=True)

    def adjacency(
        self,
        communes: pd.DataFrame,
        member: np.ndarray,
        unit: Unit,
        within: Unit | None,
        vintage: int,
        tol: float,
        min_km: float,
        shared: bool,
    ) -> tuple:
        """In memory (STRtree on the metric geometries)."""
        store, m, c = self.store, self.m, communes
        layer = _commune_layer(vintage)
        G = m.geoms(store, layer)
        ug = self._unit_union(vintage, unit)
        zone = m.memo(("zone", vintage, unit.kind, unit.code), lambda: shapely.buffer(ug, tol), asked=True)
        cand = m.tree(store, layer).query(zone, predicate="intersects")
        cand = np.sort(cand[~member[cand]])
        if within is not None:
            cand = cand[member_mask(c, within)[cand]]
        bnd = shapely.boundary(G[cand])
        boundary = shapely.intersection(bnd, zone)
        km = shapely.length(boundary) / 1000.0
        keep = km >= min_km
        excluded = [
            {"commune_code": c["commune_code"].iat[i], "shared_length_km": round(float(k), 3)}
            for i, k in zip(cand[~keep], km[~keep])
            if k > 0
        ]
        cand, boundary, km, bnd = cand[keep], boundary[keep], km[keep], bnd[keep]
        # which communes of the unit each one touches, and along how much
        pi, pj = m.tree(store, layer).query(G[cand], predicate="dwithin", distance=tol)
        on = member[pj]
        pi, pj = pi[on], pj[on]
        plen = shapely.length(shapely.intersection(bnd[pi], shapely.buffer(G[pj], tol))) / 1000.0
        return cand, km, boundary, pi, pj, plen, excluded

    def zone(self, *, partner, vintage: int, d: float, parts, cc, step: float) -> dict:
        store, m = self.store, self.m
        border = _border(store, m, partner, vintage)
        if border is None:
            raise NotFound(f"no border line faces {partner.name} in border_segments_{vintage}")
        # part -> (rows, distances, km inside: roads only)
        out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
        if "communes" in parts:
            idx, dist = border.near(m.geoms(store, _commune_layer(vintage)), d)
            out["communes"] = (idx, dist, None)
        if "settlements" in parts:
            idx, dist = border.near(m.geoms(store, "places"), d)
            if cc is not None:
                keep = np.isin(store.frame("places")["cc"].to_numpy()[idx], cc)
                idx, dist = idx[keep], dist[keep]
            out["settlements"] = (idx, dist, None)
        if "villages" in parts:
            idx, dist = border.near(m.geoms(store, "villages"), d)
            out["villages"] = (idx, dist, None)
        if "roads" in parts:
            roads = store.frame("roads")
            R = m.geoms(store, "roads")
            idx, dist = border.near(R, d)
            keep = ~roads["is_railway"].fillna(False).astype(bool).to_numpy()[idx]
            idx, dist = idx[keep], dist[keep]
            # length inside the zone: the road cut into <= `step` m edges, each counted when its
            # middle lies within d of the line
            edges, owner = _edges(shapely.segmentize(R[idx], step))
            near, _ = border.near(shapely.line_interpolate_point(edges, 0.5, normalized=True), d)
            inside = np.zeros(len(edges), dtype=bool)
            inside[near] = True
            inside_km = np.bincount(owner[inside], weights=shapely.length(edges[inside]), minlength=len(idx)) / 1000
            out["roads"] = (idx, dist, inside_km)
        return out
