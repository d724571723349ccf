"""What a map page says when a choice is wrong or empty: a sentence for people in the page's
language (the library's message stays as the technical detail), keyed by the parameter the
library or the framework named ("area: ..." -> area)."""

from __future__ import annotations

import re

from geoborder.maps.classes import K_MAX, K_MIN

# the choices the picker takes (an error page's way back keeps them)
PICKER_PARAMS = ("indicator", "vintage", "area", "year", "classes", "k", "from", "measure")

_TEXT = {
    "vi": {
        "indicator_unknown": "Không có chỉ tiêu «{value}».",
        "indicator_empty": "Chỉ tiêu «{value}» chưa có số liệu trên địa giới này.",
        "indicator_empty_hint": "Các chỉ tiêu báo cáo chỉ có số liệu sau khi cơ quan thống kê nhập dữ liệu. "
        "Hãy chọn chỉ tiêu khác hoặc địa giới khác.",
        "vintage": "Địa giới «{value}» không có: chọn 2025 (sau sắp xếp) hoặc 2009 (trước 2025).",
        "area": "Vùng «{value}» không có trên địa giới đã chọn.",
        "area_hint": "Mã tỉnh của địa giới 2025 khác với trước 2025 (Sơn La: 14 và 303). Hãy chọn tỉnh trong danh sách.",
        "area_empty": "Vùng «{value}» không có xã nào trên địa giới đã chọn.",
        "year": "Không có số liệu của năm «{value}» cho chỉ tiêu này.",
        "year_hint": "Hãy chọn một năm có số liệu trong danh sách.",
        "classes": "Cách phân lớp «{value}» không có: chọn phân vị, ngắt tự nhiên hoặc khoảng đều.",
        "k": f"Số lớp «{{value}}» không được: số lớp phải từ {K_MIN} đến {K_MAX}.",
        "layer": "Kho dữ liệu này không có lớp «{value}» (gói nguồn thiếu tệp), nên không có bản đồ theo "
        "các đơn vị này.",
        "from": "Không vẽ được bản đồ thay đổi từ năm «{value}».",
        "from_hint": "Bản đồ thay đổi cần hai năm có số liệu trên cùng địa giới, năm đầu trước năm của bản đồ. "
        "Hãy chọn năm trong danh sách «Thay đổi từ năm».",
        "measure": "Không tính được thước đo «{value}» cho bản đồ này.",
        "measure_hint": "Chọn hiệu số; % thay đổi cần năm đầu có số liệu khác 0 và không dùng cho chỉ tiêu có/không.",
        "with": "Không có bản đồ thứ hai để so sánh với lựa chọn «{value}».",
        "with_hint": "Hãy chọn năm khác có số liệu hoặc địa giới khác (2009 hoặc 2025).",
        "other": "Một lựa chọn trong địa chỉ trang không hợp lệ ({param}).",
        "generic": "Không hiển thị được bản đồ với các lựa chọn này.",
    },
    "en": {
        "indicator_unknown": "There is no indicator “{value}”.",
        "indicator_empty": "The indicator “{value}” has no values on these units yet.",
        "indicator_empty_hint": "Reported indicators have values only once a statistics office has imported them. "
        "Pick another indicator or the other units.",
        "vintage": "There are no units “{value}”: pick 2025 (after the reform) or 2009 (pre-2025).",
        "area": "The area “{value}” is not on the units chosen.",
        "area_hint": "Province codes differ between the 2025 and pre-2025 units (Sơn La: 14 and 303). "
        "Pick a province from the list.",
        "area_empty": "The area “{value}” has no communes on the units chosen.",
        "year": "There are no values for the year “{value}” of this indicator.",
        "year_hint": "Pick a year with values from the list.",
        "classes": "There is no classification “{value}”: pick quantiles, natural breaks or equal interval.",
        "k": f"“{{value}}” classes is not possible: the number of classes is {K_MIN} to {K_MAX}.",
        "layer": "This store has no layer “{value}” (its source file is not in the pack), so maps on these "
        "units are not available.",
        "from": "No change map can be drawn from the year “{value}”.",
        "from_hint": "A change map needs two years with values on the same units, the first before the map's year. "
        "Pick a year from the “Change since” list.",
        "measure": "The measure “{value}” cannot be computed for this map.",
        "measure_hint": "Pick difference; a % change needs a first year other than 0, and none is made of a yes/no indicator.",
        "with": "There is no second map to compare with the choice “{value}”.",
        "with_hint": "Pick another year with values, or the other units (2009 or 2025).",
        "other": "A choice in the page's address is not valid ({param}).",
        "generic": "The map cannot be shown with these choices.",
    },
}


def param_of(detail: str) -> str | None:
    """The parameter a message is about: 'area: ...' -> 'area', 'k: Input should be ...' -> 'k'."""
    m = re.match(r"\s*([a-z_/]+):", detail)
    if m:
        return m.group(1)
    m = re.search(r"unknown query parameter\(s\): ([^;]+);", detail)
    return m.group(1).split(",")[0].strip() if m else None


def explain(detail: str, value: str | None, lang: str, *, not_found: bool = False) -> tuple[str, str]:
    """(message, hint) for people about the library's or framework's `detail`."""
    t = _TEXT["en" if lang == "en" else "vi"]
    param = param_of(detail)
    v = "" if value is None else value
    layer = re.match(r"layer '([^']+)' is not in this store", detail)
    if not_found and layer:
        return t["layer"].format(value=layer.group(1)), ""
    if param == "indicator":
        if "unknown indicator" in detail:
            return t["indicator_unknown"].format(value=v), ""
        return t["indicator_empty"].format(value=v), t["indicator_empty_hint"]
    if param == "area" or (not_found and detail.startswith("area ")):
        if not_found:
            return t["area_empty"].format(value=v), t["area_hint"]
        return t["area"].format(value=v), t["area_hint"]
    if param == "year":
        return t["year"].format(value=v), t["year_hint"]
    if param in ("from", "measure"):
        return t[param].format(value=v), t[f"{param}_hint"]
    if param in ("with_year", "with_vintage", "with_area", "classes_with"):
        return t["with"].format(value=v), t["with_hint"]
    if param in ("vintage", "classes", "k"):
        return t[param].format(value=v), ""
    if param:
        return t["other"].format(param=param), ""
    return t["generic"], ""
