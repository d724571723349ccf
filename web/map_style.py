"""What the map page and its layers share: the page's texts in both languages, the colours of
the context layers, and HTML escaping."""

from __future__ import annotations

TEXT = {
    "vi": {
        "download": "Tải GeoJSON",
        "picker": "Chọn bản đồ khác",
        "other_lang": "English",
        "area": "Vùng",
        "year": "Năm",
        "units": "Địa giới",
        "units_2025": "đơn vị hành chính 2025",
        "units_2009": "đơn vị trước 2025 (địa giới 2009)",
        "classes": "Phân lớp",
        "hover": "Di chuột lên bản đồ để xem số liệu của xã; bấm để xem chi tiết.",
        "border": "Đường biên giới",
        "gates": "Cửa khẩu",
        "partners": "Lào, Trung Quốc, Campuchia: tỉnh, huyện",
        "provinces": "Ranh giới, tên tỉnh",
        "rivers": "Sông, hồ",
        "terrain": "Địa hình",
        "labels": "Tên xã, thị trấn, bản",
        "places": "Điểm dân cư",
        "roads": "Quốc lộ, tỉnh lộ, đường sắt",
        "seats": "Trụ sở UBND xã",
        "osm": "Nền OpenStreetMap (cần Internet)",
        "gate_class": {"international": "Cửa khẩu quốc tế", "main": "Cửa khẩu chính", "secondary": "Cửa khẩu phụ"},
        "unit": "Đơn vị",
        "communes": "xã",
        "no_data_yet": "chưa có số liệu",
        "no_data_units": "chưa có số liệu trên địa giới này",
    },
    "en": {
        "download": "Download GeoJSON",
        "picker": "Pick another map",
        "other_lang": "Tiếng Việt",
        "area": "Area",
        "year": "Year",
        "units": "Units",
        "units_2025": "2025 administrative units",
        "units_2009": "pre-2025 units (2009 geography)",
        "classes": "Classes",
        "hover": "Hover over the map to see a commune's figures; click for details.",
        "border": "Border line",
        "gates": "Border gates",
        "partners": "Laos, China, Cambodia: provinces, districts",
        "provinces": "Province boundaries and names",
        "rivers": "Rivers and lakes",
        "terrain": "Terrain",
        "labels": "Names of communes, towns, villages",
        "places": "Settlements",
        "roads": "National and provincial roads, railways",
        "seats": "Commune seats",
        "osm": "OpenStreetMap basemap (needs internet)",
        "gate_class": {"international": "International gate", "main": "Main gate", "secondary": "Secondary gate"},
        "unit": "Unit",
        "communes": "communes",
        "no_data_yet": "no data imported",
        "no_data_units": "no data on these units",
    },
}
GATE_COLORS = {"international": "#08306b", "main": "#2171b5", "secondary": "#9ecae1"}
GATE_OUTLINE = "#000000"
GATE_RING = "#ffffff"
BORDER_COLOR = "#d7191c"
PARTNER_COLOR = "#4d4d4d"
PARTNER_FILL = "#f0f0f0"
RIVER_COLOR = "#2c7fb8"
LAKE_FILL = "#a6cee3"


def esc(s) -> str:
    return (
        str(s)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )
