"""One commune's profile: attributes, border per partner unit, gates, markers, seat, settlements,
indicator values and the 2009 <-> 2025 lineage."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import shapely

from geoborder.core.text import fold, nfc, split_unit_prefix
from geoborder.indicators.catalog import DATA_YEAR, load_indicators
from geoborder.indicators.values import values_for
from geoborder.queries._border import MAX_ZONE_KM, _border, _breakdown
from geoborder.queries._common import (
    _commune_layer,
    _find_commune,
    _Metric,
    _metric,
    _nonempty,
    _number,
    _place_communes,
    _seat_row,
)
from geoborder.queries._output import collection, features
from geoborder.queries.answers import Answer, as_dict, cached, identity
from geoborder.queries.roadless import _has_layer, nearest_roads
from geoborder.records.gates import gates_at
from geoborder.records.markers import latest_conditions
from geoborder.records.open import records_for

#: lineage: an old commune "went into" a new one when this share of its area lies inside it
LINEAGE_MIN_SHARE = 0.25
#: overlaps below this share of the old commune are misalignment slivers and are not listed
LINEAGE_LIST_SHARE = 0.05
#: lineage by name: an old commune of that name counts only within this distance of the new one
LINEAGE_NAME_MAX_KM = 5.0


def split_before_merger(text) -> list[dict]:
    """'Xã A, Xã B (phần còn lại sau khi sáp nhập vào xã C, xã D)' -> entries with prefix, name
    and whether only the rest of the old unit came in. Commas inside brackets do not split."""
    if not isinstance(text, str) or not text.strip():
        return []
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in nfc(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    out = []
    for raw in (p.strip() for p in parts):
        if not raw:
            continue
        bare = re.sub(r"\s*[\(\[].*?[\)\]]", "", raw).strip()
        prefix, name = split_unit_prefix(bare)
        out.append(
            {
                "entry": raw,
                "unit_type": prefix,
                "name": name,
                "key": fold(name),
                "partial": "phần còn lại" in raw.lower(),
            }
        )
    return out


def _overlaps(m: _Metric, store, geom, layer: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of `layer` overlapping `geom` (metric), with share of each row's area and of geom's."""
    G = m.geoms(store, layer)
    idx = np.sort(m.tree(store, layer).query(geom, predicate="intersects"))
    if not len(idx):
        return idx, np.array([]), np.array([])
    a = shapely.area(shapely.intersection(G[idx], geom))
    return idx, a / np.maximum(shapely.area(G[idx]), 1e-9), a / max(shapely.area(geom), 1e-9)


def _lineage_2025(store, m: _Metric, code: str, geom) -> dict:
    s = _seat_row(store, code)
    before = store.frame("commune_seats_2025")["before_merger"].iat[s] if s is not None else None
    entries = split_before_merger(before)
    c25 = store.frame("communes_2025")
    unchanged = [e for e in entries if e["key"] == "khong sap nhap"]  # "not merged": its own name
    if unchanged:
        r = c25.loc[c25["commune_code"] == code].iloc[0]
        entries = [e for e in entries if e not in unchanged] + [
            {
                "entry": f"{unchanged[0]['entry']} (unchanged: {r['name']})",
                "unit_type": r.get("unit_type"),
                "name": r["name"],
                "key": fold(r["name"]),
                "partial": False,
            }
        ]
    c09 = store.frame("communes_2009")
    idx, share_old, share_new = _overlaps(m, store, geom, "communes_2009")
    listed = share_old >= LINEAGE_LIST_SHARE
    # name matching within the old provinces the new commune overlaps
    provs = set(c09["province_code"].to_numpy()[idx[listed]]) if len(idx) else set()
    in_prov = np.flatnonzero(c09["province_code"].isin(provs).to_numpy())
    # a namesake elsewhere in the province is not a source: candidates lie near the new commune
    near = m.tree(store, "communes_2009").query(geom, predicate="dwithin", distance=LINEAGE_NAME_MAX_KM * 1000)
    in_prov = np.intersect1d(in_prov, near)
    keys = np.array([fold(v) for v in c09["name"].to_numpy()[in_prov]], dtype=object)
    share_of = dict(zip(idx, share_old))
    by_name: dict[int, dict] = {}
    unmatched = []
    for e in entries:
        cands = in_prov[keys == e["key"]]
        if len(cands) > 1 and e["unit_type"]:
            typed = [i for i in cands if fold(c09["unit_type"].iat[int(i)]) == fold(e["unit_type"])]
            cands = np.array(typed or list(cands))
        if len(cands) > 1:  # same name twice in the province: the one that overlaps most
            cands = np.array([max(cands, key=lambda i: share_of.get(i, 0.0))])
        if len(cands):
            by_name[int(cands[0])] = e
        else:
            unmatched.append(e["entry"])
    rows = sorted({int(i) for i in idx[listed]} | set(by_name), key=lambda i: c09["commune_code"].iat[i])
    sn = dict(zip(idx, share_new))
    items = []
    for i in rows:
        so = float(share_of.get(i, 0.0))
        items.append(
            {
                "commune_code": c09["commune_code"].iat[i],
                "name_full": c09["name_full"].iat[i],
                "district_name": c09["district_name"].iat[i],
                "province_name": c09["province_name"].iat[i],
                "share_of_old_area": round(so, 3),
                "share_of_new_area": round(float(sn.get(i, 0.0)), 3),
                "by_name": i in by_name,
                "by_overlap": so >= LINEAGE_MIN_SHARE,
                "before_merger_entry": by_name[i]["entry"] if i in by_name else None,
            }
        )
    return {
        "direction": "2009 communes this 2025 commune was formed from",
        "before_merger": before,
        "unchanged": bool(unchanged),
        "from": items,
        "names_not_matched": unmatched,
        "agree": all(x["by_name"] == x["by_overlap"] for x in items) and not unmatched,
        "method": (
            f"by_name: before_merger (commune_seats_2025) matched by folded name to 2009 communes of the "
            f"old provinces it overlaps, within {LINEAGE_NAME_MAX_KM:g} km of it; by_overlap: at least {LINEAGE_MIN_SHARE:.0%} of the old commune's "
            f"area (in {m.crs}) lies inside; overlaps under {LINEAGE_LIST_SHARE:.0%} are not listed"
        ),
    }


