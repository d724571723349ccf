"""The gates and crossings section of a report.

The border records (gate events, crossings per gate, marker inspections) are not in geoborder
yet, so the section says "no data". The hook: a caller that has them passes `provider`, a
function (store, area, start, end) -> {"gates": [...], "crossings": [...], "inspections": [...]}
(rows of plain values, each with its year and the import it came from), and the section shows
what it returns. Once geoborder.records exists, the API and the CLI pass its function here.
"""

from __future__ import annotations

from collections.abc import Callable

NO_DATA_VI = "Chưa có số liệu cửa khẩu, lượt xuất nhập cảnh và kiểm tra mốc (chưa nhập bảng ghi chép biên giới)."
NO_DATA_EN = "No data on gates, crossings and marker inspections yet (the border records are not imported)."


def crossings_section(store, area, start: int, end: int, provider: Callable | None = None) -> dict:
    if provider is None:
        return {"status": "no_data", "note_vi": NO_DATA_VI, "note_en": NO_DATA_EN}
    got = provider(store, area, start, end) or {}
    rows = {k: list(got.get(k) or []) for k in ("gates", "crossings", "inspections")}
    if not any(rows.values()):
        return {"status": "no_data", "note_vi": NO_DATA_VI, "note_en": NO_DATA_EN}
    return {"status": "ok", **rows}
