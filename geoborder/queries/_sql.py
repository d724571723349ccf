"""The spatial work of the queries in PostGIS (a store for which `is_sql_store` is true).

The query modules keep parameter checks, name resolution and the answer document; on a PostGIS
store they call the functions here instead of the in-memory STRtree code, and get back feature ids
(`fid`, mapped to rows of the layer frames) and figures. What runs in SQL:

  touching (Vietnamese unit)  ST_Union + ST_Buffer of the unit's communes, ST_Intersects for the
                              candidates, ST_Length(ST_Intersection(ST_Boundary(..))) for the shared
                              lengths, ST_DWithin for the neighbour pairs
  roadless                    KNN `<->` nearest road per settlement (LATERAL ... LIMIT 1),
                              ST_Within for the commune of each settlement, ST_DWithin /
                              ST_Distance to the border line
  nearest gates               KNN `<->` ordering, ST_Distance; the origin (seat, point on surface,
                              settlement) and Vietnam's neighbourhood check (ST_Distance)
  border zone                 ST_DWithin / ST_Distance to the border line; the length of each road
                              inside the zone from ST_Segmentize + ST_DumpSegments midpoints

Measures are taken on ST_Transform(geometry, <metric SRID>) (the catalog's metric CRS, EPSG:3405),
matched by the expression GiST indexes `geoborder publish` creates (publish.METRIC_INDEXED). Polygons
whose metric geometry is invalid (listed by a partial index) are repaired with
ST_MakeValid(method=structure), as the in-memory path repairs them with shapely. The border line is
cut per request into short pieces (ST_Subdivide of the metric line, so every original vertex is kept
and the distances are those to the line itself) that drive index scans of the other layers.

Every SQL of one request reads ONE snapshot's schema (`pinned`): if the published version changes
while a request runs, the request is answered again on the new version. Names in SQL are constants
of this module or layers checked against the snapshot, quoted with `sql.Identifier`; every value is
a bound parameter.
"""

from __future__ import annotations

import contextvars
import math

import numpy as np
import pandas as pd
import shapely

from ..errors import NotFound, StoreError
from ..store import is_sql_store

#: the border line is cut into pieces of at most this many vertices (ST_Subdivide)
PIECE_VERTICES = 128
#: how many times a request is answered again when the published version changes under it
_RETRIES = 3

_PINNED: contextvars.ContextVar = contextvars.ContextVar("geoborder_queries_snapshot", default=None)


def _sql():
    from psycopg import sql

    return sql


def metric_srid(store) -> int | None:
    from ..publish import metric_srid as srid

    cat = getattr(store, "catalog", None)
    return srid(cat) if cat is not None else None


def use_sql(store) -> bool:
    """True when the spatial work of a query goes to the database."""
    return is_sql_store(store) and metric_srid(store) is not None


# --------------------------------------------------------------------------- one version per request

def pinned(store, run):
    """`run()` with every SQL reading one snapshot of `store`; answered again (at most a few times)
    when the published version changed while it ran, so frames and SQL never mix two versions."""
    cur = _PINNED.get()
    if cur is not None and cur[0] is store:
        return run()
    for attempt in range(_RETRIES):
        snap = store.snapshot()
        token = _PINNED.set((store, snap))
        try:
            out = run()
        finally:
            _PINNED.reset(token)
        if store.snapshot() is snap:
            return out
    return out


def _snapshot(store):
    cur = _PINNED.get()
    return cur[1] if cur is not None and cur[0] is store else store.snapshot()


# --------------------------------------------------------------------------- statements

def fetch(store, query, params=None) -> list[tuple]:
    """Rows of one statement, run with JIT compilation off (PostGIS functions carry large cost
    estimates, so PostgreSQL would spend longer compiling these plans than running them)."""
    import psycopg
    import psycopg_pool

    for attempt in (1, 2):
        pool = store._get_pool()
        try:
            with pool.connection() as con, con.transaction(), con.cursor(binary=True) as cur:
                cur.execute("SET LOCAL jit = off")
                cur.execute(query, params)
                return cur.fetchall() if cur.description is not None else []
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            if attempt == 2:
                raise StoreError(f"the database at {store.path} is unavailable: {exc}") from exc
            pool.check()
        except psycopg.Error as exc:
            raise StoreError(f"reading {store.path} failed: {exc}") from exc


