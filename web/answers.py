"""The answer of a spatial question (geoborder.queries) as a page: a Folium map of the
FeatureCollection, its features coloured by role / kind, and a table of the figures.

The router (api/routes/queries.py) computes the same answer as the JSON and hands it here with
the page's URLs; this module makes the template's context (web/templates/answer.html). The map is
drawn from a light copy of each feature (simplified geometry, its row key, name and main
figure), never from the whole properties: the table carries the figures. Leaflet comes from the
app (web/assets.py), so nothing is loaded from the internet.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

import folium
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template
from markupsafe import Markup

from geoborder.core.errors import NotFound
from geoborder.queries.names import load_partner_names

from .assets import map_css, map_js


@dataclass(frozen=True)
class AnswerUrls:
    """The URLs an answer page links to, made by the router (the library knows no routes)."""

    json: str  # the same answer as JSON (f=json)
    maps: str  # the map pages (/maps)
    other_lang: str  # this page in the other language
    vendor: str  # prefix of the served JS/CSS
    filename: str = "answer.geojson"  # name of the GeoJSON download


# --------------------------------------------------------------------------- words

TEXT = {
    "vi": {
        "other_lang": "English",
        "maps": "← Bản đồ chỉ tiêu (/maps)",
        "json": "Câu trả lời dạng JSON",
        "download": "Tải GeoJSON",
        "params": "Tham số",
        "figures": "Số liệu",
        "table": "Bảng",
        "table_hint": "Bấm tiêu đề cột để sắp xếp; bấm một dòng để phóng bản đồ tới đối tượng đó.",
        "features": "đối tượng",
        "none": "Không có đối tượng nào thỏa câu hỏi này.",
        "legend": "Chú giải",
        "note": "Lưu ý",
        "matched": "khớp",
        "of_total": "tổng",
        "shared_total": "Tổng chiều dài ranh giới chung",
        "by_kind": "Theo loại",
        "short_contacts": "Tiếp xúc ngắn hơn {km} km (góc, không tính)",
        "gates_without_location": "Cửa khẩu chưa có vị trí (không xếp hạng được)",
        "settlements_considered": "Số điểm đã xét",
        "roadless_settlements": "Số điểm xa đường",
        "roadless_outside_communes": "Điểm xa đường ngoài mọi xã",
        "error_title": "Không trả lời được câu hỏi này",
        "error_back": "← Quay lại bản đồ (/maps)",
        "error_detail": "Chi tiết kỹ thuật",
        "error_400": "Một tham số của câu hỏi không hợp lệ{param}.",
        "error_404": "Không tìm thấy đơn vị hoặc đối tượng được hỏi{param}.",
        "error_hint_404": "Tên có thể viết có hoặc không dấu; chi tiết bên dưới liệt kê các tên gần nhất.",
        "error_hint_400": "Hãy sửa tham số trong địa chỉ trang rồi tải lại.",
        "error_other": "Câu hỏi không trả lời được.",
        "param_named": " («{param}»)",
    },
    "en": {
        "other_lang": "Tiếng Việt",
        "maps": "← Indicator maps (/maps)",
        "json": "This answer as JSON",
        "download": "Download GeoJSON",
        "params": "Parameters",
        "figures": "Figures",
        "table": "Table",
        "table_hint": "Click a column's title to sort; click a row to zoom the map to it.",
        "features": "features",
        "none": "No feature answers this question.",
        "legend": "Legend",
        "note": "Note",
        "matched": "matched",
        "of_total": "total",
        "shared_total": "Total shared boundary",
        "by_kind": "By kind",
        "short_contacts": "Contacts shorter than {km} km (corners, not counted)",
        "gates_without_location": "Gates without a location (cannot be ranked)",
        "settlements_considered": "Settlements considered",
        "roadless_settlements": "Roadless settlements",
        "roadless_outside_communes": "Roadless settlements outside every commune",
        "error_title": "This question cannot be answered",
        "error_back": "← Back to the maps (/maps)",
        "error_detail": "Technical detail",
        "error_400": "A parameter of the question is not valid{param}.",
        "error_404": "The unit or feature asked for is not found{param}.",
        "error_hint_404": "Names may be written with or without diacritics; the detail below lists the closest names.",
        "error_hint_400": "Correct the parameter in the page's address and reload it.",
        "error_other": "The question cannot be answered.",
        "param_named": " (“{param}”)",
    },
}

# kind -> (vi, en, colour); the gate and border colours are those of the map pages (web/map_style.py)
KINDS = {
    "commune": ("Xã", "Communes", "#2171b5"),
    "shared": ("Ranh giới chung", "Shared boundary", "#d95f02"),
    "village": ("Thôn, bản", "Villages", "#e6550d"),
    "town": ("Điểm dân cư", "Towns", "#756bb1"),
    "settlement": ("Điểm dân cư", "Settlements", "#756bb1"),
    "road": ("Đường", "Roads", "#6a3d0a"),
    "gate": ("Cửa khẩu", "Border gates", "#08306b"),
    "seat": ("Trụ sở UBND xã", "Commune seat", "#111111"),
    "marker": ("Mốc giới", "Border markers", "#238b45"),
    "origin": ("Điểm xuất phát", "Origin", "#e7298a"),
    "border": ("Đường biên giới", "Border line", "#d7191c"),
}
POINT_KINDS = {"village", "town", "settlement", "gate", "seat", "marker", "origin"}

# columns of the table per question: (property, vi, en); those no feature has are left out
_NAME = ("name", "Tên", "Name")
_PROV = ("province_name", "Tỉnh", "Province")
_POP = ("population", "Dân số", "Population")
_AREA = ("area_km2", "Diện tích (km²)", "Area (km²)")
_TO_BORDER = ("distance_to_border_m", "Cách biên giới (m)", "To the border (m)")
_TO_ROAD = ("distance_to_road_m", "Cách đường (m)", "To a road (m)")
COLUMNS = {
    "touching": (
        _NAME,
        ("unit_type", "Loại", "Type"),
        ("district_name", "Huyện", "District"),
        _PROV,
        ("shared_length_km", "Ranh giới chung (km)", "Shared (km)"),
        ("facing", "Giáp (huyện bên kia)", "Facing (district across)"),
        ("neighbours", "Giáp (xã)", "Touching (communes)"),
        _POP,
        _AREA,
    ),
    "roadless-villages": (
        _NAME,
        ("commune_name", "Xã", "Commune"),
        _PROV,
        _TO_ROAD,
        ("nearest_road_name", "Đường gần nhất", "Nearest road"),
        ("nearest_road_class", "Cấp đường", "Road class"),
        _TO_BORDER,
        ("dem_m", "Độ cao (m)", "Elevation (m)"),
        ("dem", "Độ cao (m)", "Elevation (m)"),
        ("coord_minute_grid", "Vị trí theo lưới phút", "On the minute grid"),
    ),
    "roadless-villages-by-commune": (
        _NAME,
        _PROV,
        ("roadless_settlements", "Số điểm xa đường", "Roadless"),
        ("settlements", "Số điểm", "Settlements"),
        ("max_distance_to_road_m", "Xa đường nhất (m)", "Farthest from a road (m)"),
        _POP,
        _AREA,
    ),
    "nearest-gates": (
        ("rank", "Thứ tự", "Rank"),
        ("name_vi", "Cửa khẩu", "Gate"),
        ("distance_m", "Khoảng cách (m)", "Distance (m)"),
        ("gate_class", "Loại", "Class"),
        ("partner_gate", "Cửa khẩu đối diện", "Partner gate"),
        ("partner_iso3", "Nước", "Country"),
        ("province_name_2025", "Tỉnh", "Province"),
        ("location_quality", "Vị trí", "Location"),
    ),
    "border-zone": (
        ("feature_kind", "Loại", "Kind"),
        _NAME,
        ("commune_name", "Xã", "Commune"),
        _PROV,
        _TO_BORDER,
        ("length_in_zone_km", "Chiều dài trong vùng (km)", "Length in the zone (km)"),
        ("road_class", "Cấp đường", "Road class"),
        _POP,
    ),
    "commune-profile": (
        ("role", "Vai trò", "Role"),
        _NAME,
        ("gate_class", "Loại cửa khẩu", "Gate class"),
        _TO_ROAD,
        _TO_BORDER,
        ("dem_m", "Độ cao (m)", "Elevation (m)"),
        ("border_length_km", "Đường biên (km)", "Border (km)"),
        _POP,
        _AREA,
    ),
}
# the commune's own figures on a profile page: (property, vi, en)
PROFILE_FIGURES = (
    ("unit_type", "Loại", "Type"),
    _PROV,
    _POP,
    _AREA,
    ("border_length_km", "Đường biên giới (km)", "Border line (km)"),
    ("elev_mean_m", "Độ cao trung bình (m)", "Mean elevation (m)"),
    ("elev_above_1000m_pct", "Trên 1000 m (%)", "Above 1000 m (%)"),
)
_KIND_WORDS = {k: (v[0], v[1]) for k, v in KINDS.items()}
_CLASS_WORDS = {
    "international": ("quốc tế", "international"),
    "main": ("chính", "main"),
    "secondary": ("phụ", "secondary"),
}


# --------------------------------------------------------------------------- names and words


@cache
def _vi_aliases() -> dict[str, str]:
    """code -> the Vietnamese name of a partner unit (layers/partner_names.toml, source `vi`)."""
    out = {}
    for entries in load_partner_names().values():
        if not isinstance(entries, list):
            continue
        for e in entries:
            vi = next((a[0] for a in e.get("aliases", []) if len(a) > 1 and a[1] == "vi"), None)
            if vi and "code" in e:
                out.setdefault(e["code"], vi)
    return out


def unit_name(unit, lang: str) -> str:
    """A resolved unit of an answer's `query` (a dict) in the page's language."""
    if not isinstance(unit, dict):
        return "" if unit is None else str(unit)
    name = str(unit.get("name") or unit.get("code") or "")
    if lang == "vi" and unit.get("country", "VNM") != "VNM":
        name = unit.get("name_vi") or _vi_aliases().get(str(unit.get("code")), name)
    if unit.get("parent_name") and unit.get("kind") in ("district", "partner_district"):
        name = f"{name}, {unit['parent_name']}"
    return name


def number(v, lang: str) -> str:
    """A figure as people read it: thousands grouped, up to 3 decimals (vi: 1.234,5; en: 1,234.5)."""
    if isinstance(v, bool):
        return ("có" if v else "không") if lang == "vi" else ("yes" if v else "no")
    if isinstance(v, int | np.integer):
        s = f"{int(v):,}"
    else:
        s = f"{float(v):,.3f}".rstrip("0").rstrip(".")
    if lang == "vi":
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s


def _km(m, lang: str) -> str:
    return number(round(float(m) / 1000, 1), lang)


def title_of(fc: dict, lang: str) -> str:
    """The question in words: "Các xã giáp Hủa Phăn" / "Communes touching Houaphan"."""
    q = fc.get("query") or {}
    question = q.get("question")
    vi = lang == "vi"
    if question == "touching":
        t = (
            f"Các xã giáp {unit_name(q.get('unit'), lang)}"
            if vi
            else f"Communes touching {unit_name(q.get('unit'), lang)}"
        )
        if q.get("within"):
            t += f" ({'thuộc' if vi else 'in'} {unit_name(q['within'], lang)})"
        return t
    if question in ("roadless-villages", "roadless-villages-by-commune"):
        towns = q.get("layer") == "towns"
        d = number(q.get("min_distance_m", 0), lang)
        if vi:
            t = f"{'Điểm dân cư' if towns else 'Thôn, bản'} cách đường trên {d} m"
        else:
            t = f"{'Towns' if towns else 'Villages'} more than {d} m from a road"
        if question.endswith("by-commune"):
            t = f"{t}, {'theo xã' if vi else 'per commune'}"
        if q.get("border_km"):
            b = number(q["border_km"], lang)
            t += f" ({'trong' if vi else 'within'} {b} km {'từ biên giới' if vi else 'of the border'})"
        if q.get("partner"):
            t += f" — {unit_name(q['partner'], lang)}"
        return t
    if question == "nearest-gates":
        o = q.get("origin") or {}
        where = o.get("name") or f"{o.get('lat')}, {o.get('lon')}"
        k = q.get("k", len(fc.get("features", [])))
        return f"{k} cửa khẩu gần {where} nhất" if vi else f"The {k} border gates nearest to {where}"
    if question == "border-zone":
        d = number(q.get("distance_km", 0), lang)
        t = f"Vùng {d} km dọc biên giới" if vi else f"Within {d} km of the border"
        if q.get("partner"):
            t += f" {'với' if vi else 'with'} {unit_name(q['partner'], lang)}"
        return t
    if question == "commune-profile":
        first = (fc.get("features") or [{}])[0].get("properties", {})
        name = " ".join(str(x) for x in (first.get("unit_type"), first.get("name") or q.get("code")) if x)
        return f"Hồ sơ {name}" if vi else f"Profile of {name}"
    return str(question or "")


def kind_of(fc: dict, feature: dict) -> str:
    """The role / kind a feature is drawn and listed as."""
    q = fc.get("query") or {}
    p = feature.get("properties") or {}
    if p.get("feature_kind"):
        return str(p["feature_kind"])
    if p.get("role"):
        return str(p["role"])
    question = q.get("question")
    if question == "touching":
        geom = (feature.get("geometry") or {}).get("type", "")
        return "shared" if "LineString" in geom else "commune"
    if question == "roadless-villages":
        return "town" if q.get("layer") == "towns" else "village"
    if question == "nearest-gates":
        return "gate"
    return "commune"


def _kind_word(kind: str, lang: str) -> str:
    vi, en, _ = KINDS.get(kind, (kind, kind, ""))
    return vi if lang == "vi" else en


def cell(key: str, v, lang: str) -> str:
    """A property as the table prints it."""
    if v is None:
        return ""
    if key in ("feature_kind", "role"):
        return _kind_word(str(v), lang)
    if key == "gate_class" and v in _CLASS_WORDS:
        return _CLASS_WORDS[v][0 if lang == "vi" else 1]
    if key == "facing" and isinstance(v, list):
        return ", ".join(
            f"{d.get('partner_district_name') or d.get('partner_unit_name')} ({number(d['length_km'], lang)} km)"
            for d in v
        )
    if key == "neighbours" and isinstance(v, list):
        return ", ".join(f"{d.get('name')} ({number(d['shared_length_km'], lang)} km)" for d in v)
    if isinstance(v, bool | int | float | np.integer | np.floating):
        return number(v, lang)
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {x}" for k, x in v.items())
    return str(v)


def _sort_value(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    return None


# --------------------------------------------------------------------------- the table


def row_id(feature: dict) -> str:
    """The id a table row carries: the feature's own id, empty when it has none."""
    fid = feature.get("id")
    return "" if fid is None else str(fid)


