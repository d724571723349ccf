"""The words of an answer page (geoborder.queries answers): titles, kinds, columns, numbers and
cells in the page's language."""

from __future__ import annotations

from functools import cache

import numpy as np

from geoborder.queries.names import load_partner_names

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
