"""Roadless villages: villages (or towns) farther than a distance from every road (railways
excluded), one by one or counted per commune, each answer with its caveats (the road layer used,
the precision of the positions, what could not be judged)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.queries._border import MAX_ZONE_KM, _partner_for_zone
from geoborder.queries._common import (
    _commune_keys,
    _commune_layer,
    _commune_records,
    _countries,
    _metric,
    _number,
    _split_list,
    _vintage,
)
from geoborder.queries._local import nearest_roads_of, spatial
from geoborder.queries._output import clean, collection, features
from geoborder.queries.answers import Answer, as_dict, cached
from geoborder.queries.areas import query_area
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


def nearest_roads(store: Store, road_classes=None, layer: str = "places") -> tuple[np.ndarray, np.ndarray]:
    """For every settlement of `places` (or village of `villages`): the row of the nearest road
    (railways excluded, and limited to `road_classes` if given) and the distance in metres. One
    STRtree query."""
    return nearest_roads_of(store, _metric(store), _road_classes(store, road_classes), layer)


#: the points a roadless question is asked about: `layer=villages` (GeoNames villages and hamlets
#: of the border provinces) or `layer=towns` (the settlements of `places`: towns and larger villages)
ROADLESS_LAYERS = {"villages": "villages", "towns": "places"}


def _has_layer(store, layer_id: str) -> bool:
    try:
        store.layer(layer_id)
    except NotFound:
        return False
    return True


def _points_layer(store, layer) -> tuple[str, str]:
    """(the name asked, the store layer): villages by default when the store holds them."""
    if layer is None or not str(layer).strip():
        return ("villages", "villages") if _has_layer(store, "villages") else ("towns", "places")
    key = str(layer).strip().lower()
    if key not in ROADLESS_LAYERS:
        raise InvalidParameter(f"layer must be one of {', '.join(ROADLESS_LAYERS)}, not {layer!r}")
    if not _has_layer(store, ROADLESS_LAYERS[key]):
        raise InvalidParameter(
            f"layer={key}: this store has no {ROADLESS_LAYERS[key]} layer (its source is not in the pack); use layer=towns"
        )
    return key, ROADLESS_LAYERS[key]


def _layer_countries(store, countries, lid: str) -> tuple[str, ...] | None:
    """The countries filter: of the settlements; the villages are Vietnam's only (no `cc`)."""
    cc = _countries(store, countries)
    if lid == "villages":
        if cc is not None and cc != ("VN",):
            raise InvalidParameter(
                f"countries={','.join(cc)}: the villages are Vietnam's only (VN); the settlements of other "
                "countries are towns: layer=towns"
            )
        return None
    return cc


def _bbox(geoms) -> list[float] | None:
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    if not len(geoms):
        return None
    b = shapely.total_bounds(geoms)
    return [round(float(x), 4) for x in b]


def _caveats(store, lid: str, classes, cc, has, sel, listed, pc, inside) -> dict:
    """What a roadless answer rests on: the road layer (from the store's layer information), how
    precise the positions are, and how many points it could not judge (of the area's, `inside`)."""
    info = store.layer("roads")
    roads = store.frame("roads")
    ok = ~roads["is_railway"].fillna(False).astype(bool).to_numpy()
    frame = store.frame(lid)
    pinfo = store.layer(lid)
    considered = (frame["cc"].isin(cc).to_numpy() if cc is not None else np.ones(len(frame), bool)) & has & inside
    positions = {"layer": lid, "source_file": pinfo.source_file, "attribution": pinfo.attribution}
    if "coord_minute_grid" in frame.columns:
        grid = frame["coord_minute_grid"].fillna(False).astype(bool).to_numpy()
        positions.update(
            {
                "source_vintage": pinfo.source_vintage,
                "considered": int(considered.sum()),
                "on_minute_grid": int((grid & considered).sum()),
                "listed": int(listed.sum()),
                "listed_on_minute_grid": int((grid & listed).sum()),
                "precision": "a position on a whole arc-minute grid is about ±1–2 km off, so a distance to a road "
                "within about 2 km of the threshold may fall either side of it (position_precision on each one)",
            }
        )
    else:
        positions.update(
            {
                "source_vintage": pinfo.source_vintage,
                "considered": int(considered.sum()),
                "on_minute_grid": None,
                "precision": f"not recorded in the {lid} layer",
            }
        )
    return {
        "road_layer": {
            "id": "roads",
            "title": info.title_en,
            "source_file": info.source_file,
            "attribution": info.attribution,
            "licence": info.licence,
            "scale": info.source_vintage,
            "source_sha256": info.source_sha256,
            "roads": int(ok.sum()),
            "road_classes": sorted(str(v) for v in roads.loc[ok, "road_class"].dropna().unique()),
            "classes_used": list(classes) if classes else "all (railways excluded)",
            "bbox": _bbox(np.asarray(roads.geometry.values, dtype=object)[ok]),
            "note": "the distance is to the nearest road of this layer: a road it does not hold (a local road, "
            "a track) is not seen",
        },
        "positions": positions,
        "not_judged": {
            "cap_m": MAX_ROAD_DISTANCE_M,
            "no_road_within_cap": int((sel & ~listed).sum()),
            "without_position": int(
                (~has & inside & (frame["cc"].isin(cc).to_numpy() if cc is not None else True)).sum()
            ),
            "without_commune": int((listed & (pc < 0)).sum()),
            "what": "no_road_within_cap: no road of the layer within cap_m (the layer says nothing there), left "
            "out; without_position: no geometry, left out; without_commune: listed, but in no commune of the "
            "vintage, so not counted per commune",
        },
    }


