"""The spatial work of the queries in PostGIS: `PostgisSpatial`, the `SpatialEngine` a PostgisStore
answers with (geoborder.store.base; the in-memory one is geoborder.queries._local.LocalSpatial).

The query modules keep parameter checks, name resolution and the answer document; on a PostGIS
store the engine's primitives run here instead of the in-memory STRtree code, and give back rows of
the layer frames (from feature ids, `fid`) and figures. What runs in SQL:

  touching (Vietnamese unit)  ST_Union + ST_Buffer of the unit's communes (the zone), ST_Intersects
                              for the candidates, ST_Length(ST_Intersection(ST_Boundary(..), zone))
                              for the shared lengths, the same against each commune's buffer for
                              the neighbour pairs
  roadless                    KNN `<->` nearest road per settlement (LATERAL ... LIMIT 1),
                              ST_Within for the commune of each settlement, ST_DWithin /
                              ST_Distance to the border line
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
import shapely

from geoborder.core.cache import LRU
from geoborder.core.errors import NotFound, StoreError
from geoborder.store.base import RoadlessArrays
from geoborder.store.postgis.naming import METRIC_COLUMN, METRIC_LAYERS
from geoborder.store.postgis.naming import metric_srid as srid

#: the border line is cut into pieces of at most this many vertices (ST_Subdivide)
PIECE_VERTICES = 128
#: how many request-independent results (_per_version) are kept, over all stores and versions
_CACHE_SIZE = 64


def _sql():
    from psycopg import sql

    return sql


def metric_srid(store) -> int | None:
    return srid(store.catalog)


def answers_in_sql(store) -> bool:
    """True when the spatial work of a query goes to the database: the store's current version
    holds the metric geometry column (a version published before it existed is answered by the
    in-memory engine; `geoborder publish --reload` adds the column)."""
    if metric_srid(store) is None:
        return False
    snap = store.snapshot()
    return _per_version(store, snap, "metric_column", lambda: _has_metric_column(store, snap))


def _has_metric_column(store, snap) -> bool:

    wanted = sorted(t for t in METRIC_LAYERS if t in snap.tables)
    rows = store.fetch(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = ANY (%s::regclass[]) "
        "AND attname = %s AND attnum > 0 AND NOT attisdropped",
        ([f'"{snap.schema}"."{t}"' for t in wanted], METRIC_COLUMN),
    )
    return int(rows[0][0]) == len(wanted)


# --------------------------------------------------------------------------- statements


def fetch(store, query, params=None) -> list[tuple]:
    """Rows of one statement (binary results; the store's connections run with JIT off)."""
    return store.fetch(query, params, binary=True)


_CACHE = LRU(_CACHE_SIZE)


def _per_version(store, snap, key, make):
    """`make()` once per (store, data version, key): published versions are immutable, and the
    key holds the version, so a switch never serves a value of another version. Two first
    requests may both compute it (the same value)."""
    return _CACHE.get_or_make((store.url, snap.version, snap.schema, key), make)


class _Q:
    """SQL fragments on one snapshot: tables and metric (repaired) geometries."""

    def __init__(self, store):
        self.store = store
        self.snap = store.snapshot()
        self.srid = metric_srid(store)
        self.sql = _sql()

    def table(self, layer: str):
        if layer not in self.snap.tables:
            raise NotFound(f"no layer {layer!r} in the store")
        return self.sql.Identifier(self.snap.schema, layer)

    def m(self, alias: str, layer: str):
        """The metric geometry of `alias` (a row of `layer`, one of publish.METRIC_LAYERS): the
        stored column, repaired where invalid and GiST-indexed."""

        if layer not in METRIC_LAYERS:
            raise StoreError(f"{layer} has no metric geometry column (publish.METRIC_LAYERS)")
        return self.sql.Identifier(alias, METRIC_COLUMN)

    def fetch(self, query, params=None):
        return fetch(self.store, query, params)


def rows_of(store, layer: str, fids) -> np.ndarray:
    """Rows of the layer frame holding these fids (frames are in fid order)."""
    fids = np.asarray(list(fids), dtype=np.int64)
    pos = store.frame(layer).index.get_indexer(fids)
    if len(pos) and (pos < 0).any():
        raise StoreError(f"{layer}: the database and the frame disagree (a version switch?)")
    return pos.astype(np.int64)


def _wkb(g) -> bytes:
    return shapely.to_wkb(g)


def _geom(v):
    return None if v is None else shapely.from_wkb(bytes(v))


# --------------------------------------------------------------------------- the border line


def _segment_field(kind: str) -> str:
    return {"country": "partner_iso3", "partner_province": "partner_unit_code"}.get(kind, "partner_district_code")


def _pieces(q: _Q, partner, vintage: int):
    """CTE `pieces (id, g)`: the border line (all of it, one country's, or one partner unit's part
    of border_segments_{vintage}) in the metric CRS, cut into pieces of <= PIECE_VERTICES vertices.

    Cutting the line costs tens of ms and depends only on the version and the partner: the pieces
    are cut in SQL once per version (ST_Subdivide) and then sent with each request."""
    s = q.sql
    if partner is None:
        layer, where, params = "border_lines", s.SQL("true"), {}
    elif partner.kind == "country":
        layer, where, params = "border_lines", s.SQL("partner_iso3 = %(partner)s"), {"partner": partner.code}
    else:
        layer = f"border_segments_{vintage}"
        where = s.SQL("{} = %(partner)s").format(s.Identifier(_segment_field(partner.kind)))
        params = {"partner": partner.code}

    def cut() -> list[bytes]:
        rows = q.fetch(
            s.SQL("""SELECT ST_AsBinary(g) FROM (
            SELECT ST_Subdivide({bm}, {nv}) AS g FROM {src} b WHERE b.geometry IS NOT NULL AND {where}) x""").format(
                bm=q.m("b", layer), nv=s.Literal(PIECE_VERTICES), src=q.table(layer), where=where
            ),
            params,
        )
        return [bytes(r[0]) for r in rows if r[0] is not None]

    key = ("pieces", layer, partner.kind if partner else None, partner.code if partner else None)
    pieces = _per_version(q.store, q.snap, key, cut)
    cte = s.SQL("""pieces AS MATERIALIZED (
        SELECT u.id, ST_SetSRID(ST_GeomFromWKB(u.w), {srid}) AS g
        FROM unnest(%(pieces)b::bytea[]) WITH ORDINALITY AS u(w, id))""").format(srid=s.Literal(q.srid))
    return cte, {"pieces": pieces}


def border_exists(store, partner, vintage: int) -> bool:
    q = _Q(store)
    s = q.sql
    if partner is None or partner.kind == "country":
        where = s.SQL("true") if partner is None else s.SQL("partner_iso3 = %(partner)s")
        src = q.table("border_lines")
    else:
        where = s.SQL("{} = %(partner)s").format(s.Identifier(_segment_field(partner.kind)))
        src = q.table(f"border_segments_{vintage}")
    rows = q.fetch(
        s.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE geometry IS NOT NULL AND NOT ST_IsEmpty(geometry) AND {})").format(
            src, where
        ),
        {"partner": partner.code if partner else None},
    )
    return bool(rows[0][0])