class _Q:
    """SQL fragments on one snapshot: tables, metric and repaired geometries."""

    def __init__(self, store):
        self.store = store
        self.snap = _snapshot(store)
        self.srid = metric_srid(store)
        self.sql = _sql()

    def table(self, layer: str):
        if layer not in self.snap.tables:
            raise NotFound(f"no layer {layer!r} in the store")
        return self.sql.Identifier(self.snap.schema, layer)

    def m(self, alias: str):
        """The metric geometry of `alias` (the expression the metric GiST indexes hold)."""
        s = self.sql
        return s.SQL("ST_Transform({}.geometry, {})").format(s.Identifier(alias), s.Literal(self.srid))

    def valid(self, alias: str, layer: str):
        """The metric geometry of `alias`, repaired when invalid (the partial index lists those)."""
        s = self.sql
        return s.SQL(
            "(CASE WHEN {a}.fid = ANY (ARRAY(SELECT fid FROM {t} WHERE NOT ST_IsValid(ST_Transform(geometry, {srid}))))"
            " THEN ST_MakeValid({m}, 'method=structure keepcollapsed=false') ELSE {m} END)").format(
            a=s.Identifier(alias), t=self.table(layer), srid=s.Literal(self.srid), m=self.m(alias))

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
    of border_segments_{vintage}) in the metric CRS, cut into pieces of <= PIECE_VERTICES vertices."""
    s = q.sql
    if partner is None:
        src, where, params = q.table("border_lines"), s.SQL("true"), {}
    elif partner.kind == "country":
        src, where, params = q.table("border_lines"), s.SQL("partner_iso3 = %(partner)s"), {"partner": partner.code}
    else:
        src = q.table(f"border_segments_{vintage}")
        where = s.SQL("{} = %(partner)s").format(s.Identifier(_segment_field(partner.kind)))
        params = {"partner": partner.code}
    cte = s.SQL("""pieces AS MATERIALIZED (
        SELECT row_number() OVER () AS id, g FROM (
            SELECT ST_Subdivide(ST_Transform(b.geometry, {srid}), {nv}) AS g FROM {src} b
            WHERE b.geometry IS NOT NULL AND {where}) x)""").format(
        srid=s.Literal(q.srid), nv=s.Literal(PIECE_VERTICES), src=src, where=where)
    return cte, params


def border_exists(store, partner, vintage: int) -> bool:
    q = _Q(store)
    s = q.sql
    if partner is None or partner.kind == "country":
        where = s.SQL("true") if partner is None else s.SQL("partner_iso3 = %(partner)s")
        src = q.table("border_lines")
    else:
        where = s.SQL("{} = %(partner)s").format(s.Identifier(_segment_field(partner.kind)))
        src = q.table(f"border_segments_{vintage}")
    rows = q.fetch(s.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE geometry IS NOT NULL AND NOT ST_IsEmpty(geometry) "
                         "AND {})").format(src, where), {"partner": partner.code if partner else None})
    return bool(rows[0][0])


# --------------------------------------------------------------------------- touching

def touching_vn(store, vintage: int, field: str, code: str, within: tuple[str, str] | None, tol: float,
                min_km: float, shared: bool):
    """Polygon adjacency of the communes of a Vietnamese unit (`field` = `code`) with the others:
    for every candidate (sorted by row) its row, the length (km) of its boundary within `tol` m of
    the unit, its shared boundary (metric, when `shared` and kept) and, for those >= min_km, the
    unit's communes it touches with the length along each: (row, km, geom, [(row, km)...])."""
    q = _Q(store)
    s = q.sql
    layer = f"communes_{vintage}"
    t = q.table(layer)
    wfilter = s.SQL("true") if within is None else s.SQL("c.{} = %(within)s").format(s.Identifier(within[0]))
    query = s.SQL("""
    WITH mem AS MATERIALIZED (SELECT u.fid, {uvalid} AS g FROM {t} u WHERE u.{field} = %(code)s),
    zone AS MATERIALIZED (SELECT ST_Buffer(ST_Union(g), %(tol)s) AS z FROM mem),
    cand AS MATERIALIZED (
        SELECT c.fid, c.g, ST_Length(ST_Intersection(ST_Boundary(c.g), zone.z)) / 1000.0 AS km
        FROM zone, LATERAL (SELECT c.fid, {cvalid} AS g FROM {t} c
                            WHERE {cm} && zone.z AND c.{field} IS DISTINCT FROM %(code)s AND {wfilter}) c
        WHERE ST_Intersects(c.g, zone.z))
    SELECT cand.fid, cand.km,
           CASE WHEN %(shared)s AND cand.km >= %(min_km)s
                THEN ST_AsBinary(ST_Intersection(ST_Boundary(cand.g), zone.z)) END,
           nb.fids, nb.kms
    FROM zone, cand LEFT JOIN LATERAL (
        SELECT array_agg(mem.fid ORDER BY mem.fid) AS fids,
               array_agg(ST_Length(ST_Intersection(ST_Boundary(cand.g), ST_Buffer(mem.g, %(tol)s))) / 1000.0
                         ORDER BY mem.fid) AS kms
        FROM mem WHERE cand.km >= %(min_km)s AND ST_DWithin(cand.g, mem.g, %(tol)s)) nb ON true
    ORDER BY cand.fid""").format(
        t=t, field=s.Identifier(field), uvalid=q.valid("u", layer), cvalid=q.valid("c", layer), cm=q.m("c"),
        wfilter=wfilter)
    params = {"code": code, "tol": float(tol), "min_km": float(min_km), "shared": bool(shared),
              "within": within[1] if within else None}
    rows = q.fetch(query, params)
    out = []
    rows_c = rows_of(store, layer, [r[0] for r in rows])
    for (fid, km, g, nfids, nkms), row in zip(rows, rows_c):
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
        src=s.Identifier(src), t=q.table(clayer), cm=q.m("c"), cvalid=q.valid("c", clayer))