def table(fc: dict, lang: str) -> tuple[list[dict], list[dict]]:
    """(columns, rows) of the answer: one row per feature, in the answer's order."""
    question = (fc.get("query") or {}).get("question", "")
    feats = fc.get("features") or []
    present = {k for f in feats for k, v in (f.get("properties") or {}).items() if v is not None}
    spec = [c for c in COLUMNS.get(question, (_NAME,)) if c[0] in present]
    seen, cols = set(), []
    for key, vi, en in spec:
        label = vi if lang == "vi" else en
        if label in seen:  # dem_m / dem: one of the two
            continue
        seen.add(label)
        numeric = all(
            _sort_value(f["properties"].get(key)) is not None for f in feats if f["properties"].get(key) is not None
        )
        cols.append({"key": key, "label": label, "numeric": numeric and key not in ("coord_minute_grid",)})
    has_id = any(f.get("id") is not None for f in feats)
    rows = []
    for i, f in enumerate(feats):
        p = f.get("properties") or {}
        kind = kind_of(fc, f)
        cells = []
        for c in cols:
            v = p.get(c["key"])
            sv = _sort_value(v)
            cells.append(
                {"text": cell(c["key"], v, lang), "sort": "" if sv is None else repr(sv), "numeric": c["numeric"]}
            )
        rows.append(
            {
                "k": str(i),
                "id": row_id(f),
                "kind": kind,
                "colour": KINDS.get(kind, ("", "", "#555555"))[2],
                "has_geometry": f.get("geometry") is not None,
                "cells": cells,
            }
        )
    if has_id:
        cols.insert(0, {"key": "id", "label": "Mã" if lang == "vi" else "Id", "numeric": False})
        for r in rows:
            r["cells"].insert(0, {"text": r["id"], "sort": "", "numeric": False})
    return cols, rows