# --------------------------------------------------------------------------- touching


def touching_vn(
    store, vintage: int, field: str, code: str, within: tuple[str, str] | None, tol: float, min_km: float, shared: bool
):
    """Polygon adjacency of the communes of a Vietnamese unit (`field` = `code`) with the others:
    for every candidate (sorted by row) its row, the length (km) of its boundary within `tol` m of
    the unit, its shared boundary (metric, when `shared` and kept) and, for those >= min_km, the
    unit's communes it touches with the length along each: (row, km, geom, [(row, km)...]).
    A pair is a commune of the unit whose tol-buffer holds a positive length of the candidate's
    boundary (so within tol of it; ST_DWithin between polygons is slow in PostGIS, and pairs of no
    length are dropped by the caller anyway, which keeps those >= 2 tol).

    The unit's zone (ST_Buffer(ST_Union(its communes), tol)) costs tens of ms for a province and
    depends only on the version and the unit: built in SQL once per version, then sent."""
    q = _Q(store)
    s = q.sql
    layer = f"communes_{vintage}"
    t = q.table(layer)
    f = s.Identifier(field)

    def make_zone():
        rows = q.fetch(
            s.SQL("SELECT ST_AsBinary(ST_Buffer(ST_Union({um}), %(tol)s)) FROM {t} u WHERE u.{f} = %(code)s").format(
                um=q.m("u", layer), t=t, f=f
            ),
            {"code": code, "tol": float(tol)},
        )
        return bytes(rows[0][0]) if rows and rows[0][0] is not None else None

    zone = _per_version(store, q.snap, ("zone", layer, field, code, float(tol)), make_zone)
    if zone is None:
        return []
    wfilter = s.SQL("true") if within is None else s.SQL("c.{} = %(within)s").format(s.Identifier(within[0]))
    query = s.SQL("""
    WITH zone AS MATERIALIZED (SELECT ST_SetSRID(ST_GeomFromWKB(%(zone)b), {srid}) AS z),
    cand AS MATERIALIZED (
        SELECT c.fid, c.g, c.b, ST_Intersection(c.b, zone.z) AS sh
        FROM zone, LATERAL (SELECT c.fid, {cm} AS g, ST_Boundary({cm}) AS b FROM {t} c
                            WHERE {cm} && zone.z AND c.{f} IS DISTINCT FROM %(code)s AND {wfilter}) c
        WHERE ST_Intersects(c.g, zone.z)),
    km AS MATERIALIZED (SELECT cand.*, ST_Length(cand.sh) / 1000.0 AS km FROM cand),
    near AS MATERIALIZED (SELECT km.fid AS cf, u.fid AS uf FROM km JOIN {t} u
        ON {um} && ST_Expand(km.g, %(tol)s) AND u.{f} = %(code)s WHERE km.km >= %(min_km)s),
    ub AS MATERIALIZED (SELECT u.fid, ST_Buffer({um}, %(tol)s) AS buf FROM {t} u
        WHERE u.fid IN (SELECT uf FROM near)),
    pl AS (SELECT near.cf, near.uf, ST_Length(ST_Intersection(km.b, ub.buf)) / 1000.0 AS len
        FROM near JOIN km ON km.fid = near.cf JOIN ub ON ub.fid = near.uf),
    nb AS (SELECT cf, array_agg(uf ORDER BY uf) AS fids, array_agg(len ORDER BY uf) AS kms
        FROM pl WHERE len > 0 GROUP BY cf)
    SELECT km.fid, km.km, CASE WHEN %(shared)s AND km.km >= %(min_km)s THEN ST_AsBinary(km.sh) END,
           nb.fids, nb.kms
    FROM km LEFT JOIN nb ON nb.cf = km.fid
    ORDER BY km.fid""").format(
        srid=s.Literal(q.srid), t=t, f=f, um=q.m("u", layer), cm=q.m("c", layer), wfilter=wfilter
    )
    params = {
        "zone": zone,
        "code": code,
        "tol": float(tol),
        "min_km": float(min_km),
        "shared": bool(shared),
        "within": within[1] if within else None,
    }
    rows = q.fetch(query, params)
    out = []
    rows_c = rows_of(store, layer, [r[0] for r in rows])
    for (_fid, km, g, nfids, nkms), row in zip(rows, rows_c):
        pairs = []
        if nfids:
            pairs = list(zip(rows_of(store, layer, nfids), (float(k) for k in nkms)))
        out.append((int(row), float(km), _geom(g), pairs))
    return out


