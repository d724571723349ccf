"""The four kinds of border record: their columns (in a file and in the database). Their
vocabularies are in vocabularies.py, the readers of their cells in cells.py."""

from __future__ import annotations

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