def _before_merger_keys(store, m: _Metric) -> dict[str, set[str]]:
    """2025 commune code -> folded names of the units it was formed from (its own name when
    before_merger says "Không sáp nhập", not merged). Parsed once per store version."""

    def make():
        seats = store.frame("commune_seats_2025")
        c25 = store.frame("communes_2025")
        own = dict(zip(c25["commune_code"], (fold(n) for n in c25["name"])))
        out = {}
        for code, before in zip(seats["commune_code"], seats["before_merger"]):
            keys = {e["key"] for e in split_before_merger(before)}
            if "khong sap nhap" in keys and code in own:
                keys = (keys - {"khong sap nhap"}) | {own[code]}
            out[code] = keys
        return out

    return m.memo(("before_merger_keys",), make)


def _lineage_2009(store, m: _Metric, row: pd.Series, geom) -> dict:
    c25 = store.frame("communes_2025")
    idx, share_old, share_new = _overlaps(m, store, geom, "communes_2025")
    key = fold(row["name"])
    named = {code for code, keys in _before_merger_keys(store, m).items() if key in keys}
    items = []
    for i, so, sn in zip(idx, share_old, share_new):
        code = c25["commune_code"].iat[int(i)]
        if so < LINEAGE_LIST_SHARE and code not in named:
            continue
        items.append(
            {
                "commune_code": code,
                "name": c25["name"].iat[int(i)],
                "province_name": c25["province_name"].iat[int(i)],
                "share_of_old_area": round(float(so), 3),
                "share_of_new_area": round(float(sn), 3),
                "by_name": code in named,
                "by_overlap": bool(so >= LINEAGE_MIN_SHARE),
            }
        )
    return {
        "direction": "2025 communes this 2009 commune went into",
        "into": items,
        "agree": all(x["by_name"] == x["by_overlap"] for x in items),
        "method": (
            f"by_name: the old name appears in the 2025 commune's before_merger; by_overlap: at least "
            f"{LINEAGE_MIN_SHARE:.0%} of the old commune's area (in {m.crs}) lies inside the new one"
        ),
    }


def _indicator_values(store, indicators_db, layer: str, vintage: int, code: str, row: int) -> dict:
    """Each indicator's latest value for one commune (row `row` of `layer`), with its year and
    unit, in catalog order. Computed indicators come from the store and are for the year of the
    layer's attributes; reported ones from `indicators_db`, the commune's latest year (none without
    a database). An indicator without a value for the commune is left out."""

    catalog = load_indicators()
    inds = [i for i in catalog.indicators if i.source == "computed" or indicators_db is not None]
    values = values_for(store, indicators_db, layer, [i.name for i in inds], catalog=catalog).iloc[row]
    out = {}
    for ind in inds:
        v = values[ind.name]
        if pd.isna(v):
            continue
        if ind.source == "computed":
            year = DATA_YEAR[vintage]
        else:  # values_for gives the value of the latest year, not the year itself
            year = int(indicators_db.history(ind.name, code, vintage=vintage)["year"].max())
        v = int(v) if ind.type in ("count", "boolean") and float(v).is_integer() else float(v)
        out[ind.name] = {
            "value": v,
            "year": year,
            "unit": ind.unit_vi,
            "unit_en": ind.unit_en,
            "title": ind.vi,
            "title_en": ind.en,
            "source": ind.source,
        }
    return out


