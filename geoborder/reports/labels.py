"""The words of a report, in Vietnamese (the default) and English, and how its numbers are written."""

from __future__ import annotations

from geoborder.maps.classes import fmt_number

LABELS = {
    "vi": {
        "title": "Báo cáo khu vực biên giới",
        "area": "Khu vực",
        "period": "Giai đoạn",
        "units": "Đơn vị hành chính của báo cáo",
        "units_2025": "xã theo đơn vị hành chính 2025",
        "units_2009": "xã trước 2025",
        "n_communes": "Số xã",
        "summary": "Tóm tắt các chỉ tiêu",
        "indicator": "Chỉ tiêu",
        "unit": "Đơn vị",
        "rule": "Cách tổng hợp",
        "year": "Năm",
        "value": "Giá trị",
        "first": "Năm đầu",
        "last": "Năm cuối",
        "change_abs": "Thay đổi",
        "change_pct": "Thay đổi (%)",
        "annual_rate": "Tốc độ bình quân năm (%)",
        "series": "Số liệu theo năm",
        "with_value": "Số xã có số liệu",
        "reported_on": "Số liệu theo đơn vị",
        "version": "Phiên bản nhập",
        "no_data": "không có số liệu",
        "years_without_data": "Năm không có số liệu",
        "thresholds": "Ngưỡng",
        "meet": "Số xã đạt",
        "share": "Tỷ lệ (%)",
        "not_meet": "Xã chưa đạt",
        "improved_most": "Xã cải thiện nhiều nhất",
        "improved_least": "Xã cải thiện ít nhất",
        "not_comparable": "Xã không so sánh được (số liệu không mang sang đầy đủ qua sắp xếp 2025)",
        "commune": "Xã",
        "code": "Mã",
        "reform": "Qua sắp xếp đơn vị hành chính 2025",
        "years_carried": "Các năm số liệu theo xã trước 2025 được chuyển sang xã 2025 qua bảng chuyển đổi",
        "partly_merged": "Xã trước 2025 bị chia cho nhiều xã mới (không chia được số liệu)",
        "incomplete": "Xã 2025 có xã cũ không có số liệu",
        "missing": "thiếu",
        "not_carried": "không mang sang được",
        "area_notes": "Khu vực không trùng khớp giữa hai thời kỳ",
        "targets": "Mục tiêu",
        "target": "Mục tiêu",
        "actual": "Thực hiện",
        "status": "Kết quả",
        "met": "đạt",
        "not_met": "không đạt",
        "on_track": "đúng lộ trình",
        "off_track": "chệch lộ trình",
        "basis": "Căn cứ",
        "not_in_report": "chỉ tiêu không có trong báo cáo",
        "no_targets": "Chưa nhập mục tiêu cho khu vực này.",
        "crossings": "Cửa khẩu và lượt xuất nhập cảnh",
        "imports": "Nguồn số liệu (các lần nhập)",
        "file": "Tệp",
        "imported_at": "Ngày nhập",
        "who": "Người nhập",
        "maps": "Bản đồ năm đầu và năm cuối",
        "classes": "Số xã theo lớp",
        "yes_share": "tỷ lệ xã có",
        "like_for_like": "So sánh không cùng phạm vi: năm đầu và năm cuối khác đơn vị hoặc thiếu số liệu của một số xã",
        "madeup_note": "",
        "rules": {
            "sum": "tổng",
            "weighted_mean": "trung bình có trọng số",
            "max": "lớn nhất",
            "min": "nhỏ nhất",
            "any": "có ở ít nhất một xã",
            "all": "có ở tất cả các xã",
        },
        "page": "Trang",
    },
    "en": {
        "title": "Border-area report",
        "area": "Area",
        "period": "Period",
        "units": "Units of the report",
        "units_2025": "communes of 2025 units",
        "units_2009": "pre-2025 communes",
        "n_communes": "Communes",
        "summary": "Summary of the indicators",
        "indicator": "Indicator",
        "unit": "Unit",
        "rule": "Combined as",
        "year": "Year",
        "value": "Value",
        "first": "First year",
        "last": "Last year",
        "change_abs": "Change",
        "change_pct": "Change (%)",
        "annual_rate": "Average annual rate (%)",
        "series": "Yearly series",
        "with_value": "Communes with a value",
        "reported_on": "Reported on",
        "version": "Import version",
        "no_data": "no data",
        "years_without_data": "Years without data",
        "thresholds": "Thresholds",
        "meet": "Communes meeting it",
        "share": "Share (%)",
        "not_meet": "Communes not meeting it",
        "improved_most": "Communes that improved most",
        "improved_least": "Communes that improved least",
        "not_comparable": "Communes not compared (values not carried exactly across the 2025 reform)",
        "commune": "Commune",
        "code": "Code",
        "reform": "Across the 2025 reform",
        "years_carried": "Years whose pre-2025 values are carried onto 2025 communes through the crosswalk",
        "partly_merged": "Pre-2025 communes split across several new communes (their values cannot be split)",
        "incomplete": "2025 communes with pre-2025 units without a value",
        "missing": "missing",
        "not_carried": "not carried",
        "area_notes": "Where the area differs between the two periods",
        "targets": "Targets",
        "target": "Target",
        "actual": "Actual",
        "status": "Result",
        "met": "met",
        "not_met": "not met",
        "on_track": "on track",
        "off_track": "off track",
        "basis": "Basis",
        "not_in_report": "indicator not in the report",
        "no_targets": "No targets imported for this area.",
        "crossings": "Gates and crossings",
        "imports": "Sources of the figures (imports)",
        "file": "File",
        "imported_at": "Imported",
        "who": "By",
        "maps": "Maps of the first and last year",
        "classes": "Communes by class",
        "yes_share": "share of communes with yes",
        "like_for_like": "Not like for like: the first and last years are on different units or lack some communes",
        "madeup_note": "",
        "rules": {
            "sum": "sum",
            "weighted_mean": "weighted mean",
            "max": "maximum",
            "min": "minimum",
            "any": "yes in at least one commune",
            "all": "yes in every commune",
        },
        "page": "Page",
    },
}


