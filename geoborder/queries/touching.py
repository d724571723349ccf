"""Communes touching a unit: a partner country / province / Lao district (from the border
segments) or a Vietnamese province / pre-2025 district (polygon adjacency with a tolerance).

Adjacency tolerance (inter-province / inter-district "khu vực giáp ranh")
-------------------------------------------------------------------------
Neighbouring communes of one layer do not share their edges exactly. Measured with
`bench/queries.py --tolerance` (every commune boundary sampled every 50 m in EPSG:3405; for each
sample the signed distance to the nearest *other* commune within 2 km: a gap outside it or an
overlap inside it), the absolute mismatch is distributed as follows (sample counts per bin):

    bin (m)          0-50       50-75   75-100  100-125  125-150  150-175  175-200  200-250  250-300
    communes_2009    4,613,742  316,027 188,148  97,070   36,523    3,311    2,168    2,725    2,750
    communes_2025    3,558,635    4,206   1,203     605    1,164      625    1,120    1,912    1,976

(2009: 48.5 % of the samples lie exactly on the neighbour's edge, 27.9 % in a gap, 23.6 % in an
overlap; 2025: 66.7 %, 17.9 %, 15.4 %.) Past the knee the counts stay flat (~1-3 k per 50 m bin, then grow again past 400 m): that tail is
not misalignment but the outer edge of communes that face a non-neighbour across a river, a
coast or the national border. The knee is at 150-175 m for the 2009 census layer (low
resolution, edges generalised commune by commune) and at 50-75 m for the 2025 layer (mostly
shared edges, ~50 m simplification), hence ADJACENCY_TOLERANCE_M below. Two communes touch
when their boundaries come within the tolerance along at least `min_shared_km` (default: the
catalog's `border_commune_min_km`, 0.5 km; shorter contacts are corners). The shared length is
the length of a commune's boundary that lies within the tolerance of the other unit.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.queries._border import _breakdown, _segment_mask
from geoborder.queries._common import (
    _commune_layer,
    _commune_props,
    _commune_rows,
    _Metric,
    _metric,
    _number,
    _to_wgs84,
    _vintage,
)
from geoborder.queries._local import member_mask, spatial
from geoborder.queries._output import collection, features
from geoborder.queries.answers import Answer, as_dict, cached
from geoborder.queries.areas import QueryArea, query_area
from geoborder.queries.names import Unit, resolve_unit, resolve_vn_unit

#: measured knee of the neighbour-mismatch distribution (module docstring)
ADJACENCY_TOLERANCE_M = {2009: 175.0, 2025: 75.0}


def touching_answer(
    store,
    unit: str,
    *,
    vintage: int = 2025,
    within: str | None = None,
    min_shared_km: float | None = None,
    geometry: str = "commune",
    area: str | None = None,
    indicators_db=None,
) -> Answer:
    """The answer of `touching` as held bytes (geoborder.queries.answers)."""
    args = dict(unit=unit, vintage=vintage, within=within, min_shared_km=min_shared_km, geometry=geometry)
    with store.pinned():
        qa = query_area(store, indicators_db, area, _vintage(vintage))
        return cached(
            store,
            "touching",
            {**args, "area": area},
            lambda: _touching(store, unit, vintage, within, min_shared_km, geometry, qa),
            depends=qa.depends if qa else (),
            tag=qa.depends if qa else (),
        )


touching = as_dict(
    touching_answer,
    "touching",
    """Communes (of `vintage`) that touch `unit`, with the shared boundary length per commune.

    `unit` is a partner country / Chinese or Lao province / Lao district (answered from the
    border segments) or a Vietnamese province or pre-2025 district (answered by polygon adjacency
    with the measured tolerance). `within` keeps only the communes of one Vietnamese province or
    district. `geometry`: "commune" (the polygons) or "shared" (the shared boundary lines).
    `area`: only the communes of that province or saved area (geoborder.queries.areas).
    """,
)


def _touching(store, unit, vintage, within, min_shared_km, geometry, qa: QueryArea | None = None) -> dict:
    vintage = _vintage(vintage)
    if geometry not in ("commune", "shared"):
        raise InvalidParameter(f"geometry must be 'commune' or 'shared', not {geometry!r}")
    m = _metric(store)
    min_km = m.min_km if min_shared_km is None else _number("min_shared_km", min_shared_km, high=1000)
    u = resolve_unit(store, unit, vintage)
    w = resolve_vn_unit(store, within, vintage, param="within") if within else None
    if u.is_partner:
        fc = _touching_partner(store, m, u, w, vintage, min_km, geometry, qa)
    elif u.vintage != vintage:
        raise InvalidParameter(f"{u.name} is a {u.vintage} unit; ask with vintage={u.vintage}")
    else:
        fc = _touching_vn(store, m, u, w, vintage, min_km, geometry, qa)
    if qa is not None:
        fc["query"]["area"] = qa.as_dict()
    return fc


def _touching_partner(store, m, u: Unit, w: Unit | None, vintage, min_km, geometry, qa=None) -> dict:
    seg = store.frame(f"border_segments_{vintage}")
    mask = _segment_mask(seg, u).copy()
    if w is not None:
        field = "district_code" if w.kind == "district" else "province_code"
        mask &= (seg[field] == w.code).to_numpy()
    if qa is not None:
        mask &= seg["commune_code"].astype(str).isin(qa.codes).to_numpy()
    sel = seg[mask]
    communes = store.frame(_commune_layer(vintage))
    # every partner unit each commune faces (not only the one asked about): computed once
    per_unit = m.memo(
        ("partner_lengths", vintage),
        lambda: {
            c: {k: round(float(v), 3) for k, v in g.droplevel(0).items()}
            for c, g in seg.groupby(["commune_code", "partner_unit_code"])["length_km"].sum().groupby(level=0)
        },
    )
    props, geoms, excluded = [], [], []
    if len(sel):
        totals = sel.groupby("commune_code", sort=True)["length_km"].sum()
        pos = _commune_rows(store, vintage, totals.index)
        cgeoms = np.asarray(communes.geometry.values, dtype=object)
        sgeoms = np.asarray(sel.geometry.values, dtype=object)
        codes = sel["commune_code"].to_numpy()
        breakdown = _breakdown(sel)
        for (code, km), p in zip(totals.items(), pos):
            if p < 0:  # a segment of a commune the commune layer does not hold: nothing to show
                continue
            if km < min_km:
                excluded.append({"commune_code": code, "shared_length_km": round(float(km), 3)})
                continue
            d = _commune_props(communes.iloc[int(p)], vintage)
            d["shared_length_km"] = round(float(km), 3)
            d["facing"] = breakdown.get(code, [])
            d["partner_lengths_km"] = per_unit.get(code, {})
            d["border_length_km"] = round(sum(d["partner_lengths_km"].values()), 3)
            props.append(d)
            if geometry == "commune":
                geoms.append(cgeoms[int(p)])
            else:
                geoms.append(shapely.line_merge(shapely.union_all(sgeoms[codes == code])))
    total = sum(p["shared_length_km"] for p in props)
    return collection(
        features(props, geoms, [p["commune_code"] for p in props]),
        query={
            "question": "touching",
            "unit": u.as_dict(),
            "within": w.as_dict() if w else None,
            "vintage": vintage,
            "min_shared_km": min_km,
            "geometry": geometry,
            "method": f"border_segments_{vintage} (border line cut by commune and partner unit)",
        },
        numberMatched=len(props),
        shared_length_km=round(total, 3),
        excluded_short_contacts=_named(communes, excluded, vintage),
    )


def _named(communes, excluded: list[dict], vintage: int) -> list[dict]:
    """The short contacts with the commune's name and province (and district, 2009), as the
    neighbours are given: a code alone says nothing to a planner. Both stores list the contacts by
    code; the names come from the one communes frame."""
    if not excluded:
        return excluded
    keys = ["name", "province_name"] + (["district_name"] if vintage == 2009 else [])
    keys = [k for k in keys if k in communes.columns]
    codes = communes["commune_code"].astype(str)
    wanted = {str(e["commune_code"]) for e in excluded}
    rows = communes.loc[codes.isin(wanted).to_numpy(), keys].set_axis(codes[codes.isin(wanted)].to_numpy())
    rows = rows[~rows.index.duplicated()]
    out = []
    for e in excluded:
        code = str(e["commune_code"])
        names = {k: (rows.at[code, k] if code in rows.index else None) for k in keys}
        out.append({"commune_code": code, **names, "shared_length_km": e["shared_length_km"]})
    return out


def _touching_vn(store, m: _Metric, u: Unit, w: Unit | None, vintage, min_km, geometry, qa=None) -> dict:
    tol = ADJACENCY_TOLERANCE_M[vintage]
    layer = _commune_layer(vintage)
    c = store.frame(layer)
    member = member_mask(c, u)
    if not member.any():
        raise NotFound(f"{u.name} has no communes in {layer}")
    cand, km, shared, pi, pj, plen, excluded = spatial(store).adjacency(
        c, member, u, w, vintage, tol, min_km, shared=geometry == "shared"
    )
    if qa is not None:  # only the area's communes (their neighbours in the unit are listed as they are)
        keep = qa.mask(store)[np.asarray(cand, dtype=np.int64)]
        pairs = keep[np.asarray(pi, dtype=np.int64)] if len(pi) else np.zeros(0, dtype=bool)
        pi = (np.cumsum(keep) - 1)[np.asarray(pi, dtype=np.int64)[pairs]]
        pj, plen = np.asarray(pj)[pairs], np.asarray(plen)[pairs]
        cand, km = np.asarray(cand)[keep], np.asarray(km)[keep]
        if len(shared) == len(keep):
            shared = np.asarray(shared, dtype=object)[keep]
        excluded = [e for e in excluded if str(e["commune_code"]) in set(qa.codes)]
    props = []
    for n, (i, k) in enumerate(zip(cand, km)):
        row = c.iloc[int(i)]
        d = _commune_props(row, vintage)
        d["shared_length_km"] = round(float(k), 3)
        sel = (pi == n) & (plen >= 2 * tol / 1000.0)
        nb = []
        for j, length in sorted(zip(pj[sel], plen[sel]), key=lambda t: -t[1]):
            r = c.iloc[int(j)]
            e = {
                "commune_code": r["commune_code"],
                "name": r["name"],
                "province_name": r["province_name"],
                "shared_length_km": round(float(length), 3),
            }
            if vintage == 2009:
                e["district_name"] = r["district_name"]
            nb.append(e)
        d["neighbours"] = nb
        if vintage == 2009:
            d["neighbour_districts"] = sorted({e["district_name"] for e in nb})
        d["neighbour_provinces"] = sorted({e["province_name"] for e in nb})
        props.append(d)
    if geometry == "shared":
        geoms_w = _to_wgs84(m, shapely.line_merge(shared) if len(shared) else shared)
    else:
        geoms_w = np.asarray(c.geometry.values, dtype=object)[cand]
    total = float(km.sum())
    return collection(
        features(props, geoms_w, [p["commune_code"] for p in props]),
        query={
            "question": "touching",
            "unit": u.as_dict(),
            "within": w.as_dict() if w else None,
            "vintage": vintage,
            "min_shared_km": min_km,
            "geometry": geometry,
            "method": f"polygon adjacency in {m.crs}: boundary within {tol:g} m of the unit "
            f"(tolerance measured from {layer}, see geoborder.queries)",
            "tolerance_m": tol,
        },
        numberMatched=len(props),
        shared_length_km=round(total, 3),
        excluded_short_contacts=_named(c, excluded, vintage),
    )