def commune_profile_answer(store, code: str, *, indicators_db=None, villages_within_km: float = 10.0) -> Answer:
    """The answer of `commune_profile` as held bytes (geoborder.queries.answers): besides the
    data version, it depends on the indicator database (its revision), the border records (their
    revision) and the day (a gate's class and status today)."""
    args = dict(code=code, villages_within_km=villages_within_km)
    depends: tuple = ()
    tag: tuple = ()
    if indicators_db is not None:
        tag = (indicators_db.revision(), records_for(indicators_db).revision(), date.today().isoformat())
        depends = (identity(indicators_db), *tag)
    with store.pinned():
        return cached(
            store,
            "commune-profile",
            args,
            lambda: _commune_profile(store, code, indicators_db, villages_within_km),
            depends=depends,
            tag=tag,
        )


commune_profile = as_dict(
    commune_profile_answer,
    "commune_profile",
    """One commune (5-digit 2025 GSO code or 7-digit 2009 census code): its attributes, border
    length per partner unit, gates, markers, seat, settlements, indicator values and 2009<->2025
    lineage.

    `indicators`: the latest value of each indicator with its year and unit; computed ones always,
    reported ones from `indicators_db` (an IndicatorDB) when one is given.

    `villages`: the commune's villages (its own commune_code of the `villages` layer), each with
    its distance to the nearest road and to the border line; `villages_within_km`: how many lie
    within that many km of the border line (default 10).

    The first feature is the commune (all figures in its properties); the seat, gates, markers
    and settlements follow as point features with a `role`.""",
)


def _commune_profile(store, code, indicators_db, villages_within_km) -> dict:
    code, vintage, i = _find_commune(store, "code", _nonempty("code", code))
    within_km = _number("villages_within_km", villages_within_km, high=MAX_ZONE_KM, allow_low=False)
    layer = _commune_layer(vintage)
    m = _metric(store)
    c = store.frame(layer)
    row = c.iloc[i]
    geom = m.geoms(store, layer)[i]
    props = {k: row.get(k) for k in c.columns if k != c.geometry.name}
    props["vintage"] = vintage
    seg = store.frame(f"border_segments_{vintage}")
    mine = seg[seg["commune_code"] == code]
    props["border_length_km"] = round(float(mine["length_km"].sum()), 3)
    props["border"] = _breakdown(mine).get(code, [])
    props["is_border_commune"] = bool(props["border_length_km"] >= m.min_km)

    extra_props, extra_geoms = [], []
    for key, make in (("gates", _gates_of), ("markers", _markers_of), ("seat", _seat_of), ("settlements", _places_of)):
        props[key], more_props, more_geoms = make(store, code, vintage, i)
        extra_props += more_props
        extra_geoms += more_geoms
    if indicators_db is not None:
        _records_of(store, records_for(indicators_db), props)
    if _has_layer(store, "villages"):
        props["villages"], props["villages_within_km"], more_props, more_geoms = _villages_of(
            store, m, code, vintage, within_km
        )
        extra_props += more_props
        extra_geoms += more_geoms
    props["indicators"] = _indicator_values(store, indicators_db, layer, vintage, code, i)
    props["lineage"] = _lineage_2025(store, m, code, geom) if vintage == 2025 else _lineage_2009(store, m, row, geom)
    props["role"] = "commune"
    feats = features([props] + extra_props, [row.geometry] + extra_geoms, [code] + [None] * len(extra_props))
    return collection(
        feats,
        query={"question": "commune-profile", "code": code, "vintage": vintage, "villages_within_km": within_km},
        numberMatched=len(feats),
    )


# the features a profile carries besides the commune: (summary in the commune's properties,
# properties of the point features, their geometries)


def _gates_of(store, code: str, vintage: int, i: int) -> tuple[list, list, list]:
    gates = store.frame("gates")
    rows = np.flatnonzero((gates[f"commune_code_{vintage}"] == code).to_numpy())
    col = {
        k: gates[k].to_numpy(dtype=object)
        for k in ("gate_id", "name_vi", "gate_class", "partner_gate", "location_quality")
    }
    summary = [{k: col[k][j] for k in ("gate_id", "name_vi", "gate_class", "location_quality")} for j in rows]
    points = [
        {
            "role": "gate",
            "gate_id": col["gate_id"][j],
            "name": col["name_vi"][j],
            "gate_class": col["gate_class"][j],
            "partner_gate": col["partner_gate"][j],
            "location_quality": col["location_quality"][j],
        }
        for j in rows
    ]
    return summary, points, [gates.geometry.iat[j] for j in rows]


