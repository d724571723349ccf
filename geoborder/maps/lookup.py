"""A map's commune at a point (popups, hovers) and its GeoJSON download: read from the same
Choropleth as the tiles, so the popup and the download say what the map shows."""

from __future__ import annotations

import math

import numpy as np
import orjson
import shapely

from geoborder.core.cache import LRU
from geoborder.core.errors import InvalidParameter
from geoborder.maps import table
from geoborder.maps.change import ChangeMap, fmt_change
from geoborder.maps.choropleth import Choropleth
from geoborder.maps.classes import fmt_number

_TREES = LRU(8)

FIELD_LABELS = {
    "vi": {
        "commune": "Xã",
        "province": "Tỉnh",
        "district": "Huyện",
        "code": "Mã",
        "year": "Năm",
        "class": "Lớp",
        "border_length": "Chiều dài biên giới",
        "faces": "Giáp với",
        "population": "Dân số",
        "outside": "Ngoài vùng bản đồ",
        "area": "Vùng bản đồ",
        "change": "Thay đổi",
        "years": "Giai đoạn",
    },
    "en": {
        "commune": "Commune",
        "province": "Province",
        "district": "District",
        "code": "Code",
        "year": "Year",
        "class": "Class",
        "border_length": "Border length",
        "faces": "Faces",
        "population": "Population",
        "outside": "Outside the map's area",
        "area": "Map area",
        "change": "Change",
        "years": "Period",
    },
}


def _tree(store, layer_id: str) -> shapely.STRtree:
    return _TREES.get_or_make(
        (id(store), store.version, layer_id),
        lambda: shapely.STRtree(np.asarray(store.frame(layer_id).geometry.values, dtype=object)),
    )


def commune_at(store, vintage: int, lon: float, lat: float) -> int | None:
    """The row (in communes_<vintage>) of the commune containing lon/lat, or None."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidParameter(f"lon/lat: {lon}, {lat} is not a longitude/latitude")
    hits = _tree(store, f"communes_{vintage}").query(shapely.Point(lon, lat), predicate="intersects")
    return int(min(hits)) if len(hits) else None


def describe(store, ch: Choropleth, row: int, lang: str = "vi") -> dict:
    """One commune of the map, as a popup shows it: its figures, class and (border communes) the
    partner units it faces. `fields` are ready-to-show [label, text] pairs in `lang`."""
    communes = store.frame(ch.layer_id)
    rec = communes.iloc[row]
    code = str(rec["commune_code"])
    in_area = bool(ch.area.mask[row])
    value = ch.values[row] if in_area else np.nan
    cls = int(ch.classes[row])
    L = FIELD_LABELS[lang]
    if not in_area:  # not "no data": the map does not show this commune at all
        value_text = L["outside"]
    else:
        value_text = fmt_number(value, lang, integer=ch.info.integer)
        if math.isfinite(value):
            value_text += f" {ch.info.unit(lang)}"
    fields = [[L["code"], code], [L["province"], str(rec["province_name"])]]
    if "district_name" in communes.columns and rec.get("district_name"):
        fields.append([L["district"], str(rec["district_name"])])
    if isinstance(ch, ChangeMap) and ch.source_info is not None:  # both years' values, then the change
        src = ch.source_info
        if in_area and math.isfinite(value):
            value_text = f"{fmt_change(value, lang, integer=ch.info.integer)} {ch.info.unit(lang)}"
        for y, vals in ((ch.base_year, ch.base_values), (ch.year, ch.to_values)):
            v = float(vals[row])
            text = fmt_number(v, lang, integer=src.integer) + (f" {src.unit(lang)}" if math.isfinite(v) else "")
            fields.append([f"{src.title(lang)} {y}", text if in_area else L["outside"]])
        fields += [[L["change"], value_text], [L["years"], f"{ch.base_year} → {ch.year}"]]
    else:
        fields += [[ch.info.title(lang), value_text], [L["year"], str(ch.year)]]
    if in_area:
        fields.append([L["class"], ch.label_of(cls, lang)])
    else:
        fields.append([L["area"], f"{L['outside']} ({ch.area.title(lang)})"])
    border = store.frame(f"border_communes_{ch.spec.vintage}")
    b = border[border["commune_code"].astype(str) == code]
    out_border = None
    if len(b):
        br = b.iloc[0]
        out_border = {
            "length_km": float(br["border_length_km"]),
            "partner_countries": br.get("partner_countries"),
            "partner_units": br.get("partner_units"),
        }
        fields.append([L["border_length"], f"{fmt_number(float(br['border_length_km']), lang)} km"])
        if br.get("partner_units"):
            fields.append([L["faces"], str(br["partner_units"])])
    return {
        "commune_code": code,
        "name": str(rec["name"]),
        "unit_type": rec.get("unit_type"),
        "province_code": str(rec["province_code"]),
        "province_name": str(rec["province_name"]),
        "indicator": ch.spec.indicator,
        "value": float(value) if math.isfinite(value) else None,
        "value_text": value_text,
        "unit": ch.info.unit(lang),
        "year": ch.year,
        "vintage": ch.spec.vintage,
        "in_area": in_area,
        "class": cls if in_area else None,
        "class_label": ch.label_of(cls, lang) if in_area else None,
        "color": ch.color_of(cls) if in_area else None,
        "border": out_border,
        **_change_of(ch, row),
        "title": f"{rec.get('unit_type') or ''} {rec['name']}".strip(),
        "fields": fields,
    }


def _change_of(ch: Choropleth, row: int) -> dict:
    """A change map's popup also carries both years' values (None = no data)."""
    if not isinstance(ch, ChangeMap):
        return {}

    def num(v: float) -> float | None:
        return float(v) if math.isfinite(v) else None

    return {
        "change": {
            "from": ch.base_year,
            "to": ch.year,
            "measure": ch.measure,
            "value_from": num(ch.base_values[row]),
            "value_to": num(ch.to_values[row]),
        }
    }


def geojson(store, ch: Choropleth, lang: str = "vi") -> bytes:
    """The communes of the map's area with value, year, rank and class: exactly what the map shows
    (the same rows as the CSV and XLSX downloads, geoborder.maps.table)."""
    communes = store.frame(ch.layer_id)
    idx = np.flatnonzero(ch.area.mask)
    legend_ = ch.legend(lang)
    geoms = shapely.to_geojson(np.asarray(communes.geometry.values[idx], dtype=object))
    parts = []
    for props, g in zip(table.rows(store, ch, lang), geoms):
        parts.append(
            b'{"type":"Feature","id":'
            + orjson.dumps(str(props["commune_code"]))
            + b',"geometry":'
            + (g.encode() if g is not None else b"null")
            + b',"properties":'
            + orjson.dumps(props)
            + b"}"
        )
    meta = {
        "indicator": ch.spec.indicator,
        "title": ch.info.title(lang),
        "unit": ch.info.unit(lang),
        "year": ch.year,
        "vintage": ch.spec.vintage,
        "area": ch.spec.area,
        "area_title": ch.area.title(lang),
        "classes": ch.spec.method,
        "k": ch.k,
        "k_requested": ch.spec.k,
        "legend": legend_,
        "data_version": ch.version,
    }
    if isinstance(ch, ChangeMap):  # a change map: value = the change from `from` to `year`
        meta.update({"from": ch.base_year, "measure": ch.measure, "breaks": list(ch.breaks)})
    return (
        b'{"type":"FeatureCollection","geoborder:map":'
        + orjson.dumps(meta)
        + b',"numberReturned":'
        + str(len(parts)).encode()
        + b',"features":['
        + b",".join(parts)
        + b"]}"
    )
