"""The four kinds of border record: their columns (in a file and in the database), their
vocabularies, and the readers of their cells (dates, periods, counts, amounts).

A cell reader returns (value, error): (None, None) for an empty cell, (None, message) for a cell
that cannot be read; the importer turns messages into problems with line and column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from geoborder.core.text import fold


@dataclass(frozen=True)
class Field:
    name: str
    headers: frozenset[str]  # fold()ed header names
    required: bool = False


def _f(name: str, *headers: str, required: bool = False) -> Field:
    return Field(name, frozenset(fold(h) for h in (name, *headers)), required)


@dataclass(frozen=True)
class Kind:
    name: str
    fields: tuple[Field, ...]
    columns: tuple[str, ...]  # the database columns (besides import_id, line, matched_by)
    key: tuple[str, ...]  # per key, the latest import's row is the current one
    subject: str  # the column whose values are the "tables" an import writes (its locks)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


GATE = ("gate", "gate id", "cửa khẩu", "tên cửa khẩu", "điểm thông quan", "crossing point", "tên")
PROVINCE = ("province", "tỉnh", "tên tỉnh")
SOURCE = ("source", "nguồn", "nguồn tin")
NOTE = ("note", "notes", "ghi chú")

EVENTS = Kind(
    "events",
    (
        _f("gate", *GATE, required=True),
        _f("partner_gate", "partner gate", "cửa khẩu đối diện", "cửa khẩu phía bạn", "partner"),
        _f("province", *PROVINCE),
        _f("date", "ngày", "ngày hiệu lực", required=True),
        _f("event", "sự kiện", "loại sự kiện", required=True),
        _f("class", "new class", "cấp", "cấp cửa khẩu", "loại cửa khẩu"),
        _f("previous_class", "previous class", "from class", "cấp cũ", "cấp trước"),
        _f("point_kind", "kind", "loại điểm", "point kind"),
        _f("legal_ref", "legal reference", "legal ref", "decision", "số quyết định", "văn bản", "căn cứ"),
        _f("source", *SOURCE),
        _f("note", *NOTE),
    ),
    (
        "gate_id",
        "name",
        "province",
        "point_kind",
        "date",
        "precision",
        "event",
        "class",
        "previous_class",
        "partner_gate",
        "legal_ref",
        "source",
        "note",
    ),
    ("gate_id", "date", "event"),
    "gate_id",
)

CROSSINGS = Kind(
    "crossings",
    (
        _f("gate", *GATE, required=True),
        _f("partner_gate", "partner gate", "cửa khẩu đối diện", "cửa khẩu phía bạn", "partner"),
        _f("province", *PROVINCE),
        _f("period", "kỳ", "kỳ báo cáo", "thời gian"),
        _f("year", "năm"),
        _f("quarter", "quý"),
        _f("month", "tháng"),
        _f("people_out", "people out", "exits", "xuất cảnh", "người xuất cảnh", "lượt xuất cảnh"),
        _f("people_in", "people in", "entries", "nhập cảnh", "người nhập cảnh", "lượt nhập cảnh"),
        _f("vehicles_out", "vehicles out", "phương tiện xuất", "phương tiện xuất cảnh"),
        _f("vehicles_in", "vehicles in", "phương tiện nhập", "phương tiện nhập cảnh"),
        _f("export_value", "exports", "export value", "kim ngạch xuất khẩu", "giá trị xuất khẩu", "xuất khẩu"),
        _f("import_value", "imports", "import value", "kim ngạch nhập khẩu", "giá trị nhập khẩu", "nhập khẩu"),
        _f("currency", "đơn vị tiền", "tiền tệ", "đơn vị tiền tệ"),
        _f("source", *SOURCE),
    ),
    (
        "gate_id",
        "period",
        "period_kind",
        "period_start",
        "people_out",
        "people_in",
        "vehicles_out",
        "vehicles_in",
        "export_value",
        "import_value",
        "currency",
        "source",
    ),
    ("gate_id", "period"),
    "gate_id",
)

INSPECTIONS = Kind(
    "inspections",
    (
        _f("marker", "marker number", "số mốc", "mốc", "mốc số", "số hiệu mốc", "cọc dấu", required=True),
        _f("object", "type", "loại", "marker or stake"),
        _f("border", "tuyến biên giới", "biên giới"),
        _f("province", *PROVINCE),
        _f("date", "ngày", "ngày kiểm tra", "ngày tuần tra", required=True),
        _f("condition", "tình trạng", "hiện trạng", required=True),
        _f("patrol", "patrol kind", "hình thức", "hình thức tuần tra", "tuần tra"),
        _f("unit", "đơn vị", "đồn biên phòng"),
        _f("note", *NOTE),
    ),
    ("marker_key", "marker", "object", "border", "province", "date", "condition", "patrol", "unit", "note"),
    ("marker_key", "date"),
    "marker_key",
)

COOPERATION = Kind(
    "cooperation",
    (
        _f("vn_province", "vietnamese province", "tỉnh", "tỉnh việt nam", "province", required=True),
        _f("partner_province", "partner province", "tỉnh bạn", "tỉnh đối tác", "partner", required=True),
        _f("partner_country", "partner country", "nước", "nước bạn"),
        _f("type", "relation", "loại quan hệ", "hình thức hợp tác", "quan hệ"),
        _f("date_signed", "date signed", "signed", "ngày ký", "date", "ngày"),
        _f("document", "văn bản", "tên văn bản", "biên bản"),
        _f("source", *SOURCE),
    ),
    (
        "vn_province_code",
        "vn_province",
        "partner_code",
        "partner_name",
        "partner_country",
        "type",
        "date_signed",
        "precision",
        "document",
        "source",
    ),
    ("vn_province_code", "partner_code", "type", "date_signed"),
    "vn_province_code",
)

KINDS = {k.name: k for k in (EVENTS, CROSSINGS, INSPECTIONS, COOPERATION)}
IGNORED_HEADERS = {"stt", "tt", "so tt", "no", ""}

# --------------------------------------------------------------------------- vocabularies

# a gate's class, lowest first (lối mở = an opening, below a secondary gate)
CLASSES = ("opening", "secondary", "main", "international")
CLASS_WORDS = {
    "international": "international",
    "quoc te": "international",
    "cua khau quoc te": "international",
    "main": "main",
    "chinh": "main",
    "cua khau chinh": "main",
    "quoc gia": "main",  # the old vi-wiki table's Quốc gia, read as main (border_facts.md)
    "song phuong": "main",
    "bilateral": "main",
    "secondary": "secondary",
    "phu": "secondary",
    "cua khau phu": "secondary",
    "opening": "opening",
    "loi mo": "opening",
}
# the events of a crossing point; what each does to its status ("": nothing)
EVENT_STATUS = {
    "proposed": "proposed",
    "agreed": "agreed",
    "approved": "",
    "opened": "open",
    "upgraded": "",
    "downgraded": "",
    "classified": "",
    "relocated": "",
    "closed": "closed",
    "reopened": "open",
}
EVENT_WORDS = {
    **{e: e for e in EVENT_STATUS},
    "de xuat": "proposed",
    "de nghi": "proposed",
    "thong nhat": "agreed",
    "thoa thuan": "agreed",
    "agreed as a pair": "agreed",
    "phe duyet": "approved",
    "chap thuan": "approved",
    "mo": "opened",
    "mo cua": "opened",
    "khai truong": "opened",
    "open": "opened",
    "nang cap": "upgraded",
    "upgrade": "upgraded",
    "ha cap": "downgraded",
    "tam dong": "closed",
    "tam dung": "closed",
    "temporarily closed": "closed",
    "close": "closed",
    "mo lai": "reopened",
    "reopen": "reopened",
    "di doi": "relocated",
}
POINT_KINDS = {
    "gate": "gate",
    "cua khau": "gate",
    "opening": "opening",
    "loi mo": "opening",
    "market": "market",
    "border market": "market",
    "cho bien gioi": "market",
    "cho": "market",
}
CONDITIONS = {
    "intact": "intact",
    "nguyen ven": "intact",
    "con nguyen": "intact",
    "binh thuong": "intact",
    "tot": "intact",
    "damaged": "damaged",
    "hu hong": "damaged",
    "bi hu hong": "damaged",
    "hong": "damaged",
    "nut vo": "damaged",
    "displaced": "displaced",
    "xe dich": "displaced",
    "bi xe dich": "displaced",
    "dich chuyen": "displaced",
    "bi dich chuyen": "displaced",
    "lost": "lost",
    "mat": "lost",
    "bi mat": "lost",
    "that lac": "lost",
    "rebuilt": "rebuilt",
    "xay lai": "rebuilt",
    "da xay lai": "rebuilt",
    "khoi phuc": "rebuilt",
    "da khoi phuc": "rebuilt",
    "phuc hoi": "rebuilt",
}
PATROLS = {
    "bilateral": "bilateral",
    "song phuong": "bilateral",
    "tuan tra song phuong": "bilateral",
    "joint": "bilateral",
    "unilateral": "unilateral",
    "don phuong": "unilateral",
    "tuan tra don phuong": "unilateral",
}
OBJECTS = {"marker": "marker", "moc": "marker", "moc quoc gioi": "marker", "stake": "stake", "coc dau": "stake"}
BORDERS = {
    "vn la": "VN-LA",
    "lao": "VN-LA",
    "la": "VN-LA",
    "viet lao": "VN-LA",
    "viet nam lao": "VN-LA",
    "vn cn": "VN-CN",
    "chn": "VN-CN",
    "cn": "VN-CN",
    "trung quoc": "VN-CN",
    "viet trung": "VN-CN",
    "viet nam trung quoc": "VN-CN",
    "vn kh": "VN-KH",
    "khm": "VN-KH",
    "kh": "VN-KH",
    "campuchia": "VN-KH",
    "viet nam campuchia": "VN-KH",
}
BORDER_OF_COUNTRY = {"LAO": "VN-LA", "CHN": "VN-CN", "KHM": "VN-KH"}


def word(cell, vocab: dict, what: str) -> tuple[str | None, str | None]:
    """A vocabulary word (any spelling, with or without diacritics) as its canonical value."""
    if empty(cell):
        return None, None
    got = vocab.get(fold(str(cell)))
    if got is None:
        return None, f"{str(cell)!r} is not a {what}; one of: {', '.join(sorted(set(vocab.values())))}"
    return got, None


def class_word(cell) -> tuple[str | None, str | None]:
    """A gate class from free text: 'international', 'chính', 'Cửa khẩu phụ' ..."""
    if empty(cell):
        return None, None
    key = fold(str(cell))
    got = CLASS_WORDS.get(key) or CLASS_WORDS.get(key.split(" ")[0])
    if got is None:
        return None, f"{str(cell)!r} is not a gate class; one of: {', '.join(CLASSES)} (quốc tế, chính, phụ, lối mở)"
    return got, None


# --------------------------------------------------------------------------- cells


def empty(cell) -> bool:
    return (
        cell is None or (isinstance(cell, float) and math.isnan(cell)) or (isinstance(cell, str) and not cell.strip())
    )


def text(cell) -> str | None:
    if empty(cell):
        return None
    if isinstance(cell, float) and cell == int(cell):
        cell = int(cell)
    return str(cell).strip()


_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_MY = re.compile(r"^(\d{1,2})[/.-](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


def date_cell(cell, *, day_only: bool = False) -> tuple[tuple[str, str] | None, str | None]:
    """((ISO date, precision day|month|year), error). A month or a year gives its first day;
    dates are written day first (19/11/2024) or ISO (2024-11-19)."""
    if empty(cell):
        return None, None
    if isinstance(cell, dt.datetime):
        cell = cell.date()
    if isinstance(cell, dt.date):
        return (cell.isoformat(), "day"), None
    s = text(cell)
    assert s is not None  # not empty
    y = m = d = None
    if (g := _DMY.match(s)) is not None:
        d, m, y = map(int, g.groups())
    elif (g := _YMD.match(s)) is not None:
        y, m = int(g.group(1)), int(g.group(2))
        d = int(g.group(3)) if g.group(3) else None
    elif (g := _MY.match(s)) is not None:
        m, y = map(int, g.groups())
    elif re.fullmatch(r"\d{4}", s):
        y = int(s)
    else:
        return None, f"{s!r} is not a date (19/11/2024, 2024-11-19, 11/2024 or 2024)"
    precision = "day" if d else "month" if m else "year"
    if day_only and precision != "day":
        return None, f"{s!r} is not a whole date: give the day (19/11/2024)"
    try:
        value = dt.date(y, m or 1, d or 1)
    except ValueError:
        return None, f"{s!r} is not a date"
    if not 1900 <= y <= 2100:
        return None, f"{s!r} is not a date between 1900 and 2100"
    return (value.isoformat(), precision), None


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def period_cell(period, year, quarter, month) -> tuple[tuple[str, str, str] | None, str | None]:
    """((period, kind year|quarter|month, first day), error) from a period cell ('2024',
    '2024-Q1', 'Q1/2024', 'quý I/2024', '2024-03', '03/2024', 'tháng 3/2024') or from year and
    quarter or month cells."""
    if not empty(period):
        s = re.sub(r"\s+", "-", fold(str(text(period))).replace("quy", "q").replace("thang", "").strip())
        s = s.replace("q-", "q")
        if (g := re.fullmatch(r"(\d{4})", s)) is not None:
            return _period(int(g.group(1)), None, None)
        for pat in (r"(\d{4})[-/]?q([1-4]|iv|iii|ii|i)", r"q([1-4]|iv|iii|ii|i)[-/]?(\d{4})"):
            if (g := re.fullmatch(pat, s)) is not None:
                y, q = (g.group(1), g.group(2)) if pat.startswith("(\\d{4})") else (g.group(2), g.group(1))
                return _period(int(y), _ROMAN.get(q) or int(q), None)
        if (g := re.fullmatch(r"(\d{4})-(\d{1,2})", s)) is not None:
            return _period(int(g.group(1)), None, int(g.group(2)))
        if (g := re.fullmatch(r"t?(\d{1,2})[/-](\d{4})", s)) is not None:
            return _period(int(g.group(2)), None, int(g.group(1)))
        return None, f"{text(period)!r} is not a period (2024, 2024-Q1, Q1/2024, 2024-03, 03/2024)"
    if empty(year):
        return None, "no period: fill the period column (2024, 2024-Q1, 2024-03) or the year column"
    ys = text(year)
    assert ys is not None  # not empty
    if not re.fullmatch(r"\d{4}", ys):
        return None, f"{ys!r} is not a year"
    q = m = None
    if not empty(quarter):
        qs = fold(str(text(quarter))).replace("quy", "").replace("q", "").strip()
        q = _ROMAN.get(qs) or (int(qs) if qs.isdigit() else None)
        if q is None:
            return None, f"{text(quarter)!r} is not a quarter (1-4)"
    if not empty(month):
        ms = fold(str(text(month))).replace("thang", "").replace("t", "").strip()
        if not ms.isdigit():
            return None, f"{text(month)!r} is not a month (1-12)"
        m = int(ms)
    if q and m:
        return None, "a quarter and a month: give one of them"
    return _period(int(ys), q, m)


def _period(y: int, q: int | None, m: int | None):
    if not 1990 <= y <= 2100:
        return None, f"{y} is not a year between 1990 and 2100"
    if q is not None:
        if not 1 <= q <= 4:
            return None, f"quarter {q} is not 1-4"
        return (f"{y}-Q{q}", "quarter", f"{y}-{3 * q - 2:02d}-01"), None
    if m is not None:
        if not 1 <= m <= 12:
            return None, f"month {m} is not 1-12"
        return (f"{y}-{m:02d}", "month", f"{y}-{m:02d}-01"), None
    return (str(y), "year", f"{y}-01-01"), None


_GROUPED = re.compile(r"^\d{1,3}([., ]\d{3})+$")


def number_cell(cell, *, whole: bool) -> tuple[float | None, str | None]:
    """A non-negative number; thousands may be grouped (12.345 or 12,345 for a count; 1.234,5 or
    1,234.5 for an amount)."""
    if empty(cell):
        return None, None
    if isinstance(cell, bool):
        return None, f"{cell!r} is not a number"
    if isinstance(cell, (int, float)):
        v = float(cell)
    else:
        s = str(cell).strip().replace("\u00a0", " ")
        if whole and _GROUPED.match(s):
            s = re.sub(r"[., ]", "", s)
        elif "," in s and "." in s:
            s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
        elif s.count(",") == 1 and not _GROUPED.match(s):
            s = s.replace(",", ".")
        elif _GROUPED.match(s):
            s = re.sub(r"[., ]", "", s)
        try:
            v = float(s.replace(" ", ""))
        except ValueError:
            return None, f"{str(cell)!r} is not a number"
    if not math.isfinite(v):
        return None, f"{cell!r} is not a finite number"
    if v < 0:
        return None, f"{v:g} is negative"
    if whole and v != int(v):
        return None, f"{v:g} is not a whole number (a count)"
    return v, None
