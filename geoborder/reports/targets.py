"""A province's targets (indicator, area, year, value; e.g. poverty rate at most 5 % by 2025),
imported like indicator tables: read, every row checked, one version per file, and a file with
any problem refused whole (nothing written), with a report of each problem by line.

Columns (headers compared diacritics-insensitively): indicator (chỉ tiêu), area (khu vực),
year (năm), value (giá trị), and optionally op (so sánh: <=, <, >=, >, =). Without an op the
target is a maximum for an indicator where lower is better, else a minimum.
"""

from __future__ import annotations

import hashlib

from geoborder.core.errors import GeoborderError
from geoborder.core.text import fold
from geoborder.indicators.catalog import IndicatorCatalog, load_indicators
from geoborder.indicators.table import ImportRejected, Problem, read_table
from geoborder.reports.thresholds import OPS, Threshold

HEADERS = {
    "indicator": {"indicator", "chi tieu", "chi so"},
    "area": {"area", "khu vuc", "dia ban"},
    "year": {"year", "nam"},
    "value": {"value", "gia tri", "muc tieu", "target"},
    "op": {"op", "so sanh", "comparison"},
}


def _columns(headers: list[str]) -> dict[str, int]:
    out = {}
    for i, h in enumerate(headers):
        key = fold(str(h or ""))
        for col, words in HEADERS.items():
            if key in words and col not in out:
                out[col] = i
    return out


def default_op(ind) -> str:
    return "<=" if ind.higher_is_better is False else ">="


def prepare_targets(store, data: bytes, file_name: str, *, saved=None, catalog: IndicatorCatalog | None = None):
    """(rows, report) of a target table; ImportRejected (with the report) on any problem."""
    from geoborder.reports.areas import resolve_area

    catalog = catalog or load_indicators()
    sha = hashlib.sha256(data).hexdigest()
    base = {"file": file_name, "sha256": sha, "kind": "targets"}
    try:
        table = read_table(data, file_name)
    except ImportRejected as exc:
        exc.report.update(base)
        raise
    cols = _columns(table.headers)
    problems: list[Problem] = []
    missing = [c for c in ("indicator", "area", "year", "value") if c not in cols]
    if missing:
        problems.append(Problem(table.header_line, None, "header", f"missing column(s): {', '.join(missing)}"))
    rows: list[dict] = []
    seen: dict[tuple, int] = {}
    areas: dict[str, str | GeoborderError] = {}
    for line, cells in table.rows if not missing else []:

        def cell(c, cells=cells):
            i = cols.get(c)
            v = cells[i] if i is not None and i < len(cells) else None
            return None if v is None or (isinstance(v, str) and not v.strip()) else v

        name = str(cell("indicator") or "").strip()
        try:
            ind = catalog.get(name)
        except GeoborderError:
            problems.append(Problem(line, "indicator", "indicator", f"{name!r} is not an indicator of the catalog"))
            continue
        if ind.source != "reported":
            problems.append(Problem(line, "indicator", "indicator", f"{name} is computed, not a reported indicator"))
            continue
        text = str(cell("area") or "").strip()
        if text not in areas:
            try:
                areas[text] = resolve_area(store, text, saved=saved).key
            except GeoborderError as exc:
                areas[text] = exc
        if isinstance(areas[text], Exception):
            problems.append(Problem(line, "area", "area", str(areas[text])))
            continue
        try:
            year = int(float(str(cell("year"))))
            if not 1990 <= year <= 2100:
                raise ValueError
        except ValueError:
            problems.append(Problem(line, "year", "year", f"{cell('year')!r} is not a year between 1990 and 2100"))
            continue
        try:
            value = float(str(cell("value")).replace("%", "").replace(",", ".").strip())
        except ValueError:
            problems.append(Problem(line, "value", "value", f"{cell('value')!r} is not a number"))
            continue
        op = str(cell("op") or default_op(ind)).strip().replace("≤", "<=").replace("≥", ">=")
        if op not in OPS:
            problems.append(Problem(line, "op", "op", f"{op!r} is not one of {', '.join(OPS)}"))
            continue
        k = (ind.name, areas[text], year)
        if k in seen:
            problems.append(Problem(line, None, "duplicate", f"duplicate of line {seen[k]}"))
            continue
        seen[k] = line
        rows.append({"indicator": ind.name, "area": areas[text], "year": year, "op": op, "value": value, "line": line})
    if not table.rows:
        problems.append(Problem(None, None, "empty", "the table has no rows"))
    report = {**base, "rows": len(table.rows), "targets": len(rows), "problems": [p.as_dict() for p in problems]}
    if problems:
        report["status"] = "rejected"
        report["message"] = f"{len(problems)} problem(s): " + "; ".join(str(p) for p in problems[:20])
        raise ImportRejected(report)
    return rows, report


