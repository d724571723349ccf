"""The border zone: communes, settlements and roads within a distance of the border line."""

from __future__ import annotations

import numpy as np

from geoborder.core.errors import InvalidParameter
from geoborder.queries._border import MAX_ZONE_KM, _partner_for_zone
from geoborder.queries._common import (
    _collection,
    _commune_layer,
    _commune_records,
    _countries,
    _features,
    _metric,
    _number,
    _split_list,
    _vintage,
)
from geoborder.queries._local import spatial

ZONE_PARTS = ("communes", "settlements", "roads")
#: roads are measured inside the zone piece by piece, at this resolution
ZONE_ROAD_STEP_M = 100.0


def border_zone(
    store,
    *,
    distance_km: float = 10.0,
    partner: str | None = None,
    vintage: int = 2025,
    include=ZONE_PARTS,
    countries="VN",
) -> dict:
    """Communes, settlements and roads (railways excluded) within `distance_km` of the border
    line, or of the part of it facing one partner country / province / Lao district."""
    args = dict(distance_km=distance_km, partner=partner, vintage=vintage, include=include, countries=countries)
    with store.pinned():
        return _border_zone(store, **args)


def _border_zone(store, *, distance_km, partner, vintage, include, countries) -> dict:
    dkm = _number("distance_km", distance_km, high=MAX_ZONE_KM, allow_low=False)
    vintage = _vintage(vintage)
    parts = _split_list(include) or list(ZONE_PARTS)
    bad = [x for x in parts if x not in ZONE_PARTS]
    if bad:
        raise InvalidParameter(f"include: unknown part(s) {', '.join(bad)}; choose from {', '.join(ZONE_PARTS)}")
    cc = _countries(store, countries)
    m = _metric(store)
    p = _partner_for_zone(store, partner)
    d = dkm * 1000
    found = spatial(store).zone(
        partner=p, vintage=vintage, d=d, parts=[x for x in ZONE_PARTS if x in parts], cc=cc, step=ZONE_ROAD_STEP_M
    )
    features, counts = [], {}
    if "communes" in parts:
        layer = _commune_layer(vintage)
        c = store.frame(layer)
        idx, dist, _ = found["communes"]
        props = [
            {"feature_kind": "commune", **r, "distance_to_border_m": round(float(di), 1)}
            for r, di in zip(_commune_records(c, idx, vintage), dist)
        ]
        features += _features(props, np.asarray(c.geometry.values, dtype=object)[idx])
        counts["communes"] = len(props)
    if "settlements" in parts:
        places = store.frame("places")
        idx, dist, _ = found["settlements"]
        props = [
            {
                "feature_kind": "settlement",
                **{k: places[k].iat[int(i)] for k in ("geonameid", "name", "fcode", "cc", "population")},
                "distance_to_border_m": round(float(di), 1),
            }
            for i, di in zip(idx, dist)
        ]
        features += _features(props, np.asarray(places.geometry.values, dtype=object)[idx])
        counts["settlements"] = len(props)
    if "roads" in parts:
        roads = store.frame("roads")
        idx, dist, inside_km = found["roads"]
        props = [
            {
                "feature_kind": "road",
                **{k: roads[k].iat[int(i)] for k in ("road_id", "name", "road_type", "road_class")},
                "distance_to_border_m": round(float(di), 1),
                "length_in_zone_km": round(float(lk), 3),
            }
            for i, di, lk in zip(idx, dist, inside_km)
        ]
        features += _features(props, np.asarray(roads.geometry.values, dtype=object)[idx])
        counts["roads"] = len(props)
    return _collection(
        features,
        query={
            "question": "border-zone",
            "distance_km": dkm,
            "partner": p.as_dict() if p else None,
            "vintage": vintage,
            "include": parts,
            "countries": list(cc) if cc else "all",
            "line": "border_lines" if p is None or p.kind == "country" else f"border_segments_{vintage}",
            "metric_crs": m.crs,
        },
        numberMatched=len(features),
        counts=counts,
    )