def roadless(store, *, vintage: int, dmin: float, cc, classes, partner, border_m: float | None):
    """Settlements (of countries `cc`, None: all) whose nearest road (railways excluded, of
    `classes` if given) is farther than dmin: rows of `places` with the row of that road (-1: no
    road), the distance (inf: no road), the distance to the border (when border_m is given: only
    settlements within it) and the row of the commune holding it (-1: none).

    The nearest road, set-wise: an upper bound from the road nearest in lon/lat (KNN on the plain
    GiST index), then every road whose metric box lies within that bound (metric GiST index),
    measured on the roads transformed once; ties go to the first road by fid."""
    q = _Q(store)
    s = q.sql
    clayer = f"communes_{vintage}"
    params = {"cc": list(cc) if cc is not None else None, "classes": list(classes) if classes is not None else None,
              "dmin": float(dmin), "bm": float(border_m) if border_m is not None else None}
    road_ok = s.SQL("""{a}.geometry IS NOT NULL AND NOT coalesce({a}.is_railway, false)
        AND (%(classes)s::text[] IS NULL OR {a}.road_class = ANY (%(classes)s::text[]))""")
    ctes = [s.SQL("""p0 AS MATERIALIZED (SELECT p.fid, p.geometry, {pm} AS g FROM {places} p
        WHERE p.geometry IS NOT NULL AND (%(cc)s::text[] IS NULL OR p.cc = ANY (%(cc)s::text[])))""").format(
        pm=q.m("p"), places=q.table("places"))]
    if border_m is not None:
        pieces, pp = _pieces(q, partner, vintage)
        params.update(pp)
        ctes.append(pieces)
        ctes.append(s.SQL("""bd AS (SELECT p0.fid, min(ST_Distance(p0.g, b.g)) AS d
            FROM pieces b JOIN {places} p2 ON {p2m} && ST_Expand(b.g, %(bm)s) JOIN p0 ON p0.fid = p2.fid
            WHERE ST_DWithin(p0.g, b.g, %(bm)s) GROUP BY p0.fid)""").format(places=q.table("places"), p2m=q.m("p2")))
        ctes.append(s.SQL("p AS MATERIALIZED (SELECT p0.*, bd.d AS bd FROM p0 JOIN bd ON bd.fid = p0.fid)"))
    else:
        ctes.append(s.SQL("p AS MATERIALIZED (SELECT p0.*, NULL::float8 AS bd FROM p0)"))
    ctes.append(s.SQL("""r AS MATERIALIZED (SELECT r.fid, {rm} AS g FROM {roads} r WHERE {ok}),
    ub0 AS MATERIALIZED (SELECT p.fid, n.fid AS rf FROM p CROSS JOIN LATERAL (
        SELECT r1.fid FROM {roads} r1 WHERE {ok1} ORDER BY r1.geometry <-> p.geometry LIMIT 1) n),
    ub AS MATERIALIZED (SELECT p.fid, p.g, ST_Distance(r.g, p.g) AS d
        FROM ub0 JOIN p ON p.fid = ub0.fid JOIN r ON r.fid = ub0.rf),
    cand AS MATERIALIZED (SELECT ub.fid AS pf, r2.fid AS rf FROM ub
        JOIN {roads} r2 ON {r2m} && ST_Expand(ub.g, ub.d) WHERE {ok2}),
    nr AS MATERIALIZED (SELECT DISTINCT ON (cand.pf) cand.pf AS fid, cand.rf, ST_Distance(r.g, ub.g) AS d
        FROM cand JOIN ub ON ub.fid = cand.pf JOIN r ON r.fid = cand.rf
        ORDER BY cand.pf, ST_Distance(r.g, ub.g), cand.rf),
    sel AS MATERIALIZED (SELECT p.fid, p.g, p.bd, nr.rf, nr.d FROM p LEFT JOIN nr ON nr.fid = p.fid
        WHERE nr.d IS NULL OR nr.d > %(dmin)s)""").format(
        rm=q.m("r"), roads=q.table("roads"), ok=road_ok.format(a=s.Identifier("r")),
        ok1=road_ok.format(a=s.Identifier("r1")), ok2=road_ok.format(a=s.Identifier("r2")), r2m=q.m("r2")))
    ctes.append(_place_commune_ctes(q, clayer, "sel"))
    query = s.SQL("""WITH {ctes}
    SELECT sel.fid, sel.rf, sel.d, sel.bd, pc.cf FROM sel LEFT JOIN pc ON pc.fid = sel.fid
    ORDER BY sel.fid""").format(ctes=s.SQL(",\n").join(ctes))
    rows = q.fetch(query, params)
    prow = rows_of(store, "places", [r[0] for r in rows])
    rrow = np.full(len(rows), -1, dtype=np.int64)
    have = np.array([r[1] is not None for r in rows], dtype=bool)
    if have.any():
        rrow[have] = rows_of(store, "roads", [r[1] for r in rows if r[1] is not None])
    dist = np.array([math.inf if r[2] is None else float(r[2]) for r in rows])
    bdist = np.array([math.inf if r[3] is None else float(r[3]) for r in rows])
    crow = np.full(len(rows), -1, dtype=np.int64)
    inside = np.array([r[4] is not None for r in rows], dtype=bool)
    if inside.any():
        crow[inside] = rows_of(store, clayer, [r[4] for r in rows if r[4] is not None])
    return prow, rrow, dist, bdist, crow


