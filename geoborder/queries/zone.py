"""The border zone: communes, settlements, villages and roads within a distance of the border line."""

from __future__ import annotations

import numpy as np

from geoborder.core.errors import InvalidParameter
from geoborder.queries._border import MAX_ZONE_KM, _partner_for_zone
from geoborder.queries._common import (
    _commune_layer,
    _commune_records,
    _countries,
    _metric,
    _number,
    _split_list,
    _vintage,
)
from geoborder.queries._local import spatial
from geoborder.queries._output import collection, features
from geoborder.queries.answers import Answer, as_dict, cached
from geoborder.queries.areas import QueryArea, query_area
from geoborder.queries.roadless import _has_layer

ZONE_PARTS = ("communes", "settlements", "villages", "roads")
#: what `include` holds when not given: every part the store has (villages only with the layer)
VILLAGE_FIELDS = ("geonameid", "name", "feature_code", "dem_m", "position_precision")
#: roads are measured inside the zone piece by piece, at this resolution
ZONE_ROAD_STEP_M = 100.0


def border_zone_answer(
    store,
    *,
    distance_km: float = 10.0,
    partner: str | None = None,
    vintage: int = 2025,
    include=None,
    countries="VN",
    area: str | None = None,
    indicators_db=None,
) -> Answer:
    """The answer of `border_zone` as held bytes (geoborder.queries.answers)."""
    args = dict(distance_km=distance_km, partner=partner, vintage=vintage, include=include, countries=countries)
    with store.pinned():
        qa = query_area(store, indicators_db, area, _vintage(vintage))
        return cached(
            store,
            "border-zone",
            {**args, "area": area},
            lambda: _border_zone(store, **args, qa=qa),
            depends=qa.depends if qa else (),
            tag=qa.depends if qa else (),
        )


border_zone = as_dict(
    border_zone_answer,
    "border_zone",
    """Communes, settlements, villages and roads (railways excluded) within `distance_km` of the
    border line, or of the part of it facing one partner country / province / Lao district.
    `include`: the parts (default: all the store holds; villages need the `villages` layer).
    `area`: only what lies in that province or saved area (geoborder.queries.areas).""",
)


def _in_area(store, found: dict, qa: QueryArea, vintage: int) -> dict:
    """The zone's parts kept to the area: its communes, the villages placed in them, the
    settlements within them and the roads crossing them."""
    out = dict(found)

    def keep(part, ok):
        idx, dist, extra = found[part]
        ok = np.asarray(ok, dtype=bool)
        out[part] = (idx[ok], dist[ok], extra[ok] if extra is not None else None)

    if "communes" in found:
        keep("communes", qa.mask(store)[np.asarray(found["communes"][0], dtype=np.int64)])
    if "villages" in found:
        codes = store.frame("villages")[f"commune_code_{vintage}"].astype(str).to_numpy()
        keep("villages", np.isin(codes[np.asarray(found["villages"][0], dtype=np.int64)], qa.codes))
    if "settlements" in found:
        pts = np.asarray(store.frame("places").geometry.values, dtype=object)
        keep("settlements", qa.settlements_inside(store, pts[np.asarray(found["settlements"][0], dtype=np.int64)]))
    if "roads" in found:
        lines = np.asarray(store.frame("roads").geometry.values, dtype=object)
        keep("roads", qa.crossing(store, lines[np.asarray(found["roads"][0], dtype=np.int64)]))
    return out


def _border_zone(store, *, distance_km, partner, vintage, include, countries, qa=None) -> dict:
    dkm = _number("distance_km", distance_km, high=MAX_ZONE_KM, allow_low=False)
    vintage = _vintage(vintage)
    parts = _zone_parts(store, include)
    cc = _countries(store, countries)
    m = _metric(store)
    p = _partner_for_zone(store, partner)
    d = dkm * 1000
    found = spatial(store).zone(
        partner=p, vintage=vintage, d=d, parts=[x for x in ZONE_PARTS if x in parts], cc=cc, step=ZONE_ROAD_STEP_M
    )
    if qa is not None:
        found = _in_area(store, found, qa, vintage)
    feats: list = []
    counts: dict[str, int] = {}
    caveats: dict[str, dict] = {}
    if "communes" in parts:
        counts["communes"] = _add(feats, *_zone_communes(store, found["communes"], vintage))
    if "settlements" in parts:
        counts["settlements"] = _add(feats, *_zone_settlements(store, found["settlements"]))
    if "villages" in parts:
        counts["villages"] = _add(feats, *_zone_villages(store, found["villages"], vintage))
        caveats["villages"] = _villages_caveat(store, found["villages"][0])
    if "roads" in parts:
        counts["roads"] = _add(feats, *_zone_roads(store, found["roads"]))
    query = {
        "question": "border-zone",
        "distance_km": dkm,
        "partner": p.as_dict() if p else None,
        "vintage": vintage,
        "include": parts,
        "countries": list(cc) if cc else "all",
        "line": "border_lines" if p is None or p.kind == "country" else f"border_segments_{vintage}",
        "metric_crs": m.crs,
    }
    if qa is not None:
        query["area"] = {
            **qa.as_dict(),
            "kept": "communes of the area; villages placed in them, settlements within them, roads crossing "
            "them (length_in_zone_km: the road's whole length in the zone)",
        }
    return collection(
        feats, query=query, numberMatched=len(feats), counts=counts, **({"caveats": caveats} if caveats else {})
    )


