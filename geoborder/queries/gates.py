"""Nearest border gates to a point, a commune (its seat) or a settlement."""

from __future__ import annotations

import numpy as np
import shapely

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.queries._common import (
    _check_point,
    _collection,
    _commune_layer,
    _features,
    _find_commune,
    _Metric,
    _metric,
    _seat_row,
    _to_wgs84,
)
from geoborder.queries.names import resolve_partner
from geoborder.store.postgis import queries as _sql

MAX_K = 100


def _commune_origin(store, m: _Metric, code: str) -> tuple[shapely.Geometry, dict]:
    code, vintage, i = _find_commune(store, "commune", code)
    layer = _commune_layer(vintage)
    c = store.frame(layer)
    info = {"kind": "commune", "commune_code": code, "name": c["name"].iat[i], "vintage": vintage}
    sql = _sql.use_sql(store)
    if vintage == 2025:
        s = _seat_row(store, code)
        if s is not None:
            info["from"] = "commune seat (commune_seats_2025)"
            if sql:
                fid = store.frame("commune_seats_2025").index[s]
                return _sql.origin(store, "commune_seats_2025", fid), info
            return m.geoms(store, "commune_seats_2025")[s], info
    info["from"] = "a point inside the commune (no seat in the store)"
    if sql:
        return _sql.origin(store, layer, c.index[i], surface=True), info
    return shapely.point_on_surface(m.geoms(store, layer)[i]), info


def _place_origin(store, m: _Metric, geonameid) -> tuple[shapely.Geometry, dict]:
    gid = str(geonameid).strip()
    if not gid.isdigit():
        raise InvalidParameter(f"geonameid must be a GeoNames id (digits), not {geonameid!r}")
    places = store.frame("places")
    hit = np.flatnonzero((places["geonameid"].astype(str) == gid).to_numpy())
    if not len(hit):
        raise InvalidParameter(f"geonameid: unknown settlement {gid!r} (not among the store's settlements)")
    i = int(hit[0])
    g = _sql.origin(store, "places", places.index[i]) if _sql.use_sql(store) else m.geoms(store, "places")[i]
    return g, {"kind": "settlement", "geonameid": gid, "name": places["name"].iat[i], "cc": places["cc"].iat[i]}


def nearest_gates(
    store,
    *,
    lon: float | None = None,
    lat: float | None = None,
    commune: str | None = None,
    geonameid: str | None = None,
    k: int = 3,
    international_only: bool = False,
    published_only: bool = False,
    partner: str | None = None,
) -> dict:
    """The k nearest border gates (with a location) to a point, a commune or a settlement.

    Distances are straight lines in metres in the metric CRS. `international_only`: gates of class
    international; `published_only`: gates whose position a source gives (not derived by the build).
    `partner`: only gates to one partner country.
    """
    args = dict(
        lon=lon,
        lat=lat,
        commune=commune,
        geonameid=geonameid,
        k=k,
        international_only=international_only,
        published_only=published_only,
        partner=partner,
    )
    return _sql.pinned(store, lambda: _nearest_gates(store, **args))


def _nearest_gates(store, *, lon, lat, commune, geonameid, k, international_only, published_only, partner) -> dict:
    given = [
        n
        for n, v in (("lon/lat", lon if lon is not None else lat), ("commune", commune), ("geonameid", geonameid))
        if v not in (None, "")
    ]
    if len(given) != 1:
        raise InvalidParameter(
            "give exactly one origin: lon and lat, or commune, or geonameid"
            + (f" (got {', '.join(given)})" if given else "")
        )
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise InvalidParameter(f"k must be an integer, not {k!r}") from None
    if not 1 <= k <= MAX_K:
        raise InvalidParameter(f"k must be between 1 and {MAX_K}, not {k}")
    m = _metric(store)
    if given[0] == "lon/lat":
        if lon is None or lat is None:
            raise InvalidParameter("give both lon and lat")
        origin = _check_point(store, lon, lat)
        info = {"kind": "point"}
    elif given[0] == "commune":
        origin, info = _commune_origin(store, m, commune)
    else:
        origin, info = _place_origin(store, m, geonameid)
    ow = _to_wgs84(m, [origin])[0]
    info["lon"], info["lat"] = round(ow.x, 6), round(ow.y, 6)
    gates = store.frame("gates")
    p = None
    if partner not in (None, ""):
        p = resolve_partner(store, partner)
        if p.kind != "country":
            raise InvalidParameter(f"partner must be a country (LAO, CHN, KHM), not the {p.kind} {p.name}")
    if _sql.use_sql(store):
        rows, dist, matched = _sql.nearest_gates(
            store,
            origin,
            k,
            international_only=bool(international_only),
            published_only=bool(published_only),
            partner_iso3=p.code if p else None,
        )
    else:
        G = m.geoms(store, "gates")
        ok = ~shapely.is_missing(G)
        if international_only:
            ok &= (gates["gate_class"] == "international").to_numpy()
        if published_only:
            ok &= (gates["location_quality"] == "published").to_numpy()
        if p is not None:
            ok &= (gates["partner_iso3"] == p.code).to_numpy()
        rows = np.flatnonzero(ok)
        matched = len(rows)
        dist = shapely.distance(origin, G[rows])
        order = np.argsort(dist, kind="stable")[:k]
        rows, dist = rows[order], dist[order]
    props = []
    for rank, (i, d) in enumerate(zip(rows, dist), start=1):
        r = gates.iloc[int(i)]
        e = {"rank": rank, "distance_m": round(float(d), 1)}
        e.update(
            {
                f: r.get(f)
                for f in (
                    "gate_id",
                    "name_vi",
                    "name_ascii",
                    "gate_class",
                    "class_note",
                    "partner_gate",
                    "partner_iso3",
                    "partner_admin1",
                    "partner_admin2",
                    "location_quality",
                    "location_method",
                    "confidence",
                    "commune_name_2025",
                    "province_name_2025",
                )
            }
        )
        props.append(e)
    return _collection(
        _features(props, np.asarray(gates.geometry.values, dtype=object)[rows], [p_["gate_id"] for p_ in props]),
        query={
            "question": "nearest-gates",
            "origin": info,
            "k": k,
            "international_only": international_only,
            "published_only": published_only,
            "partner": p.as_dict() if p else None,
            "distance": f"straight line in {m.crs}",
        },
        numberMatched=int(matched),
        gates_without_location=_unplaced_count(store),
    )


def _unplaced_count(store) -> int:
    """Gates the store keeps without a position (table gates_unplaced): they cannot be ranked."""
    try:
        return int(len(store.table("gates_unplaced")))
    except NotFound:
        return 0
