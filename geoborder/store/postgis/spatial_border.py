"""The border line in SQL: polygon adjacency of a Vietnamese unit (touching) and the features
within a distance of the line (border zone)."""

from __future__ import annotations

import numpy as np

from geoborder.store.postgis.spatial_sql import _Q, _geom, _per_version, _pieces, rows_of

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
    if "villages" in parts:
        ctes.append(
            s.SQL("""vp AS MATERIALIZED (SELECT v.fid, b.id FROM pieces b JOIN {t} v ON {vm} && ST_Expand(b.g, %(d)s)),
        vg AS MATERIALIZED (SELECT v.fid, {vm} AS g FROM {t} v WHERE v.fid IN (SELECT fid FROM vp)),
        vz AS (SELECT vg.fid, min(ST_Distance(vg.g, b.g)) AS d FROM vp JOIN vg ON vg.fid = vp.fid
               JOIN pieces b ON b.id = vp.id WHERE ST_DWithin(vg.g, b.g, %(d)s) GROUP BY vg.fid)""").format(
                vm=q.m("v", "villages"), t=q.table("villages")
            )
        )
        selects.append(s.SQL("SELECT 'villages', fid, d, NULL::float8 FROM vz"))
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
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    if not selects:
        return out
    query = s.SQL("WITH {} {} ORDER BY 1, 2").format(s.SQL(",\n").join(ctes), s.SQL(" UNION ALL ").join(selects))
    rows = q.fetch(query, params)
    layers = {"communes": clayer, "settlements": "places", "villages": "villages", "roads": "roads"}
    for part in parts:
        mine = [r for r in rows if r[0] == part]
        rws = rows_of(store, layers[part], [r[1] for r in mine])
        dist = np.array([float(r[2]) for r in mine])
        km = np.array([float(r[3] or 0.0) / 1000.0 for r in mine])
        out[part] = (rws, dist, km)
    return out
