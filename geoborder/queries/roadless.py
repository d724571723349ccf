"""Roadless settlements: settlements farther than a distance from every road (railways
excluded), one by one or counted per commune."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from geoborder.core.errors import InvalidParameter
from geoborder.queries._border import MAX_ZONE_KM, _partner_for_zone
from geoborder.queries._common import (
    _collection,
    _commune_layer,
    _commune_props,
    _countries,
    _features,
    _metric,
    _number,
    _split_list,
    _vintage,
)
from geoborder.queries._local import nearest_roads_of, spatial
from geoborder.queries.names import _key
from geoborder.store.base import Store

MAX_ROAD_DISTANCE_M = 100_000.0


def _road_classes(store, road_classes) -> tuple[str, ...] | None:
    wanted = _split_list(road_classes)
    if not wanted:
        return None
    roads = store.frame("roads")
    known = {_key(v): v for v in roads["road_class"].dropna().unique()}
    out = []
    for v in wanted:
        k = _key(v)
        if k not in known:
            raise InvalidParameter(f"unknown road class {v!r}; classes: {', '.join(sorted(known.values()))}")
        out.append(known[k])
    return tuple(sorted(set(out)))


def nearest_roads(store: Store, road_classes=None) -> tuple[np.ndarray, np.ndarray]:
    """For every settlement of `places`: the row of the nearest road (railways excluded, and
    limited to `road_classes` if given) and the distance in metres. One STRtree query."""
    return nearest_roads_of(store, _metric(store), _road_classes(store, road_classes))


def roadless_villages(
    store,
    *,
    min_distance_m: float = 2000.0,
    countries="VN",
    road_classes=None,
    border_km: float | None = None,
    partner: str | None = None,
    vintage: int = 2025,
) -> dict:
    """Settlements farther than `min_distance_m` from every road (railways excluded), with the
    distance to and the name of the nearest road, and the commune that holds each one.

    `countries`: ISO2 codes of the settlements to consider (default VN; "all" for every one).
    `border_km` (with optional `partner`): only settlements within that distance of the border.
    """
    args = dict(
        min_distance_m=min_distance_m,
        countries=countries,
        road_classes=road_classes,
        border_km=border_km,
        partner=partner,
        vintage=vintage,
    )
    with store.pinned():
        return _roadless_villages(store, **args)


def _roadless_villages(store, *, min_distance_m, countries, road_classes, border_km, partner, vintage) -> dict:
    dmin = _number("min_distance_m", min_distance_m, high=MAX_ROAD_DISTANCE_M)
    vintage = _vintage(vintage)
    cc = _countries(store, countries)
    m = _metric(store)
    places = store.frame("places")
    classes = _road_classes(store, road_classes)  # checked first, as before the partner
    p = _partner_for_zone(store, partner)
    bkm = None
    if border_km is not None:
        bkm = _number("border_km", border_km, high=MAX_ZONE_KM, allow_low=False)
    elif p is not None:
        raise InvalidParameter("partner needs border_km (the distance from that part of the border)")
    found = spatial(store).roadless(
        vintage=vintage, dmin=dmin, cc=cc, classes=classes, partner=p, border_m=None if bkm is None else bkm * 1000
    )
    ridx, rdist, pc, bdist, sel = found.road_row, found.road_m, found.commune_row, found.border_m, found.selected
    rows = np.flatnonzero(sel)
    rows = rows[np.argsort(-rdist[rows], kind="stable")]
    roads = store.frame("roads")
    communes = store.frame(_commune_layer(vintage))
    props = []
    cols = [k for k in ("geonameid", "name", "asciiname", "fcode", "cc", "population", "dem") if k in places.columns]
    road_cols = roads[["road_id", "name", "road_type", "road_class"]].to_numpy()
    c_cols = communes[["commune_code", "name", "province_name"]].to_numpy()
    for i, d in zip(rows, places.iloc[rows][cols].to_dict("records")):
        d["distance_to_road_m"] = round(float(rdist[i]), 1) if math.isfinite(rdist[i]) else None
        if ridx[i] >= 0:
            d.update(
                zip(
                    ("nearest_road_id", "nearest_road_name", "nearest_road_type", "nearest_road_class"),
                    road_cols[ridx[i]],
                )
            )
        if bdist is not None:
            d["distance_to_border_m"] = round(float(bdist[i]), 1)
        ci = pc[i]
        d.update(zip(("commune_code", "commune_name", "province_name"), c_cols[ci] if ci >= 0 else (None, None, None)))
        props.append(d)
    considered = int(((places["cc"].isin(cc).to_numpy()) if cc is not None else np.ones(len(places), bool)).sum())
    return _collection(
        _features(props, np.asarray(places.geometry.values, dtype=object)[rows], [p["geonameid"] for p in props]),
        query={
            "question": "roadless-villages",
            "min_distance_m": dmin,
            "countries": list(cc) if cc else "all",
            "road_classes": list(_road_classes(store, road_classes) or []) or "all (railways excluded)",
            "border_km": border_km,
            "partner": p.as_dict() if p else None,
            "vintage": vintage,
            "metric_crs": m.crs,
        },
        numberMatched=len(props),
        settlements_considered=considered,
    )


def roadless_by_commune(
    store,
    *,
    min_distance_m: float = 2000.0,
    countries="VN",
    road_classes=None,
    border_km: float | None = None,
    partner: str | None = None,
    vintage: int = 2025,
) -> dict:
    """Per commune: how many settlements it holds and how many of them are roadless."""
    args = dict(
        min_distance_m=min_distance_m,
        countries=countries,
        road_classes=road_classes,
        border_km=border_km,
        partner=partner,
        vintage=vintage,
    )
    with store.pinned():
        return _roadless_by_commune(store, **args)


def _roadless_by_commune(store, *, min_distance_m, countries, road_classes, border_km, partner, vintage) -> dict:
    fc = roadless_villages(
        store,
        min_distance_m=min_distance_m,
        countries=countries,
        road_classes=road_classes,
        border_km=border_km,
        partner=partner,
        vintage=vintage,
    )
    vintage = _vintage(vintage)
    communes = store.frame(_commune_layer(vintage))
    cc = _countries(store, countries)
    totals = spatial(store).settlements_per_commune(vintage, cc)
    groups: dict[str, list] = {}
    for f in fc["features"]:
        code = f["properties"]["commune_code"]
        if code is not None:
            groups.setdefault(code, []).append(f["properties"])
    pos = pd.Series(np.arange(len(communes)), index=communes["commune_code"].to_numpy())
    props, rows = [], []
    for code in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        i = int(pos[code])
        d = _commune_props(communes.iloc[i], vintage)
        items = groups[code]
        d["settlements"] = int(totals.get(i, 0))
        d["roadless_settlements"] = len(items)
        d["max_distance_to_road_m"] = max(x["distance_to_road_m"] for x in items)
        d["roadless_names"] = [x["name"] for x in items]
        props.append(d)
        rows.append(i)
    unplaced = sum(1 for f in fc["features"] if f["properties"]["commune_code"] is None)
    return _collection(
        _features(props, np.asarray(communes.geometry.values, dtype=object)[rows], [p["commune_code"] for p in props]),
        query={**fc["query"], "question": "roadless-villages-by-commune"},
        numberMatched=len(props),
        roadless_settlements=fc["numberMatched"],
        roadless_outside_communes=unplaced,
        settlements_considered=fc["settlements_considered"],
    )