def figures(fc: dict, lang: str) -> list[tuple[str, str]]:
    """The answer's own figures (beside the features): totals, what was left out, a profile's commune."""
    t = TEXT[lang]
    q = fc.get("query") or {}
    out: list[tuple[str, str]] = []
    n, m = fc.get("numberReturned"), fc.get("numberMatched")
    if n is not None:
        val = number(n, lang) if m in (None, n) else f"{number(n, lang)} ({t['matched']}: {number(m, lang)})"
        out.append((t["features"].capitalize(), val))
    if fc.get("shared_length_km") is not None:
        out.append((t["shared_total"], f"{number(fc['shared_length_km'], lang)} km"))
    short = fc.get("excluded_short_contacts")
    if short:
        names = ", ".join(f"{s.get('name')} ({number(s.get('shared_length_km', 0), lang)} km)" for s in short)
        out.append((t["short_contacts"].format(km=number(q.get("min_shared_km", 0.5), lang)), names))
    for key in (
        "settlements_considered",
        "roadless_settlements",
        "roadless_outside_communes",
        "gates_without_location",
    ):
        if fc.get(key) is not None:
            out.append((t[key], number(fc[key], lang)))
    if isinstance(fc.get("counts"), dict):
        out.append(
            (
                t["by_kind"],
                ", ".join(f"{_kind_word(k.rstrip('s'), lang)}: {number(v, lang)}" for k, v in fc["counts"].items()),
            )
        )
    if q.get("question") == "commune-profile" and fc.get("features"):
        p = fc["features"][0].get("properties") or {}
        for key, vi, en in PROFILE_FIGURES:
            if p.get(key) is not None:
                out.append((vi if lang == "vi" else en, cell(key, p[key], lang)))
        for ind in (p.get("indicators") or {}).values():
            if not isinstance(ind, dict) or ind.get("value") is None:
                continue
            name = ind.get("title") if lang == "vi" else ind.get("title_en") or ind.get("title")
            unit = ind.get("unit") if lang == "vi" else ind.get("unit_en") or ind.get("unit")
            out.append((f"{name} ({ind.get('year')})", f"{number(ind['value'], lang)} {unit or ''}".strip()))
    return out