def import_targets(store, reports_db, data: bytes, file_name: str, *, who: str = "unknown", catalog=None) -> dict:
    """Check and write one target file as a new version; the report (with `version`)."""
    sha = hashlib.sha256(data).hexdigest()
    prev = reports_db.find_target_import(sha)
    if prev is not None:
        raise ImportRejected(
            {
                "file": file_name,
                "sha256": sha,
                "status": "rejected",
                "kind": "duplicate_file",
                "message": f"this file was already imported as target version {prev['id']} on {prev['imported_at']}",
                "problems": [],
            }
        )
    rows, report = prepare_targets(store, data, file_name, saved=reports_db, catalog=catalog)
    report.update(status="imported", who=who)
    report["version"] = reports_db.write_targets(file_name=file_name, sha256=sha, who=who, rows=rows, report=report)
    return report


def targets_for(store, reports_db, area) -> list[dict]:
    """The current targets of `area`: those whose area is `area` (same key, or the same communes)."""
    from geoborder.reports.areas import resolve_area

    if reports_db is None:
        return []
    out = []
    for t in reports_db.current_targets():
        same = fold(t["area"]) == fold(area.key)
        if not same:
            try:
                other = resolve_area(store, t["area"], saved=reports_db)
            except GeoborderError:
                continue
            same = other.codes == area.codes
        if same:
            out.append(t)
    return out


def projection(points: list[tuple[int, float]], year: int) -> dict | None:
    """The value in `year` at the average annual rate (compound) between the first and the last
    year with data, from the last one; None when the series cannot be projected (fewer than two
    years with data, or a rate that is not defined: a first value of 0 or below, a negative last)."""
    if len(points) < 2:
        return None
    (fy, first), (ly, last) = points[0], points[-1]
    if ly <= fy or first <= 0 or last < 0:
        return None
    rate = (last / first) ** (1.0 / (ly - fy)) - 1.0
    return {
        "value": last * (1.0 + rate) ** (year - ly),
        "from_year": fy,
        "to_year": ly,
        "first": first,
        "last": last,
        "annual_rate_percent": rate * 100.0,
        "years_ahead": year - ly,
    }


def _method(p: dict, year: int, lang: str) -> str:
    from geoborder.reports.labels import num

    rate = num(p["annual_rate_percent"], lang, signed=True)
    if lang == "en":
        return (
            f"projected {num(p['value'], lang)} in {year}: the {p['to_year']} value {num(p['last'], lang)} "
            f"carried forward {p['years_ahead']} year(s) at the average annual rate of {p['from_year']}–{p['to_year']} "
            f"({rate} %/year, compound)"
        )
    return (
        f"dự báo {num(p['value'], lang)} năm {year}: giá trị năm {p['to_year']} ({num(p['last'], lang)}) "
        f"tính tiếp {p['years_ahead']} năm theo tốc độ bình quân năm {p['from_year']}–{p['to_year']} "
        f"({rate} %/năm, lũy kế)"
    )


def evaluate_targets(targets, area, figures: list[dict]) -> list[dict]:
    """Each target of the report's indicators: met / not met when its year has data; on track /
    off track when its year is after the last year with data (the projection at the current
    average annual rate, with the method in words); no data otherwise (and why). A target of an
    indicator the report does not show is listed as not shown."""
    by = {f["name"]: f for f in figures}
    out = []
    for t in targets or ():
        f = by.get(t["indicator"])
        row = {**t, "status": "not_in_report", "actual": None, "projection": None, "basis_vi": "", "basis_en": ""}
        if f is not None:
            key = "share_yes_percent" if f["type"] == "boolean" else "value"
            row["of"] = key
            points = [(s["year"], s.get(key)) for s in f["series"] if s.get(key) is not None]
            s = next((s for s in f["series"] if s["year"] == t["year"]), None)
            actual = s.get(key) if s else None
            test = Threshold(t["indicator"], t["op"], float(t["value"]))
            last_year = points[-1][0] if points else None
            if actual is not None:
                row["actual"] = actual
                row["status"] = "met" if test.test(actual) else "not_met"
                row["basis_vi"] = f"số liệu năm {t['year']}"
                row["basis_en"] = f"the {t['year']} value"
            elif last_year is not None and t["year"] > last_year:
                p = projection(points, int(t["year"]))
                if p is None:
                    row["status"] = "no_data"
                    row["basis_vi"] = (
                        f"chuỗi số liệu quá ngắn để dự báo ({len(points)} năm có số liệu, cần ít nhất 2)"
                        if len(points) < 2
                        else "không tính được tốc độ bình quân năm (giá trị năm đầu bằng 0)"
                    )
                    row["basis_en"] = (
                        f"the series is too short to project ({len(points)} year(s) with data, 2 needed)"
                        if len(points) < 2
                        else "no average annual rate (the first value is 0)"
                    )
                else:
                    row["projection"] = p
                    row["status"] = "on_track" if test.test(p["value"]) else "off_track"
                    row["basis_vi"], row["basis_en"] = (
                        _method(p, int(t["year"]), "vi"),
                        _method(p, int(t["year"]), "en"),
                    )
            else:
                row["status"] = "no_data"
                row["basis_vi"] = f"không có số liệu năm {t['year']} trong giai đoạn báo cáo"
                row["basis_en"] = f"no value for {t['year']} in the report's period"
        out.append(row)
    return out