# --------------------------------------------------------------------------- roadless


def _place_commune_ctes(q: _Q, clayer: str, src: str = "p"):
    """CTEs `pcand` (settlement, commune whose metric box holds it: index only), `pcg` (those
    communes, metric and repaired, transformed once) and `pc` (settlement -> first commune by fid
    that holds it, as the in-memory path); they read the CTE `src (fid, g)`."""
    s = q.sql
    return s.SQL("""pcand AS MATERIALIZED (SELECT x.fid AS pf, c.fid AS cf FROM {src} x JOIN {t} c ON {cm} && x.g),
    pcg AS MATERIALIZED (SELECT c.fid, {cvalid} AS g FROM {t} c WHERE c.fid IN (SELECT cf FROM pcand)),
    pc AS (SELECT DISTINCT ON (pcand.pf) pcand.pf AS fid, pcand.cf FROM pcand
           JOIN {src} x ON x.fid = pcand.pf JOIN pcg ON pcg.fid = pcand.cf
           WHERE ST_Within(x.g, pcg.g) ORDER BY pcand.pf, pcand.cf)""").format(
        src=s.Identifier(src), t=q.table(clayer), cm=q.m("c", clayer), cvalid=q.m("c", clayer)
    )


def _road_ok(q: _Q, alias: str):
    return q.sql.SQL("""{a}.geometry IS NOT NULL AND NOT coalesce({a}.is_railway, false)
        AND (%(classes)s::text[] IS NULL OR {a}.road_class = ANY (%(classes)s::text[]))""").format(
        a=q.sql.Identifier(alias)
    )


