"""The named transforms of source layers (`transform = "..."` of a layer in layers/catalog.toml):
each takes the layer's frame as read (geoborder.build.load) and derives the catalog's columns."""

from __future__ import annotations

import pandas as pd

from geoborder.build.partner_names import partner_vi_names
from geoborder.core.text import slug, split_unit_prefix


def _t_unit_prefix(df):
    pairs = [split_unit_prefix(v) if isinstance(v, str) else (None, v) for v in df["name_full"]]
    df["unit_type"] = [p[0] for p in pairs]
    df["name"] = [p[1] for p in pairs]
    return df


def _t_border_pair(df):
    df["partner_iso3"] = [p.split("-")[1] if isinstance(p, str) and "-" in p else None for p in df["pair"]]
    return df


def _t_road_kind(df):
    df["road_id"] = pd.array(range(1, len(df) + 1), dtype="Int64")
    df["is_railway"] = [isinstance(v, str) and v.strip().lower() == "đường sắt" for v in df["road_type"]]
    return df


def _unique_ids(values):
    seen: dict[str, int] = {}
    out = []
    for v in values:
        n = seen.get(v, 0) + 1
        seen[v] = n
        out.append(v if n == 1 else f"{v}-{n}")
    return out


def _t_gates(df):
    df["gate_id"] = _unique_ids([slug(a or b) for a, b in zip(df["name_ascii"].fillna(""), df["name_vi"])])
    classes = []
    for c in df["class_note"]:
        first = slug(c or "").split("-")[0]
        classes.append(first if first in ("international", "main", "secondary") else None)
    df["gate_class"] = classes
    return df


def _t_markers(df):
    df["marker_id"] = _unique_ids([slug(f"{b} {m}") for b, m in zip(df["border"], df["marker"])])
    return df


def _t_villages(df):
    """GeoNames ids read as numbers ("8365602.0") back to GeoNames' text ("8365602"); the source's
    -9999 elevation (GeoNames' "no value") and NaT dates to empty; the position precision."""
    df["geonameid"] = [v[:-2] if isinstance(v, str) and v.endswith(".0") else v for v in df["geonameid"]]
    dem = df["dem_m"].astype("Int64")
    df["dem_m"] = dem.where(dem != -9999)
    df["gn_modified"] = [v[:10] if isinstance(v, str) and v[:1].isdigit() else None for v in df["gn_modified"]]
    df["position_precision"] = [
        "whole arc-minute grid: about ±1-2 km"
        if g
        else "as GeoNames gives it (finer than the minute grid; not surveyed)"
        for g in df["coord_minute_grid"].fillna(False)
    ]
    return df


# the Chinese province of a county (its province adcode) as the code of `china_provinces`
CN_PROVINCES = {"530000": ("CN.YN", "Yunnan"), "450000": ("CN.GX", "Guangxi")}


def _t_cn_counties(df):
    df["name"] = [en if isinstance(en, str) and en else zh for en, zh in zip(df["name_en"], df["name_zh"])]
    prov = [CN_PROVINCES.get(a, (None, None)) for a in df["province_adcode"]]
    df["province_code"] = [p[0] for p in prov]
    df["province_name"] = [p[1] for p in prov]
    names = partner_vi_names("district")
    df["name_vi"] = [names.get(c) for c in df["adcode"]]
    return df


def _t_khm_provinces(df):
    names = partner_vi_names("province")
    df["name_vi"] = [names.get(c) for c in df["iso_code"]]
    return df


TRANSFORMS = {
    "villages": _t_villages,
    "cn_counties": _t_cn_counties,
    "khm_provinces": _t_khm_provinces,
    "unit_prefix": _t_unit_prefix,
    "border_pair": _t_border_pair,
    "road_kind": _t_road_kind,
    "gates": _t_gates,
    "markers": _t_markers,
}