def settlements_per_commune(store, vintage: int, cc) -> pd.Series:
    """How many settlements (of countries `cc`, None: all) each commune holds: count by commune row
    (a settlement counts for the first commune, by fid, that holds it)."""
    q = _Q(store)
    s = q.sql
    clayer = f"communes_{vintage}"
    query = s.SQL("""WITH p AS MATERIALIZED (SELECT p.fid, {pm} AS g FROM {places} p
        WHERE p.geometry IS NOT NULL AND (%(cc)s::text[] IS NULL OR p.cc = ANY (%(cc)s::text[]))),
    {pcs}
    SELECT cf, count(*) FROM pc GROUP BY cf""").format(
        pm=q.m("p"), places=q.table("places"), pcs=_place_commune_ctes(q, clayer))
    rows = q.fetch(query, {"cc": list(cc) if cc is not None else None})
    return pd.Series([int(r[1]) for r in rows], index=rows_of(store, clayer, [r[0] for r in rows]), dtype="int64")


# --------------------------------------------------------------------------- nearest gates

def origin(store, layer: str, fid: int, *, surface: bool = False):
    """The metric geometry of one feature (a point inside it when `surface`)."""
    q = _Q(store)
    s = q.sql
    g = s.SQL("ST_PointOnSurface({})").format(q.valid("o", layer)) if surface else q.m("o")
    rows = q.fetch(s.SQL("SELECT ST_AsBinary({}) FROM {} o WHERE o.fid = %(fid)s").format(g, q.table(layer)),
                   {"fid": int(fid)})
    if not rows or rows[0][0] is None:
        raise NotFound(f"{layer}: no geometry for feature {fid}")
    return _geom(rows[0][0])