def nearest_roads(store, classes) -> tuple[np.ndarray, np.ndarray]:
    """For every settlement (row of `places`): the row of the nearest road (railways excluded, of
    `classes` if given; -1: none) and its distance (inf: none). Set-wise in SQL: an upper bound
    from the road nearest by KNN (`<->` on the metric GiST index: the exact distance), then every
    road whose box lies within that bound, measured; ties go to the first road by fid.

    It depends only on the version and the classes, as the in-memory path's memo: computed once
    per version (and classes), then read from memory."""
    q = _Q(store)

    def make():
        s = q.sql
        query = s.SQL("""WITH p AS MATERIALIZED (SELECT p.fid, {pm} AS g FROM {places} p WHERE p.geometry IS NOT NULL),
        ub AS MATERIALIZED (SELECT p.fid, p.g, n.d FROM p CROSS JOIN LATERAL (
            SELECT ST_Distance({r1m}, p.g) AS d FROM {roads} r1 WHERE {ok1} ORDER BY {r1m} <-> p.g LIMIT 1) n)
        SELECT DISTINCT ON (ub.fid) ub.fid, r2.fid, ST_Distance({r2m}, ub.g)
        FROM ub JOIN {roads} r2 ON {r2m} && ST_Expand(ub.g, ub.d) WHERE {ok2}
        ORDER BY ub.fid, ST_Distance({r2m}, ub.g), r2.fid""").format(
            pm=q.m("p", "places"),
            places=q.table("places"),
            roads=q.table("roads"),
            r1m=q.m("r1", "roads"),
            r2m=q.m("r2", "roads"),
            ok1=_road_ok(q, "r1"),
            ok2=_road_ok(q, "r2"),
        )
        rows = q.fetch(query, {"classes": list(classes) if classes is not None else None})
        n = len(store.frame("places"))
        ridx, dist = np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
        if rows:
            at = rows_of(store, "places", [r[0] for r in rows])
            ridx[at] = rows_of(store, "roads", [r[1] for r in rows])
            dist[at] = [float(r[2]) for r in rows]
        ridx.flags.writeable = dist.flags.writeable = False
        return ridx, dist

    key = ("nearest_roads", tuple(classes) if classes is not None else None)
    return _per_version(store, q.snap, key, make)


def place_communes(store, vintage: int) -> np.ndarray:
    """For every settlement (row of `places`): the row of the first commune of `vintage` (by fid)
    that holds it, -1 when none. Computed in SQL once per version, as the in-memory memo."""
    q = _Q(store)
    clayer = f"communes_{vintage}"

    def make():
        s = q.sql
        query = s.SQL("""WITH x AS MATERIALIZED (SELECT p.fid, {pm} AS g FROM {places} p WHERE p.geometry IS NOT NULL),
        {pcs}
        SELECT fid, cf FROM pc""").format(
            pm=q.m("p", "places"), places=q.table("places"), pcs=_place_commune_ctes(q, clayer, "x")
        )
        rows = q.fetch(query)
        out = np.full(len(store.frame("places")), -1, dtype=np.int64)
        if rows:
            out[rows_of(store, "places", [r[0] for r in rows])] = rows_of(store, clayer, [r[1] for r in rows])
        out.flags.writeable = False
        return out

    return _per_version(store, q.snap, ("place_communes", clayer), make)