def roadless_villages_answer(
    store,
    *,
    min_distance_m: float = 2000.0,
    countries="VN",
    road_classes=None,
    border_km: float | None = None,
    partner: str | None = None,
    vintage: int = 2025,
    layer: str | None = None,
    area: str | None = None,
    indicators_db=None,
) -> Answer:
    """The answer of `roadless_villages` as held bytes: computed once per parameters and data
    version (geoborder.queries.answers)."""
    args = dict(
        min_distance_m=min_distance_m,
        countries=countries,
        road_classes=road_classes,
        border_km=border_km,
        partner=partner,
        vintage=vintage,
        layer=layer,
    )
    with store.pinned():
        qa = query_area(store, indicators_db, area, _vintage(vintage))
        return cached(
            store,
            "roadless-villages",
            {**args, "area": area},
            lambda: _roadless_villages(store, **args, qa=qa),
            depends=qa.depends if qa else (),
            tag=qa.depends if qa else (),
        )


roadless_villages = as_dict(
    roadless_villages_answer,
    "roadless_villages",
    """Villages (or, `layer="towns"`, settlements) farther than `min_distance_m` from every road
    (railways excluded), with the distance to and the name of the nearest road, and the commune
    that holds each one.

    `layer`: villages (default, when the store holds them) or towns (`places`).
    `countries`: ISO2 codes of the settlements to consider (default VN; "all" for every one); the
    villages are Vietnam's only.
    `border_km` (with optional `partner`): only those within that distance of the border.
    `caveats`: the road layer used, the precision of the positions and what was not judged.
    """,
)


def _find(store, *, min_distance_m, countries, road_classes, border_km, partner, vintage, layer, qa=None) -> dict:
    """The roadless points of one question: their properties (farthest from a road first), rows,
    and what both answers (one by one, per commune) say about them. `qa`: only the points of
    that area's communes (geoborder.queries.areas)."""
    dmin = _number("min_distance_m", min_distance_m, high=MAX_ROAD_DISTANCE_M)
    vintage = _vintage(vintage)
    asked, lid = _points_layer(store, layer)
    cc = _layer_countries(store, countries, lid)
    m = _metric(store)
    places = store.frame(lid)
    classes = _road_classes(store, road_classes)  # checked first, as before the partner
    p = _partner_for_zone(store, partner)
    bkm = None
    if border_km is not None:
        bkm = _number("border_km", border_km, high=MAX_ZONE_KM, allow_low=False)
    elif p is not None:
        raise InvalidParameter("partner needs border_km (the distance from that part of the border)")
    found = spatial(store).roadless(
        vintage=vintage,
        dmin=dmin,
        cc=cc,
        classes=classes,
        partner=p,
        border_m=None if bkm is None else bkm * 1000,
        layer=lid,
    )
    ridx, rdist, pc, bdist = found.road_row, found.road_m, found.commune_row, found.border_m
    has = ~shapely.is_missing(np.asarray(places.geometry.values, dtype=object))
    inside = np.ones(len(places), dtype=bool)
    if qa is not None:  # a point of the area: its commune is one of the area's
        in_area = qa.mask(store)
        inside = (pc >= 0) & in_area[np.maximum(pc, 0)]
    sel = found.selected & has & inside
    listed = sel & (rdist <= MAX_ROAD_DISTANCE_M)  # beyond the cap the road layer says nothing
    rows = np.flatnonzero(listed)
    rows = rows[np.argsort(-rdist[rows], kind="stable")]
    roads = store.frame("roads")
    communes = store.frame(_commune_layer(vintage))
    props = []
    keys = ("geonameid", "name", "asciiname", "fcode", "cc", "population", "dem")
    if lid == "villages":
        keys = ("geonameid", "name", "name_ascii", "feature_code", "dem_m", "coord_minute_grid", "position_precision")
    cols = [k for k in keys if k in places.columns]
    road_cols = roads[["road_id", "name", "road_type", "road_class"]].to_numpy()
    c_cols = communes[["commune_code", "name", "province_name"]].to_numpy()
    road_keys = ("nearest_road_id", "nearest_road_name", "nearest_road_type", "nearest_road_class")
    commune_keys = ("commune_code", "commune_name", "province_name")
    nobody = (None, None, None)
    picked = places.iloc[rows]
    values = zip(*(picked[c].tolist() for c in cols)) if cols else ((),) * len(rows)
    for i, d in zip(rows.tolist(), (dict(zip(cols, v)) for v in values)):
        d["distance_to_road_m"] = round(float(rdist[i]), 1) if math.isfinite(rdist[i]) else None
        if ridx[i] >= 0:
            d.update(zip(road_keys, road_cols[ridx[i]]))
        if bdist is not None:
            d["distance_to_border_m"] = round(float(bdist[i]), 1)
        ci = pc[i]
        d.update(zip(commune_keys, c_cols[ci] if ci >= 0 else nobody))
        props.append(d)
    considered = int(
        (((places["cc"].isin(cc).to_numpy()) if cc is not None else np.ones(len(places), bool)) & inside).sum()
    )
    query = {
        "question": "roadless-villages",
        "layer": asked,
        "min_distance_m": dmin,
        "countries": list(cc) if cc else ("VN" if lid == "villages" else "all"),
        "road_classes": list(classes or []) or "all (railways excluded)",
        "border_km": border_km,
        "partner": p.as_dict() if p else None,
        "vintage": vintage,
        "metric_crs": m.crs,
    }
    if qa is not None:
        query["area"] = qa.as_dict()
    return {
        "props": props,
        "rows": rows,
        "lid": lid,
        "vintage": vintage,
        "cc": cc,
        "query": query,
        "considered": considered,
        "caveats": _caveats(store, lid, classes, cc, has, sel, listed, pc, inside),
    }


