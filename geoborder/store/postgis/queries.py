"""The spatial work of the queries in PostGIS: `PostgisSpatial`, the `SpatialEngine` a PostgisStore
answers with (geoborder.store.base; the in-memory one is geoborder.queries._local.LocalSpatial).

The query modules keep parameter checks, name resolution and the answer document; on a PostGIS
store the engine's primitives run here instead of the in-memory STRtree code, and give back rows of
the layer frames (from feature ids, `fid`) and figures. What runs in SQL:

  touching (Vietnamese unit)  ST_Union + ST_Buffer of the unit's communes (the zone), ST_Intersects
                              for the candidates, ST_Length(ST_Intersection(ST_Boundary(..), zone))
                              for the shared lengths, the same against each commune's buffer for
                              the neighbour pairs
  roadless                    KNN `<->` nearest road per settlement or village (LATERAL ...
                              LIMIT 1), ST_Within for the commune of each settlement (a village
                              has its own, placed by the build), ST_DWithin / ST_Distance to the
                              border line
  nearest gates               KNN `<->` ordering, ST_Distance; the origin (seat, point on surface,
                              settlement) and Vietnam's neighbourhood check (ST_Distance)
  border zone                 ST_DWithin / ST_Distance to the border line; the length of each road
                              inside the zone from ST_Segmentize + ST_DumpSegments midpoints

Measures are taken on the layers' metric geometry column (publish.METRIC_COLUMN, `geometry_m`: the
geometry in the catalog's metric CRS, EPSG:3405, stored and GiST-indexed by `geoborder publish`,
repaired with ST_MakeValid(method=structure) where invalid, as the in-memory path repairs it with
shapely), so no request transforms or repairs a geometry. A version published before that column
existed is answered by the in-memory engine (`answers_in_sql` is false for it).

What does not depend on the request (beyond a few values) and is costly is computed in SQL once
per data version and kept (`_per_version`, keyed by the store, the snapshot's version and schema,
so a switch never serves stale data; least recently used dropped past _CACHE_SIZE), as the
in-memory path memoises the same things: the border line cut into short pieces (ST_Subdivide of
the metric line, so every original vertex is kept and the distances are those to the line itself;
sent with each request, they drive index scans of the other layers), the zone of a Vietnamese unit
(touching), the nearest road of every settlement (per road classes) and the commune holding every
settlement (per vintage).

Every SQL of one request reads ONE snapshot (the store's own `pinned()` block, which the query
modules and the API's middleware open per request), so frames and SQL never mix two versions. Names in SQL
are constants of this module or layers checked against the snapshot, quoted with `sql.Identifier`;
every value is a bound parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoborder.core.errors import NotFound
from geoborder.store.base import RoadlessArrays
from geoborder.store.postgis.spatial_border import touching_vn, zone
from geoborder.store.postgis.spatial_places import (
    distance_to_country,
    layer_communes,
    nearest_gates,
    nearest_roads,
    origin,
    roadless,
    settlements_per_commune,
)
from geoborder.store.postgis.spatial_sql import border_exists

# --------------------------------------------------------------------------- the engine


class PostgisSpatial:
    """The `SpatialEngine` of a PostgisStore whose version holds the metric geometry column: the
    same answers as the in-memory engine, from SQL on the current snapshot."""

    def __init__(self, store):
        self.store = store

    def distance_to_vietnam(self, point) -> float | None:
        return distance_to_country(self.store, point, "VN")

    def origin(self, layer: str, row: int, *, surface: bool = False):
        return origin(self.store, layer, self.store.frame(layer).index[row], surface=surface)

    def nearest_gates(self, point, k: int, *, international_only: bool, published_only: bool, partner_iso3):
        return nearest_gates(
            self.store,
            point,
            k,
            international_only=international_only,
            published_only=published_only,
            partner_iso3=partner_iso3,
        )

    def roadless(
        self, *, vintage: int, dmin: float, cc, classes, partner, border_m: float | None, layer: str = "places"
    ) -> RoadlessArrays:
        n = len(self.store.frame(layer))
        found, _r, _d, b_, _c = roadless(
            self.store,
            vintage=vintage,
            dmin=dmin,
            cc=cc,
            classes=classes,
            partner=partner,
            border_m=border_m,
            layer=layer,
        )
        # the nearest road of every point, not only of the selected ones (as in memory; kept per version)
        ridx, rdist = nearest_roads(self.store, classes, layer)
        bdist = None
        if border_m is not None:
            bdist = np.full(n, np.inf)
            bdist[found] = b_
        sel = np.zeros(n, dtype=bool)
        sel[found] = True
        # the commune of every point, not only of the selected ones (as in memory)
        pc = layer_communes(self.store, layer, vintage)
        return RoadlessArrays(ridx, rdist, pc, bdist, sel)

    def settlements_per_commune(self, vintage: int, cc, layer: str = "places") -> pd.Series:
        return settlements_per_commune(self.store, vintage, cc, layer)

    def adjacency(self, communes, member, unit, within, vintage: int, tol: float, min_km: float, shared: bool):
        field = "district_code" if unit.kind == "district" else "province_code"
        w = None
        if within is not None:
            w = ("district_code" if within.kind == "district" else "province_code", within.code)
        found = touching_vn(self.store, vintage, field, unit.code, w, tol, min_km, shared=shared)
        cand = np.array([r for r, _, _, _ in found], dtype=np.int64)
        km = np.array([k for _, k, _, _ in found], dtype=float)
        keep = km >= min_km
        excluded = [
            {"commune_code": communes["commune_code"].iat[i], "shared_length_km": round(float(k), 3)}
            for i, k in zip(cand[~keep], km[~keep])
            if k > 0
        ]
        kept = [f for f, k in zip(found, keep) if k]
        boundary = np.array([g for _, _, g, _ in kept], dtype=object)
        pi = np.array([n for n, f in enumerate(kept) for _ in f[3]], dtype=np.int64)
        pj = np.array([j for f in kept for j, _ in f[3]], dtype=np.int64)
        plen = np.array([x for f in kept for _, x in f[3]], dtype=float)
        return cand[keep], km[keep], boundary, pi, pj, plen, excluded

    def zone(self, *, partner, vintage: int, d: float, parts, cc, step: float) -> dict:
        if not border_exists(self.store, partner, vintage):
            raise NotFound(f"no border line faces {partner.name} in border_segments_{vintage}")
        return zone(self.store, partner=partner, vintage=vintage, d=d, parts=parts, cc=cc, step=step)