def _considered(store, cc) -> np.ndarray:
    """Settlements with a geometry, of countries `cc` (None: all)."""
    places = store.frame("places")
    ok = ~shapely.is_missing(np.asarray(places.geometry.values, dtype=object))
    if cc is not None:
        ok &= places["cc"].isin(list(cc)).to_numpy()
    return ok


def roadless(store, *, vintage: int, dmin: float, cc, classes, partner, border_m: float | None):
    """Settlements (of countries `cc`, None: all) whose nearest road (railways excluded, of
    `classes` if given) is farther than dmin: rows of `places` with the row of that road (-1: no
    road), the distance (inf: no road), the distance to the border (when border_m is given: only
    settlements within it) and the row of the commune holding it (-1: none).

    The nearest roads and the communes come from `nearest_roads` and `place_communes` (SQL, once
    per version); the distance to the border is measured per request, in SQL, for the selected
    settlements only (KNN-free: the border pieces drive an index scan of the settlements)."""
    ridx, dist = nearest_roads(store, classes)
    sel = _considered(store, cc) & (dist > dmin)
    bdist = np.full(len(sel), np.inf)
    if border_m is not None:
        q = _Q(store)
        s = q.sql
        pieces, params = _pieces(q, partner, vintage)
        fids = store.frame("places").index.to_numpy()[sel]
        params.update({"bm": float(border_m), "fids": [int(f) for f in fids]})
        query = s.SQL("""WITH {pieces},
        p AS MATERIALIZED (SELECT p.fid, {pm} AS g FROM {places} p WHERE p.fid = ANY (%(fids)s::bigint[]))
        SELECT p.fid, min(ST_Distance(p.g, b.g)) FROM pieces b
        JOIN {places} p2 ON {p2m} && ST_Expand(b.g, %(bm)s) JOIN p ON p.fid = p2.fid
        WHERE ST_DWithin(p.g, b.g, %(bm)s) GROUP BY p.fid""").format(
            pieces=pieces, pm=q.m("p", "places"), places=q.table("places"), p2m=q.m("p2", "places")
        )
        rows = q.fetch(query, params)
        near = np.zeros(len(sel), dtype=bool)
        if rows:
            at = rows_of(store, "places", [r[0] for r in rows])
            near[at] = True
            bdist[at] = [float(r[1]) for r in rows]
        sel &= near
    prow = np.flatnonzero(sel)
    crow = place_communes(store, vintage)[prow]
    return prow, ridx[prow], dist[prow], bdist[prow], crow


def settlements_per_commune(store, vintage: int, cc) -> pd.Series:
    """How many settlements (of countries `cc`, None: all) each commune holds: count by commune row
    (a settlement counts for the first commune, by fid, that holds it)."""
    pc = place_communes(store, vintage)[_considered(store, cc)]
    return pd.Series(pc[pc >= 0]).value_counts()


# --------------------------------------------------------------------------- nearest gates


def origin(store, layer: str, fid: int, *, surface: bool = False):
    """The metric geometry of one feature (a point inside it when `surface`)."""
    q = _Q(store)
    s = q.sql
    g = s.SQL("ST_PointOnSurface({})").format(q.m("o", layer)) if surface else q.m("o", layer)
    rows = q.fetch(
        s.SQL("SELECT ST_AsBinary({}) FROM {} o WHERE o.fid = %(fid)s").format(g, q.table(layer)), {"fid": int(fid)}
    )
    if not rows or rows[0][0] is None:
        raise NotFound(f"{layer}: no geometry for feature {fid}")
    return _geom(rows[0][0])