def _roadless_villages(store, qa=None, **args) -> dict:
    f = _find(store, **args, qa=qa)
    props = f["props"]
    places = store.frame(f["lid"])
    return collection(
        features(props, np.asarray(places.geometry.values, dtype=object)[f["rows"]], [p["geonameid"] for p in props]),
        query=f["query"],
        numberMatched=len(props),
        settlements_considered=f["considered"],
        caveats=f["caveats"],
    )


def roadless_by_commune_answer(
    store,
    *,
    min_distance_m: float = 2000.0,
    countries="VN",
    road_classes=None,
    border_km: float | None = None,
    partner: str | None = None,
    vintage: int = 2025,
    layer: str | None = None,
    area: str | None = None,
    indicators_db=None,
) -> Answer:
    """The answer of `roadless_by_commune` as held bytes (geoborder.queries.answers)."""
    args = dict(
        min_distance_m=min_distance_m,
        countries=countries,
        road_classes=road_classes,
        border_km=border_km,
        partner=partner,
        vintage=vintage,
        layer=layer,
    )
    with store.pinned():
        qa = query_area(store, indicators_db, area, _vintage(vintage))
        return cached(
            store,
            "roadless-villages-by-commune",
            {**args, "area": area},
            lambda: _roadless_by_commune(store, **args, qa=qa),
            depends=qa.depends if qa else (),
            tag=qa.depends if qa else (),
        )


roadless_by_commune = as_dict(
    roadless_by_commune_answer,
    "roadless_by_commune",
    """Per commune: how many villages (or settlements, `layer="towns"`) it holds and how many of
    them are roadless, with the caveats of `roadless_villages`.""",
)


def _commune_dicts(communes: pd.DataFrame, rows, vintage: int) -> list[dict]:
    """The main attributes of some communes (every key of `_commune_keys`, None where the layer
    has no such column), in one pandas call."""
    keys = _commune_keys(vintage)
    recs = _commune_records(communes, rows, vintage)
    return [{k: r.get(k) for k in keys} for r in recs]


def _roadless_by_commune(store, qa=None, **args) -> dict:
    f = _find(store, **args, qa=qa)
    vintage, lid = f["vintage"], f["lid"]
    communes = store.frame(_commune_layer(vintage))
    totals = spatial(store).settlements_per_commune(vintage, f["cc"], lid)
    groups: dict[str, list] = {}
    unplaced = 0
    for d in f["props"]:
        code = d["commune_code"]
        if code is None:
            unplaced += 1
        else:
            groups.setdefault(code, []).append(d)
    pos = pd.Series(np.arange(len(communes)), index=communes["commune_code"].to_numpy())
    codes = sorted(groups, key=lambda k: (-len(groups[k]), k))
    rows = [int(i) for i in pos.reindex(codes).to_numpy()]
    props = _commune_dicts(communes, rows, vintage)
    for d, code, i in zip(props, codes, rows):
        items = groups[code]
        d["settlements"] = int(totals.get(i, 0))
        d["roadless_settlements"] = len(items)
        d["max_distance_to_road_m"] = max(x["distance_to_road_m"] for x in items)
        d["roadless_names"] = [x["name"] for x in items]
        if lid == "villages":
            d["roadless_on_minute_grid"] = sum(1 for x in items if clean(x.get("coord_minute_grid")))
    return collection(
        features(props, np.asarray(communes.geometry.values, dtype=object)[rows], [p["commune_code"] for p in props]),
        query={**f["query"], "question": "roadless-villages-by-commune"},
        numberMatched=len(props),
        roadless_settlements=len(f["props"]),
        roadless_outside_communes=unplaced,
        settlements_considered=f["considered"],
        caveats=f["caveats"],
    )