def _markers_of(store, code: str, vintage: int, i: int) -> tuple[list, list, list]:
    markers = store.frame("markers")
    rows = np.flatnonzero((markers[f"commune_code_{vintage}"] == code).to_numpy())
    col = {k: markers[k].to_numpy(dtype=object) for k in ("marker_id", "marker", "border", "location_quality")}
    summary = [{k: col[k][j] for k in ("marker_id", "marker", "location_quality")} for j in rows]
    points = [
        {
            "role": "marker",
            "marker_id": col["marker_id"][j],
            "name": col["marker"][j],
            "border": col["border"][j],
            "location_quality": col["location_quality"][j],
        }
        for j in rows
    ]
    return summary, points, [markers.geometry.iat[j] for j in rows]


def _seat_of(store, code: str, vintage: int, i: int) -> tuple[dict | None, list, list]:
    j = _seat_row(store, code) if vintage == 2025 else None
    if j is None:
        return None, [], []
    seats = store.frame("commune_seats_2025")
    seat = {"name": seats["name"].iat[j], "admin_centre": seats["admin_centre"].iat[j]}
    return seat, [{"role": "seat", **seat}], [seats.geometry.iat[j]]


def _places_of(store, code: str, vintage: int, i: int) -> tuple[list, list, list]:
    places = store.frame("places")
    rows = np.flatnonzero(_place_communes(store, vintage) == i)
    _, rdist = nearest_roads(store)
    summary = [
        {
            "geonameid": places["geonameid"].iat[j],
            "name": places["name"].iat[j],
            "population": places["population"].iat[j],
            "distance_to_road_m": round(float(rdist[j]), 1),
        }
        for j in rows
    ]
    return summary, [{"role": "settlement", **d} for d in summary], [places.geometry.iat[j] for j in rows]


def _villages_of(store, m: _Metric, code: str, vintage: int, within_km: float) -> tuple[list, dict, list, list]:
    """The commune's villages (by the layer's own commune_code_{vintage}), with the distance of
    each to the nearest road and to the border line, and how many lie within `within_km` of it."""
    villages = store.frame("villages")
    rows = np.flatnonzero((villages[f"commune_code_{vintage}"] == code).to_numpy())
    _, rdist = nearest_roads(store, layer="villages")
    border = _border(store, m, None, vintage)
    bdist = border.distance(m.geoms(store, "villages")[rows]) if border is not None else np.full(len(rows), np.inf)
    grid = villages["coord_minute_grid"].fillna(False).astype(bool).to_numpy()
    summary = []
    for j, bd in zip(rows, bdist):
        summary.append(
            {
                "geonameid": villages["geonameid"].iat[j],
                "name": villages["name"].iat[j],
                "feature_code": villages["feature_code"].iat[j],
                "dem_m": villages["dem_m"].iat[j],
                "position_precision": villages["position_precision"].iat[j],
                "distance_to_road_m": round(float(rdist[j]), 1) if np.isfinite(rdist[j]) else None,
                "distance_to_border_m": round(float(bd), 1) if np.isfinite(bd) else None,
            }
        )
    near = bdist <= within_km * 1000
    info = store.layer("villages")
    count = {
        "distance_km": within_km,
        "villages": int(near.sum()),
        "of": len(rows),
        "on_minute_grid": int(grid[rows][near].sum()),
        "line": "border_lines",
        "note": f"GeoNames villages only ({info.source_vintage}); a position on the minute grid is about ±1–2 km off",
    }
    points = [{"role": "village", **d} for d in summary]
    return summary, count, points, [villages.geometry.iat[j] for j in rows]


def _records_of(store, records, props: dict) -> None:
    """The border records of the commune's gates (class and status today, from the gate events) and
    markers (the latest inspection), geoborder.records: None where nothing is recorded."""
    if props["gates"]:
        state = {st["gate_id"]: st for st in gates_at(store, records)}
        for g in props["gates"]:
            st = state.get(g["gate_id"], {})
            last = st.get("last_event") or {}
            g.update(
                class_today=st.get("class"),
                status=st.get("status"),
                last_event=last.get("event"),
                last_event_date=last.get("date"),
            )
    if props["markers"]:
        latest = latest_conditions(records).set_index("marker_key")
        for m in props["markers"]:
            hit = m["marker_id"] in latest.index
            m.update(
                condition=latest.at[m["marker_id"], "condition"] if hit else None,
                inspected_on=latest.at[m["marker_id"], "date"] if hit else None,
            )
