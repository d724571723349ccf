"""The gates and crossings section of a report.

`provider`: a function (store, area, start, end) -> {"gates": [...], "crossings": [...],
"inspections": [...]} (rows of plain values, each with its year and the import it came from);
the section shows what it returns. `records_provider(indicators_db)` is the one of the border
records (geoborder.records) kept in an indicator database, which the API and the CLI pass:

- `crossings`: the crossings totals per gate and year of the period (crossing_totals: the
  figures of the latest import, a year from its quarters or months says whether it is complete),
  for the gates of the area;
- `inspections`: the marker inspections of the period, of the markers of the area;
- `gates`: the area's gates with their class and status at the end of the period (from their
  events: the pack's and the imported ones).

A gate or a marker is in the area when its commune (2025 or pre-2025) is one of the area's: the
pack's gates and markers without a location, and markers known only by number, have no commune
and are not counted. Without crossings or inspections for the area and period the section says
"no data" (and still lists the gates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

NO_DATA_VI = "Chưa có số liệu cửa khẩu, lượt xuất nhập cảnh và kiểm tra mốc (chưa nhập bảng ghi chép biên giới)."
NO_DATA_EN = "No data on gates, crossings and marker inspections yet (the border records are not imported)."
NONE_HERE_VI = "Chưa có số liệu lượt xuất nhập cảnh và kiểm tra mốc của địa bàn trong giai đoạn này."
NONE_HERE_EN = "No crossings or marker inspections imported for this area and period."


def crossings_section(store, area, start: int, end: int, provider: Callable | None = None) -> dict:
    if provider is None:
        return {"status": "no_data", "note_vi": NO_DATA_VI, "note_en": NO_DATA_EN}
    got = provider(store, area, start, end) or {}
    rows = {k: list(got.get(k) or []) for k in ("gates", "crossings", "inspections")}
    if not rows["crossings"] and not rows["inspections"]:
        if not rows["gates"]:
            return {"status": "no_data", "note_vi": NO_DATA_VI, "note_en": NO_DATA_EN}
        return {"status": "no_data", "note_vi": NONE_HERE_VI, "note_en": NONE_HERE_EN, **rows}
    return {"status": "ok", **rows, "note_vi": _note(rows, "vi"), "note_en": _note(rows, "en")}


def _n(v, lang: str) -> str:
    if v is None:
        return "–"
    text = f"{v:,.0f}"
    return text.replace(",", ".") if lang == "vi" else text


def _note(rows: dict, lang: str) -> str:
    """The section as one text (the HTML and PDF reports print the note)."""
    names = {g["gate_id"]: g["name"] for g in rows["gates"]}
    parts = []
    for c in rows["crossings"]:
        name = names.get(c["gate_id"], c["gate_id"])
        done = "" if c["complete"] else (" (chưa đủ kỳ)" if lang == "vi" else " (incomplete)")
        if lang == "vi":
            parts.append(
                f"{name} {c['period']}: xuất cảnh {_n(c['people_out'], lang)}, nhập cảnh {_n(c['people_in'], lang)}{done}"
            )
        else:
            parts.append(f"{name} {c['period']}: {_n(c['people_out'], lang)} out, {_n(c['people_in'], lang)} in{done}")
    versions = sorted(
        {v for c in rows["crossings"] for v in c["versions"]} | {i["import_id"] for i in rows["inspections"]}
    )
    v = ", ".join(map(str, versions))
    if lang == "vi":
        text = "Lượt xuất nhập cảnh theo cửa khẩu: " + ("; ".join(parts) or "không có") + "."
        text += f" Kiểm tra mốc trong giai đoạn: {len(rows['inspections'])}. Bảng ghi chép đã nhập, phiên bản {v}."
    else:
        text = "Crossings per gate: " + ("; ".join(parts) or "none") + "."
        text += f" Marker inspections in the period: {len(rows['inspections'])}. Imported records, versions {v}."
    return text


def records_provider(indicators_db) -> Callable | None:
    """The provider of the border records in `indicators_db` (None without a database)."""
    if indicators_db is None:
        return None

    def provide(store, area, start: int, end: int) -> dict:
        from geoborder.records.crossings import crossing_totals
        from geoborder.records.gates import gates_at
        from geoborder.records.markers import inspections
        from geoborder.records.matching import all_gates, all_markers
        from geoborder.records.open import records_for

        rdb = records_for(indicators_db)
        in_area = _in_area(area)
        gates = all_gates(store)
        ids = set(gates.loc[in_area(gates), "gate_id"])
        at = min(f"{end}-12-31", dt.date.today().isoformat())
        states = [s for s in gates_at(store, rdb, at) if s["gate_id"] in ids]
        totals = crossing_totals(store, rdb, by="gate", period="year", start=str(start), end=str(end))["totals"]
        markers = all_markers(store)
        keys = set(markers.loc[in_area(markers), "marker_id"])
        ins = inspections(rdb)
        if len(ins):
            year = ins["date"].str[:4].astype(int)
            ins = ins[ins["marker_key"].isin(keys) & (year >= start) & (year <= end)]
        return {
            "gates": [
                {k: s[k] for k in ("gate_id", "name", "at", "class", "class_from", "status", "in_operation")}
                for s in states
            ],
            "crossings": [{**t, "year": int(t["period"])} for t in totals if t["gate_id"] in ids],
            "inspections": [
                {
                    "marker_key": r.marker_key,
                    "date": r.date,
                    "year": int(r.date[:4]),
                    "condition": r.condition,
                    "patrol": r.patrol if isinstance(r.patrol, str) else None,
                    "unit": r.unit if isinstance(r.unit, str) else None,
                    "import_id": int(r.import_id),
                }
                for r in ins.itertuples(index=False)
            ],
        }

    return provide


def _in_area(area) -> Callable:
    """A mask of the rows (gates or markers of the pack) whose commune is in `area`."""
    codes25, codes09 = set(area.codes.get(2025, ())), set(area.codes.get(2009, ()))

    def mask(df):
        m = df["commune_code_2025"].isin(codes25) if "commune_code_2025" in df else False
        if "commune_code_2009" in df:
            m = m | df["commune_code_2009"].isin(codes09)
        return m

    return mask