def _zone_parts(store, include) -> list[str]:
    """The parts asked for (`include`), checked; by default every part the store holds."""
    parts = _split_list(include) or [x for x in ZONE_PARTS if x != "villages" or _has_layer(store, "villages")]
    bad = [x for x in parts if x not in ZONE_PARTS]
    if bad:
        raise InvalidParameter(f"include: unknown part(s) {', '.join(bad)}; choose from {', '.join(ZONE_PARTS)}")
    if "villages" in parts and not _has_layer(store, "villages"):
        raise InvalidParameter("include=villages: this store has no villages layer (its source is not in the pack)")
    return parts


def _add(feats: list, props: list[dict], frame, idx) -> int:
    """The features of one part (its properties, the geometries of `frame` at `idx`) appended to
    `feats`; how many."""
    feats += features(props, np.asarray(frame.geometry.values, dtype=object)[idx])
    return len(props)


def _zone_communes(store, found, vintage: int):
    c = store.frame(_commune_layer(vintage))
    idx, dist, _ = found
    props = [
        {"feature_kind": "commune", **r, "distance_to_border_m": round(float(di), 1)}
        for r, di in zip(_commune_records(c, idx, vintage), dist)
    ]
    return props, c, idx


def _zone_settlements(store, found):
    places = store.frame("places")
    idx, dist, _ = found
    props = [
        {
            "feature_kind": "settlement",
            **{k: places[k].iat[int(i)] for k in ("geonameid", "name", "fcode", "cc", "population")},
            "distance_to_border_m": round(float(di), 1),
        }
        for i, di in zip(idx, dist)
    ]
    return props, places, idx


def _zone_villages(store, found, vintage: int):
    villages = store.frame("villages")
    idx, dist, _ = found
    cols = [f"commune_code_{vintage}", f"commune_name_{vintage}", f"province_name_{vintage}"]
    recs = villages.iloc[np.asarray(idx, dtype=np.int64)][[*VILLAGE_FIELDS, *cols]].to_dict("records")
    props = [
        {
            "feature_kind": "village",
            **{k: r[k] for k in VILLAGE_FIELDS},
            **dict(zip(("commune_code", "commune_name", "province_name"), (r[c] for c in cols))),
            "distance_to_border_m": round(float(di), 1),
        }
        for r, di in zip(recs, dist)
    ]
    return props, villages, idx


def _villages_caveat(store, idx) -> dict:
    """Where the villages come from, and how many are on GeoNames' whole arc-minute grid."""
    villages = store.frame("villages")
    grid = villages["coord_minute_grid"].fillna(False).astype(bool).to_numpy()[np.asarray(idx, dtype=np.int64)]
    info = store.layer("villages")
    return {
        "attribution": info.attribution,
        "source_vintage": info.source_vintage,
        "on_minute_grid": int(grid.sum()),
        "precision": "a position on a whole arc-minute grid is about ±1–2 km off: near the edge of the zone "
        "a village may fall either side of it",
    }


def _zone_roads(store, found):
    roads = store.frame("roads")
    idx, dist, inside_km = found
    props = [
        {
            "feature_kind": "road",
            **{k: roads[k].iat[int(i)] for k in ("road_id", "name", "road_type", "road_class")},
            "distance_to_border_m": round(float(di), 1),
            "length_in_zone_km": round(float(lk), 3),
        }
        for i, di, lk in zip(idx, dist, inside_km)
    ]
    return props, roads, idx
