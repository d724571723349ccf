"""Settlements, roads and gates in SQL: the nearest road of every settlement, the commune holding
it, roadless settlements, origins and the nearest gates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geoborder.core.errors import NotFound
from geoborder.store.postgis.spatial_sql import _Q, _geom, _per_version, _pieces, _wkb, rows_of

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


def nearest_roads(store, classes, layer: str = "places") -> tuple[np.ndarray, np.ndarray]:
    """For every settlement (row of `places`, or village: row of `villages`): the row of the nearest road (railways excluded, of
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
            pm=q.m("p", layer),
            places=q.table(layer),
            roads=q.table("roads"),
            r1m=q.m("r1", "roads"),
            r2m=q.m("r2", "roads"),
            ok1=_road_ok(q, "r1"),
            ok2=_road_ok(q, "r2"),
        )
        rows = q.fetch(query, {"classes": list(classes) if classes is not None else None})
        n = len(store.frame(layer))
        ridx, dist = np.full(n, -1, dtype=np.int64), np.full(n, np.inf)
        if rows:
            at = rows_of(store, layer, [r[0] for r in rows])
            ridx[at] = rows_of(store, "roads", [r[1] for r in rows])
            dist[at] = [float(r[2]) for r in rows]
        ridx.flags.writeable = dist.flags.writeable = False
        return ridx, dist

    key = ("nearest_roads", tuple(classes) if classes is not None else None)
    return _per_version(store, q.snap, key if layer == "places" else (*key, layer), make)


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


def layer_communes(store, layer: str, vintage: int) -> np.ndarray:
    """The commune row of every point of `layer`: for `places` from SQL (`place_communes`); for
    `villages` the layer's own commune_code_{vintage} (placed by the build), as in memory."""
    if layer == "places":
        return place_communes(store, vintage)
    c = store.frame(f"communes_{vintage}")
    pos = pd.Series(np.arange(len(c)), index=c["commune_code"].to_numpy())
    codes = store.frame(layer)[f"commune_code_{vintage}"].fillna("").to_numpy()
    return pos.reindex(list(codes)).fillna(-1).astype(np.int64).to_numpy()


def _considered(store, cc, layer: str = "places") -> np.ndarray:
    """Points of `layer` with a geometry, of countries `cc` (None: all)."""
    frame = store.frame(layer)
    ok = ~shapely.is_missing(np.asarray(frame.geometry.values, dtype=object))
    if cc is not None:
        ok &= frame["cc"].isin(list(cc)).to_numpy()
    return ok


def roadless(store, *, vintage: int, dmin: float, cc, classes, partner, border_m: float | None, layer: str = "places"):
    """Settlements (of countries `cc`, None: all) whose nearest road (railways excluded, of
    `classes` if given) is farther than dmin: rows of `places` with the row of that road (-1: no
    road), the distance (inf: no road), the distance to the border (when border_m is given: only
    settlements within it) and the row of the commune holding it (-1: none).

    The nearest roads and the communes come from `nearest_roads` and `place_communes` (SQL, once
    per version); the distance to the border is measured per request, in SQL, for the selected
    settlements only (KNN-free: the border pieces drive an index scan of the settlements)."""
    ridx, dist = nearest_roads(store, classes, layer)
    sel = _considered(store, cc, layer) & (dist > dmin)
    bdist = np.full(len(sel), np.inf)
    if border_m is not None:
        q = _Q(store)
        s = q.sql
        pieces, params = _pieces(q, partner, vintage)
        fids = store.frame(layer).index.to_numpy()[sel]
        params.update({"bm": float(border_m), "fids": [int(f) for f in fids]})
        query = s.SQL("""WITH {pieces},
        p AS MATERIALIZED (SELECT p.fid, {pm} AS g FROM {places} p WHERE p.fid = ANY (%(fids)s::bigint[]))
        SELECT p.fid, min(ST_Distance(p.g, b.g)) FROM pieces b
        JOIN {places} p2 ON {p2m} && ST_Expand(b.g, %(bm)s) JOIN p ON p.fid = p2.fid
        WHERE ST_DWithin(p.g, b.g, %(bm)s) GROUP BY p.fid""").format(
            pieces=pieces, pm=q.m("p", layer), places=q.table(layer), p2m=q.m("p2", layer)
        )
        rows = q.fetch(query, params)
        near = np.zeros(len(sel), dtype=bool)
        if rows:
            at = rows_of(store, layer, [r[0] for r in rows])
            near[at] = True
            bdist[at] = [float(r[1]) for r in rows]
        sel &= near
    prow = np.flatnonzero(sel)
    crow = layer_communes(store, layer, vintage)[prow]
    return prow, ridx[prow], dist[prow], bdist[prow], crow


def settlements_per_commune(store, vintage: int, cc, layer: str = "places") -> pd.Series:
    """How many settlements (of countries `cc`, None: all) each commune holds: count by commune row
    (a settlement counts for the first commune, by fid, that holds it; a village for its own)."""
    pc = layer_communes(store, layer, vintage)[_considered(store, cc, layer)]
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
