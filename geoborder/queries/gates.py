"""Nearest border gates to a point, a commune (its seat), a settlement or a village."""

from __future__ import annotations

import numpy as np
import shapely

from geoborder.core.crs import reproject
from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.queries._common import (
    NEIGHBOURHOOD_KM,
    WGS84,
    _commune_layer,
    _find_commune,
    _metric,
    _number,
    _seat_row,
    _to_wgs84,
)
from geoborder.queries._local import spatial
from geoborder.queries._output import collection, features
from geoborder.queries.answers import Answer, as_dict, cached
from geoborder.queries.names import resolve_partner
from geoborder.queries.roadless import _has_layer
from geoborder.store.base import Store

MAX_K = 100


def _check_point(store, lon, lat) -> shapely.Point:
    """A lon/lat origin, checked to lie in Vietnam's neighbourhood; returned in the metric CRS."""
    lon = _number("lon", lon, low=-180, high=180)
    lat = _number("lat", lat, low=-90, high=90)
    x0, y0, x1, y1 = store.catalog.build.get("extent", (90.0, 0.0, 125.0, 32.0))
    m = _metric(store)
    p = reproject(np.array([shapely.Point(lon, lat)], dtype=object), WGS84, m.crs)[0]
    far = not (x0 <= lon <= x1 and y0 <= lat <= y1)
    if not far:
        d = spatial(store).distance_to_vietnam(p)
        far = d is not None and d > NEIGHBOURHOOD_KM * 1000
    if far:
        raise InvalidParameter(
            f"the point lon={lon:g}, lat={lat:g} is outside Vietnam's neighbourhood (farther than "
            f"{NEIGHBOURHOOD_KM:g} km from Vietnam); give lon first, then lat, in degrees (EPSG:4326)"
        )
    return p


def _commune_origin(store: Store, code: str) -> tuple[shapely.Geometry, dict]:
    code, vintage, i = _find_commune(store, "commune", code)
    layer = _commune_layer(vintage)
    c = store.frame(layer)
    info = {"kind": "commune", "commune_code": code, "name": c["name"].iat[i], "vintage": vintage}
    if vintage == 2025:
        s = _seat_row(store, code)
        if s is not None:
            info["from"] = "commune seat (commune_seats_2025)"
            return spatial(store).origin("commune_seats_2025", s), info
    info["from"] = "a point inside the commune (no seat in the store)"
    return spatial(store).origin(layer, i, surface=True), info


def _place_origin(store: Store, geonameid) -> tuple[shapely.Geometry, dict]:
    gid = str(geonameid).strip()
    if not gid.isdigit():
        raise InvalidParameter(f"geonameid must be a GeoNames id (digits), not {geonameid!r}")
    places = store.frame("places")
    hit = np.flatnonzero((places["geonameid"].astype(str) == gid).to_numpy())
    if len(hit):
        i = int(hit[0])
        g = spatial(store).origin("places", i)
        return g, {"kind": "settlement", "geonameid": gid, "name": places["name"].iat[i], "cc": places["cc"].iat[i]}
    if _has_layer(store, "villages"):  # a village (the build keeps each geonameid in one layer only)
        villages = store.frame("villages")
        hit = np.flatnonzero((villages["geonameid"].astype(str) == gid).to_numpy())
        if len(hit):
            i = int(hit[0])
            g = spatial(store).origin("villages", i)
            return g, {
                "kind": "village",
                "geonameid": gid,
                "name": villages["name"].iat[i],
                "commune_code_2025": villages["commune_code_2025"].iat[i],
                "position_precision": villages["position_precision"].iat[i],
            }
    raise InvalidParameter(f"geonameid: unknown settlement or village {gid!r} (not among the store's settlements)")


def nearest_gates_answer(
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
) -> Answer:
    """The answer of `nearest_gates` as held bytes (geoborder.queries.answers)."""
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
    with store.pinned():
        return cached(store, "nearest-gates", args, lambda: _nearest_gates(store, **args))


nearest_gates = as_dict(
    nearest_gates_answer,
    "nearest_gates",
    """The k nearest border gates (with a location) to a point, a commune or a settlement.

    Distances are straight lines in metres in the metric CRS. `international_only`: gates of class
    international; `published_only`: gates whose position a source gives (not derived by the build).
    `partner`: only gates to one partner country.
    """,
)


#: the properties of a ranked gate, after its rank and distance
GATE_FIELDS = (
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
    k = _check_k(k)
    m = _metric(store)
    origin, info = _origin(store, given[0], lon, lat, commune, geonameid)
    ow = _to_wgs84(m, [origin])[0]
    info["lon"], info["lat"] = round(ow.x, 6), round(ow.y, 6)
    gates = store.frame("gates")
    p = _partner_country(store, partner)
    rows, dist, matched = spatial(store).nearest_gates(
        origin,
        k,
        international_only=bool(international_only),
        published_only=bool(published_only),
        partner_iso3=p.code if p else None,
    )
    props = _ranked(gates, rows, dist)
    return collection(
        features(props, np.asarray(gates.geometry.values, dtype=object)[rows], [p_["gate_id"] for p_ in props]),
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


def _check_k(k) -> int:
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise InvalidParameter(f"k must be an integer, not {k!r}") from None
    if not 1 <= k <= MAX_K:
        raise InvalidParameter(f"k must be between 1 and {MAX_K}, not {k}")
    return k


def _origin(store, kind: str, lon, lat, commune, geonameid) -> tuple[shapely.Geometry, dict]:
    """The origin (in the metric CRS) of the one kind given, and how the answer describes it."""
    if kind == "lon/lat":
        if lon is None or lat is None:
            raise InvalidParameter("give both lon and lat")
        return _check_point(store, lon, lat), {"kind": "point"}
    if kind == "commune":
        return _commune_origin(store, commune)
    return _place_origin(store, geonameid)


def _partner_country(store, partner):
    """The partner country the gates must face (None: any)."""
    if partner in (None, ""):
        return None
    p = resolve_partner(store, partner)
    if p.kind != "country":
        raise InvalidParameter(f"partner must be a country (LAO, CHN, KHM), not the {p.kind} {p.name}")
    return p


def _ranked(gates, rows, dist) -> list[dict]:
    props = []
    for rank, (i, d) in enumerate(zip(rows, dist), start=1):
        r = gates.iloc[int(i)]
        e = {"rank": rank, "distance_m": round(float(d), 1)}
        e.update({f: r.get(f) for f in GATE_FIELDS})
        props.append(e)
    return props


def _unplaced_count(store) -> int:
    """Gates the store keeps without a position (table gates_unplaced): they cannot be ranked."""
    try:
        return int(len(store.table("gates_unplaced")))
    except NotFound:
        return 0