def parameters(fc: dict, lang: str) -> list[tuple[str, str]]:
    """The question as resolved (`query`), parameter by parameter."""
    out = []
    for k, v in (fc.get("query") or {}).items():
        if k == "question":
            continue
        if isinstance(v, dict) and ("name" in v or "code" in v):
            text = unit_name(v, lang)
            if v.get("code") and str(v["code"]) != text:
                text = f"{text} ({v['code']})"
        elif isinstance(v, dict):
            text = ", ".join(f"{a}: {b}" for a, b in v.items() if b is not None)
        elif isinstance(v, list):
            text = ", ".join(str(x) for x in v)
        elif v is None:
            text = "—"
        elif isinstance(v, float) and not isinstance(v, bool):
            text = number(v, lang)
        else:
            text = str(v)
        out.append((k, text))
    return out


def _sentences(d, prefix: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out.extend(_sentences(v, f"{prefix}{k}."))
        elif isinstance(v, list):
            out.append(f"{prefix}{k}: {', '.join(str(x) for x in v)}")
        elif v is not None and k != "source_sha256":
            out.append(f"{prefix}{k}: {v}")
    return out


def notes(fc: dict) -> list[dict]:
    """The answer's caveats (roadless questions, border zone), part by part, as the library says them."""
    cav = fc.get("caveats")
    if not isinstance(cav, dict):
        return []
    return [{"part": part, "lines": _sentences(v) if isinstance(v, dict) else [str(v)]} for part, v in cav.items()]


# --------------------------------------------------------------------------- the map

_VIETNAM = (102.1, 8.4, 109.5, 23.4)
_SIMPLIFY_DEG = 0.0005  # ~50 m: the map is for seeing, the JSON has the full geometry


def _light(geom: dict | None, simplify: bool) -> tuple[object | None, dict | None]:
    """(shapely geometry, GeoJSON of it simplified and rounded for the page)."""
    if not geom:
        return None, None
    g = shapely.geometry.shape(geom)
    if g.is_empty:
        return None, None
    light = shapely.simplify(g, _SIMPLIFY_DEG, preserve_topology=True) if simplify and g.geom_type != "Point" else g
    light = shapely.set_precision(light, 1e-5)
    if light.is_empty:
        light = g
    return g, json.loads(shapely.to_geojson(light))


def _label(fc: dict, p: dict, lang: str) -> str:
    """The tooltip of a feature on the map: its name and main figure."""
    name = p.get("name") or p.get("name_vi") or p.get("commune_code") or ""
    q = (fc.get("query") or {}).get("question")
    for key, unit in (
        ("shared_length_km", "km"),
        ("roadless_settlements", ""),
        ("distance_to_road_m", "m"),
        ("distance_m", "m"),
        ("distance_to_border_m", "m"),
    ):
        if p.get(key) is not None and not (
            q == "commune-profile" and key == "distance_to_road_m" and not p.get("role")
        ):
            return f"{name} · {number(p[key], lang)} {unit}".strip()
    return str(name)


class _Script(MacroElement):
    """Page script that runs after the map and its layers exist (rendered as the map's last child)."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")

    def __init__(self, js: str):
        super().__init__()
        self._name = "AnswerScript"
        self.js = js


_JS = """
(function () {
  var map = %(map)s, groups = [%(groups)s], index = {};
  groups.forEach(function (g) {
    g.eachLayer(function (l) { if (l.feature && l.feature.properties.k != null) index[l.feature.properties.k] = l; });
  });
  map.fitBounds(%(bounds)s, {animate: false, padding: [12, 12], maxZoom: 13});
  L.control.scale({imperial: false, metric: true}).addTo(map);
  map.attributionControl.setPrefix('Leaflet');
  window.geoborderAnswer = {map: map, layers: index};
})();
"""


def _border_context(store, box) -> dict | None:
    """The border line near the answer (simplified, clipped), for context."""
    try:
        bl = store.frame("border_lines")
    except NotFound:
        return None
    if bl is None or not len(bl):
        return None
    geoms = np.asarray(bl.geometry.values, dtype=object)
    keep = shapely.intersects(geoms, box)
    if not keep.any():
        return None
    clipped = shapely.set_precision(
        shapely.simplify(shapely.intersection(geoms[keep], box), 0.001, preserve_topology=True), 1e-5
    )
    feats = [
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)), "properties": {}}
        for g in clipped
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": feats} if feats else None


def _style(kind: str):
    colour = KINDS.get(kind, ("", "", "#555555"))[2]
    if kind in POINT_KINDS:
        return lambda f: {
            "color": "#ffffff",
            "weight": 1,
            "fill": True,
            "fillColor": colour,
            "fillOpacity": 0.9,
            "radius": 5,
        }
    if kind == "shared":
        return lambda f: {"color": colour, "weight": 5, "opacity": 0.95}
    if kind == "road":
        return lambda f: {"color": colour, "weight": 2.5, "opacity": 0.9}
    return lambda f: {"color": colour, "weight": 1.2, "fillColor": colour, "fillOpacity": 0.22}


def map_parts(store, fc: dict, lang: str, vendor: str) -> dict:
    """The Folium map of the answer, in the three parts a page needs: header (Leaflet's JS/CSS,
    the map's style), html (the map's div) and script."""
    feats = fc.get("features") or []
    groups: dict[str, list[dict]] = {}
    shapes = []
    many_points = sum(1 for f in feats if (f.get("geometry") or {}).get("type") == "Point") > 2000
    for i, f in enumerate(feats):
        g, light = _light(f.get("geometry"), simplify=True)
        if g is None:
            continue
        shapes.append(g)
        p = f.get("properties") or {}
        kind = kind_of(fc, f)
        groups.setdefault(kind, []).append(
            {"type": "Feature", "geometry": light, "properties": {"k": str(i), "t": _label(fc, p, lang)}}
        )
    origin = (fc.get("query") or {}).get("origin") or {}
    if origin.get("lon") is not None and origin.get("lat") is not None:
        o = shapely.Point(origin["lon"], origin["lat"])
        shapes.append(o)
        name = origin.get("name") or f"{origin['lat']}, {origin['lon']}"
        groups["origin"] = [
            {"type": "Feature", "geometry": json.loads(shapely.to_geojson(o)), "properties": {"t": str(name)}}
        ]
    if shapes:
        west, south, east, north = shapely.GeometryCollection(shapes).bounds
    else:
        west, south, east, north = _VIETNAM
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=7,
        tiles=None,
        width="100%",
        height="62vh",
        control_scale=False,
        min_zoom=4,
        max_zoom=16,
        prefer_canvas=many_points,
    )
    m.default_js = map_js(vendor)
    m.default_css = map_css(vendor)
    pad = 0.3
    border = _border_context(store, shapely.box(west - pad, south - pad, east + pad, north + pad))
    if border is not None:
        fg = folium.FeatureGroup(name=_kind_word("border", lang))
        folium.GeoJson(
            border,
            style_function=lambda f: {"color": KINDS["border"][2], "weight": 2, "opacity": 0.8},
            interactive=False,
        ).add_to(fg)
        fg.add_to(m)
    order = ["commune", "shared", "road", "settlement", "town", "village", "marker", "seat", "gate", "origin"]
    names = []
    for kind in sorted(groups, key=lambda k: order.index(k) if k in order else len(order)):
        fg = folium.FeatureGroup(name=f"{_kind_word(kind, lang)} ({len(groups[kind])})")
        layer = folium.GeoJson(
            {"type": "FeatureCollection", "features": groups[kind]},
            style_function=_style(kind),
            marker=folium.CircleMarker(radius=5) if kind in POINT_KINDS else None,
            tooltip=folium.GeoJsonTooltip(["t"], labels=False),
            name=kind,
        )
        layer.add_to(fg)
        fg.add_to(m)
        names.append(layer.get_name())
    folium.LayerControl(collapsed=False).add_to(m)
    bounds = [[south, west], [north, east]]
    m.add_child(_Script(_JS % {"map": m.get_name(), "groups": ", ".join(names), "bounds": json.dumps(bounds)}))
    fig = m.get_root()
    fig.render()
    header = fig.header.render()
    # folium's page style (html, body at 100 %, no margin) is for a page that is only a map
    header = re.sub(r"<style>\s*html, body \{.*?\}\s*</style>", "", header, flags=re.S)
    script = fig.script.render().replace("</", "<\\/")  # no data can close the script element
    return {
        "header": Markup(header),
        "html": Markup(fig.html.render()),
        "script": Markup(script),
        "legend": [
            {"kind": k, "label": _kind_word(k, lang), "colour": KINDS.get(k, ("", "", "#555555"))[2], "n": len(v)}
            for k, v in groups.items()
        ]
        + (
            [{"kind": "border", "label": _kind_word("border", lang), "colour": KINDS["border"][2], "n": None}]
            if border
            else []
        ),
    }


# --------------------------------------------------------------------------- the page


def answer_context(store, fc: dict, *, lang: str, urls: AnswerUrls) -> dict:
    """What web/templates/answer.html needs to show one answer."""
    cols, rows = table(fc, lang)
    return {
        "lang": lang,
        "t": TEXT[lang],
        "title": title_of(fc, lang),
        "question": (fc.get("query") or {}).get("question", ""),
        "params": parameters(fc, lang),
        "figures": figures(fc, lang),
        "notes": notes(fc),
        "columns": cols,
        "rows": rows,
        "map": map_parts(store, fc, lang, urls.vendor),
        "urls": urls,
        "error": None,
    }


def _param_of(detail: str, names: tuple[str, ...] = ()) -> str | None:
    """The parameter a message is about: 'k: ...', 'distance_km must be ...' (a parameter of the
    request), 'unknown query parameter(s): x; ...'."""
    m = re.match(r"\s*([a-z_]+):", detail)
    if m:
        return m.group(1)
    m = re.search(r"unknown query parameter\(s\): ([^;]+);", detail)
    if m:
        return m.group(1).split(",")[0].strip()
    m = re.match(r"\s*([a-z_]+)\b", detail)
    return m.group(1) if m and m.group(1) in names else None


def error_context(status: int, detail: str, *, lang: str, urls: AnswerUrls, names: tuple[str, ...] = ()) -> dict:
    """An error of an HTML request: what is wrong in the page's language, the way back, the detail.
    `names`: the request's parameters (a message that starts with one is about it)."""
    t = TEXT[lang]
    param = _param_of(detail, names)
    named = t["param_named"].format(param=param) if param else ""
    if status == 404:
        message, hint = t["error_404"].format(param=named), t["error_hint_404"]
    elif 400 <= status < 500:
        message, hint = t["error_400"].format(param=named), t["error_hint_400"]
    else:
        message, hint = t["error_other"], ""
    return {
        "lang": lang,
        "t": t,
        "title": t["error_title"],
        "urls": urls,
        "error": {"status": status, "message": message, "hint": hint, "detail": detail},
    }