def distance_to_country(store, point, code: str) -> float | None:
    """Distance (m) from a metric point to a country of `countries`; None when there is none."""
    q = _Q(store)
    s = q.sql
    if "countries" not in q.snap.tables:
        return None
    rows = q.fetch(
        s.SQL("""SELECT min(ST_Distance({cvalid}, ST_SetSRID(ST_GeomFromWKB(%(o)s), {srid})))
        FROM {t} c WHERE c.code = %(code)s AND c.geometry IS NOT NULL""").format(
            cvalid=q.m("c", "countries"), srid=s.Literal(q.srid), t=q.table("countries")
        ),
        {"o": _wkb(point), "code": code},
    )
    return None if not rows or rows[0][0] is None else float(rows[0][0])


def nearest_gates(store, point, k: int, *, international_only: bool, published_only: bool, partner_iso3: str | None):
    """The k gates nearest to a metric point (KNN), ties by row: (rows, distances, how many gates
    pass the filters)."""
    q = _Q(store)
    s = q.sql
    where = s.SQL("""g.geometry IS NOT NULL AND (NOT %(intl)s OR g.gate_class = 'international')
        AND (NOT %(pub)s OR g.location_quality = 'published')
        AND (%(iso3)s::text IS NULL OR g.partner_iso3 = %(iso3)s::text)""")
    query = s.SQL("""WITH o AS (SELECT ST_SetSRID(ST_GeomFromWKB(%(o)s), {srid}) AS g)
    SELECT (SELECT count(*) FROM {t} g WHERE {where}), k.fid, k.d FROM o LEFT JOIN LATERAL (
        SELECT g.fid, ST_Distance({gm}, o.g) AS d FROM {t} g WHERE {where}
        ORDER BY {gm} <-> o.g, g.fid LIMIT %(k)s) k ON true""").format(
        srid=s.Literal(q.srid), t=q.table("gates"), where=where, gm=q.m("g", "gates")
    )
    rows = q.fetch(
        query,
        {
            "o": _wkb(point),
            "intl": bool(international_only),
            "pub": bool(published_only),
            "iso3": partner_iso3,
            "k": int(k),
        },
    )
    n = int(rows[0][0]) if rows else 0
    rows = [r for r in rows if r[1] is not None]
    return rows_of(store, "gates", [r[1] for r in rows]), np.array([float(r[2]) for r in rows]), n


# --------------------------------------------------------------------------- border zone