def distance_to_country(store, point, code: str) -> float | None:
    """Distance (m) from a metric point to a country of `countries`; None when there is none."""
    q = _Q(store)
    s = q.sql
    if "countries" not in q.snap.tables:
        return None
    rows = q.fetch(s.SQL("""SELECT min(ST_Distance({cvalid}, ST_SetSRID(ST_GeomFromWKB(%(o)s), {srid})))
        FROM {t} c WHERE c.code = %(code)s AND c.geometry IS NOT NULL""").format(
        cvalid=q.valid("c", "countries"), srid=s.Literal(q.srid), t=q.table("countries")),
        {"o": _wkb(point), "code": code})
    return None if not rows or rows[0][0] is None else float(rows[0][0])


def nearest_gates(store, point, k: int, *, international_only: bool, published_only: bool,
                  partner_iso3: str | None):
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
        srid=s.Literal(q.srid), t=q.table("gates"), where=where, gm=q.m("g"))
    rows = q.fetch(query, {"o": _wkb(point), "intl": bool(international_only), "pub": bool(published_only),
                           "iso3": partner_iso3, "k": int(k)})
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
        ctes.append(s.SQL("""cp AS (SELECT c.fid, b.id FROM pieces b JOIN {t} c ON {cm} && ST_Expand(b.g, %(d)s)),
        cg AS MATERIALIZED (SELECT c.fid, {cvalid} AS g FROM {t} c WHERE c.fid IN (SELECT fid FROM cp)),
        cz AS (SELECT cg.fid, min(ST_Distance(cg.g, b.g)) AS d FROM cp JOIN cg ON cg.fid = cp.fid
               JOIN pieces b ON b.id = cp.id WHERE ST_DWithin(cg.g, b.g, %(d)s) GROUP BY cg.fid)""").format(
            t=q.table(clayer), cm=q.m("c"), cvalid=q.valid("c", clayer)))
        selects.append(s.SQL("SELECT 'communes', fid, d, NULL::float8 FROM cz"))
    if "settlements" in parts:
        ctes.append(s.SQL("""sp AS MATERIALIZED (SELECT p.fid, b.id FROM pieces b JOIN {t} p ON {pm} && ST_Expand(b.g, %(d)s)
            WHERE %(cc)s::text[] IS NULL OR p.cc = ANY (%(cc)s::text[])),
        sg AS MATERIALIZED (SELECT p.fid, {pm} AS g FROM {t} p WHERE p.fid IN (SELECT fid FROM sp)),
        sz AS (SELECT sg.fid, min(ST_Distance(sg.g, b.g)) AS d FROM sp JOIN sg ON sg.fid = sp.fid
               JOIN pieces b ON b.id = sp.id WHERE ST_DWithin(sg.g, b.g, %(d)s) GROUP BY sg.fid)""").format(
            pm=q.m("p"), t=q.table("places")))
        selects.append(s.SQL("SELECT 'settlements', fid, d, NULL::float8 FROM sz"))
    if "roads" in parts:
        ctes.append(s.SQL("""rb AS MATERIALIZED (SELECT r.fid, b.id FROM pieces b JOIN {t} r ON {rm} && ST_Expand(b.g, %(d)s)
            WHERE r.geometry IS NOT NULL AND NOT coalesce(r.is_railway, false)),
        rg AS MATERIALIZED (SELECT r.fid, {rm} AS g FROM {t} r WHERE r.fid IN (SELECT fid FROM rb)),
        rp AS MATERIALIZED (SELECT rb.fid, rb.id, ST_Distance(rg.g, b.g) AS d FROM rb JOIN rg ON rg.fid = rb.fid
            JOIN pieces b ON b.id = rb.id WHERE ST_DWithin(rg.g, b.g, %(d)s)),
        rz AS (SELECT fid, min(d) AS d FROM rp GROUP BY fid),
        re AS MATERIALIZED (SELECT rz.fid, ST_LineInterpolatePoint(e.geom, 0.5) AS mid, ST_Length(e.geom) AS len
            FROM rz JOIN rg ON rg.fid = rz.fid, ST_DumpSegments(ST_Segmentize(rg.g, %(step)s)) e),
        ri AS (SELECT re.fid, sum(re.len) AS len FROM re WHERE EXISTS (
            SELECT 1 FROM rp JOIN pieces b ON b.id = rp.id WHERE rp.fid = re.fid AND ST_DWithin(re.mid, b.g, %(d)s))
            GROUP BY re.fid)""").format(rm=q.m("r"), t=q.table("roads")))
        selects.append(s.SQL("SELECT 'roads', rz.fid, rz.d, coalesce(ri.len, 0) FROM rz LEFT JOIN ri ON ri.fid = rz.fid"))
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