def labels(lang: str) -> dict:
    return LABELS["en" if lang == "en" else "vi"]


def num(v, lang: str = "vi", *, integer: bool = False, signed: bool = False) -> str:
    """A figure as written in the report ("không có số liệu" for none)."""
    if v is None:
        return labels(lang)["no_data"]
    s = fmt_number(float(v), lang, integer=integer)
    return ("+" + s) if signed and float(v) > 0 else s


def is_integer(fig: dict) -> bool:
    return fig["type"] in ("count",) and fig["aggregation"] == "sum"


def rule_text(fig: dict, lang: str) -> str:
    L = labels(lang)
    t = L["rules"].get(fig["aggregation"], fig["aggregation"])
    if fig["aggregation"] == "weighted_mean" and fig.get("weight"):
        t += (
            (" theo dân số" if fig["weight"] == "population" else " theo diện tích")
            if lang == "vi"
            else f" by {fig['weight']}"
        )
    if fig["type"] == "boolean":
        t += f"; {L['yes_share']}"
    return t


def headline(fig: dict, s: dict):
    """The figure of a series row that the report shows: the share of communes with yes for a
    yes/no indicator, else the combined value."""
    return s.get("share_yes_percent") if fig["type"] == "boolean" else s.get("value")


def units_text(units, lang: str) -> str:
    if units is None:
        return "—"
    L = labels(lang)
    return L["units_2025"] if units == 2025 else L["units_2009"]


def title(fig: dict, lang: str) -> str:
    return fig["title_en"] if lang == "en" else fig["title_vi"]


def unit(fig: dict, lang: str) -> str:
    u = fig["unit_en"] if lang == "en" else fig["unit_vi"]
    return "%" if fig["type"] == "boolean" else u