def zone(store, *, partner, vintage: int, d: float, parts, cc, step: float):
    """Features within d metres of the border line: {part: (rows, distances[, km inside])}, rows
    sorted; roads exclude railways, and come with the length inside the zone (the road cut into
    edges of <= `step` m, an edge counted when its middle lies within d of the line)."""
    q = _Q(store)
    s = q.sql
    pieces, params = _pieces(q, partner, vintage)
    params.update({"d": float(d), "cc": list(cc) if cc is not None else None, "step": float(step)})
    ctes, selects = [pieces], []
    clayer = f"communes_{vintage}"
    if "communes" in parts:
        ctes.append(
            s.SQL("""cp AS (SELECT c.fid, b.id FROM pieces b JOIN {t} c ON {cm} && ST_Expand(b.g, %(d)s)),
        cg AS MATERIALIZED (SELECT c.fid, {cvalid} AS g FROM {t} c WHERE c.fid IN (SELECT fid FROM cp)),
        cz AS (SELECT cg.fid, min(ST_Distance(cg.g, b.g)) AS d FROM cp JOIN cg ON cg.fid = cp.fid
               JOIN pieces b ON b.id = cp.id WHERE ST_DWithin(cg.g, b.g, %(d)s) GROUP BY cg.fid)""").format(
                t=q.table(clayer), cm=q.m("c", clayer), cvalid=q.m("c", clayer)
            )
        )
        selects.append(s.SQL("SELECT 'communes', fid, d, NULL::float8 FROM cz"))
    if "settlements" in parts:
        ctes.append(
            s.SQL("""sp AS MATERIALIZED (SELECT p.fid, b.id FROM pieces b JOIN {t} p ON {pm} && ST_Expand(b.g, %(d)s)
            WHERE %(cc)s::text[] IS NULL OR p.cc = ANY (%(cc)s::text[])),
        sg AS MATERIALIZED (SELECT p.fid, {pm} AS g FROM {t} p WHERE p.fid IN (SELECT fid FROM sp)),
        sz AS (SELECT sg.fid, min(ST_Distance(sg.g, b.g)) AS d FROM sp JOIN sg ON sg.fid = sp.fid
               JOIN pieces b ON b.id = sp.id WHERE ST_DWithin(sg.g, b.g, %(d)s) GROUP BY sg.fid)""").format(
                pm=q.m("p", "places"), t=q.table("places")
            )
        )
        selects.append(s.SQL("SELECT 'settlements', fid, d, NULL::float8 FROM sz"))
    if "roads" in parts:
        ctes.append(
            s.SQL("""rb AS MATERIALIZED (SELECT r.fid, b.id FROM pieces b JOIN {t} r ON {rm} && ST_Expand(b.g, %(d)s)
            WHERE r.geometry IS NOT NULL AND NOT coalesce(r.is_railway, false)),
        rg AS MATERIALIZED (SELECT r.fid, {rm} AS g FROM {t} r WHERE r.fid IN (SELECT fid FROM rb)),
        rp AS MATERIALIZED (SELECT rb.fid, rb.id, ST_Distance(rg.g, b.g) AS d FROM rb JOIN rg ON rg.fid = rb.fid
            JOIN pieces b ON b.id = rb.id WHERE ST_DWithin(rg.g, b.g, %(d)s)),
        rz AS (SELECT fid, min(d) AS d FROM rp GROUP BY fid),
        re AS MATERIALIZED (SELECT rz.fid, ST_LineInterpolatePoint(e.geom, 0.5) AS mid, ST_Length(e.geom) AS len
            FROM rz JOIN rg ON rg.fid = rz.fid, ST_DumpSegments(ST_Segmentize(rg.g, %(step)s)) e),
        ri AS (SELECT re.fid, sum(re.len) AS len FROM re WHERE EXISTS (
            SELECT 1 FROM rp JOIN pieces b ON b.id = rp.id WHERE rp.fid = re.fid AND ST_DWithin(re.mid, b.g, %(d)s))
            GROUP BY re.fid)""").format(rm=q.m("r", "roads"), t=q.table("roads"))
        )
        selects.append(
            s.SQL("SELECT 'roads', rz.fid, rz.d, coalesce(ri.len, 0) FROM rz LEFT JOIN ri ON ri.fid = rz.fid")
        )
    out = {}
    if not selects:
        return out
    query = s.SQL("WITH {} {} ORDER BY 1, 2").format(s.SQL(",\n").join(ctes), s.SQL(" UNION ALL ").join(selects))
    rows = q.fetch(query, params)
    layers = {"communes": clayer, "settlements": "places", "roads": "roads"}
    for part in parts:
        mine = [r for r in rows if r[0] == part]
        rws = rows_of(store, layers[part], [r[1] for r in mine])
        dist = np.array([float(r[2]) for r in mine])
        km = np.array([float(r[3] or 0.0) / 1000.0 for r in mine])
        out[part] = (rws, dist, km)
    return out


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

    def roadless(self, *, vintage: int, dmin: float, cc, classes, partner, border_m: float | None) -> RoadlessArrays:
        n = len(self.store.frame("places"))
        found, r_, d_, b_, c_ = roadless(
            self.store, vintage=vintage, dmin=dmin, cc=cc, classes=classes, partner=partner, border_m=border_m
        )
        ridx = np.full(n, -1, dtype=np.int64)
        rdist = np.full(n, np.inf)
        pc = np.full(n, -1, dtype=np.int64)
        ridx[found], rdist[found], pc[found] = r_, d_, c_
        bdist = None
        if border_m is not None:
            bdist = np.full(n, np.inf)
            bdist[found] = b_
        sel = np.zeros(n, dtype=bool)
        sel[found] = True
        return RoadlessArrays(ridx, rdist, pc, bdist, sel)

    def settlements_per_commune(self, vintage: int, cc) -> pd.Series:
        return settlements_per_commune(self.store, vintage, cc)

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
