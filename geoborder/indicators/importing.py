"""Import indicator tables (CSV, XLSX; wide or long) into the indicator database.

A table is read, every row is matched to a commune (by code, else by name within province /
district) and every value is checked against the catalog. Any problem rejects the whole file,
and the report names each one with its line and column; nothing is written. With
`skip_unmatched` rows whose commune is unknown or ambiguous are left out (and listed in the
stored report) instead; bad values always reject the file.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from dataclasses import dataclass, field

import pandas as pd

from geoborder.core.errors import InvalidParameter
from geoborder.core.text import fold
from geoborder.indicators.catalog import VINTAGES, IndicatorCatalog, load_indicators
from geoborder.indicators.db import DuplicateImport
from geoborder.indicators.layout import Layout, classify, indicator_lookup
from geoborder.indicators.matching import Matcher, cell_code
from geoborder.indicators.table import ImportRejected, Problem, Table, col_letter, read_table

TRUE_WORDS = {"1", "co", "yes", "true", "x", "dat", "da cung hoa"}
FALSE_WORDS = {"0", "khong", "no", "false", "chua", "chua dat"}


def parse_value(cell, ind) -> tuple[float | None, str | None]:
    """(value, error); (None, None) for an empty cell."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None, None
    if isinstance(cell, (bool, int, float)):
        v = float(cell)
    else:
        s = str(cell).strip().replace("\u00a0", "").replace(" ", "")
        if not s:
            return None, None
        if ind.type == "boolean":
            w = fold(s)
            if w in TRUE_WORDS:
                return 1.0, None
            if w in FALSE_WORDS:
                return 0.0, None
            return None, f"{str(cell)!r} is not yes/no (1/0, có/không)"
        if ind.type == "rate" and s.endswith("%"):
            s = s[:-1]
        try:
            v = float(s)
        except ValueError:
            try:
                if "," in s and "." not in s and s.count(",") == 1:
                    v = float(s.replace(",", "."))
                else:
                    raise ValueError
            except ValueError:
                return None, f"{str(cell)!r} is not a number"
    if not math.isfinite(v):
        return None, f"{cell!r} is not a finite number"
    if ind.type in ("count", "boolean") and v != int(v):
        return None, f"{v:g} is not a whole number ({ind.type})"
    if ind.min is not None and v < ind.min:
        what = "a negative count" if ind.type == "count" and v < 0 else f"below the minimum {ind.min:g}"
        return None, f"{v:g} is {what} ({ind.name} must be >= {ind.min:g})"
    if ind.max is not None and v > ind.max:
        return None, f"{v:g} is above the maximum {ind.max:g} of {ind.name} ({ind.unit('en')})"
    return v, None


def _year(cell, default: int | None) -> tuple[int | None, str | None]:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        if default is None:
            return None, "no year: fill the year column or give a year to the import"
        return default, None
    try:
        y = float(str(cell).strip()) if not isinstance(cell, (int, float)) else float(cell)
    except ValueError:
        return None, f"{cell!r} is not a year"
    if y != int(y) or not 1990 <= y <= 2100:
        return None, f"{cell!r} is not a year between 1990 and 2100"
    return int(y), None


# --------------------------------------------------------------------------- the import


def summary_text(counts: dict) -> str:
    text = (
        f"{counts['code']} matched by code, {counts['name']} by name, "
        f"{counts['ambiguous']} ambiguous, {counts['unknown']} unknown"
    )
    if counts.get("mismatch"):
        text += f", {counts['mismatch']} with a code and a name that disagree"
    return text


@dataclass
class _Collected:
    """What the rows of one table gave: values, unmatched rows and problems, matches by kind."""

    counts: dict = field(default_factory=lambda: {"code": 0, "name": 0, "ambiguous": 0, "unknown": 0, "mismatch": 0})
    unmatched: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    values: list = field(default_factory=list)  # (indicator, commune, year, value, line, matched_by)
    seen: dict = field(default_factory=dict)  # (indicator, commune, year) -> line


def prepare(
    store,
    data: bytes,
    file_name: str,
    *,
    vintage: int = 2025,
    year: int | None = None,
    skip_unmatched: bool = False,
    catalog: IndicatorCatalog | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Read, match and validate; (values, report). Raises ImportRejected with the report."""
    if vintage not in VINTAGES:
        raise InvalidParameter(f"vintage must be one of {VINTAGES}, not {vintage}")
    catalog = catalog or load_indicators()
    sha = hashlib.sha256(data).hexdigest()
    base = {"file": file_name, "sha256": sha, "vintage": vintage}
    try:
        table = read_table(data, file_name)
        layout = classify(table, catalog, file_name)
    except ImportRejected as exc:
        exc.report.update(base)
        raise
    matcher = Matcher(store, vintage)
    got = _Collected()
    by_ind = {i.name: i for i in catalog.reported}
    lookup = indicator_lookup(catalog)
    for line, cells in table.rows:
        _collect_row(got, line, cells, table.headers, layout, matcher, by_ind, lookup, year)
    report = _report(base, table, layout, got)
    _reject_on_errors(report, got, table, skip_unmatched)
    df = pd.DataFrame(got.values, columns=["indicator", "commune_code", "year", "value", "line", "matched_by"])
    return df, report


def _collect_row(
    got: _Collected, line: int, cells: list, cols: list[str], layout: Layout, matcher: Matcher, by_ind, lookup, year
) -> None:
    """One row: its commune matched, its year read, each of its values checked (or a problem)."""

    def cell(i):
        return cells[i] if i is not None and i < len(cells) else None

    def where(i):
        return f"{col_letter(i)} ({cols[i]})"

    code = cell(layout.code)
    name = cell(layout.name)
    commune, how, msg, cands = matcher.match(code, name, cell(layout.province), cell(layout.district))
    got.counts[how] += 1
    if commune is None:
        col = layout.code if cell_code(code) is not None else layout.name
        got.unmatched.append(Problem(line, where(col) if col is not None else None, how, msg, cands))
        return
    y, yerr = _year(cell(layout.year), year)
    if yerr:
        got.problems.append(Problem(line, where(layout.year) if layout.year is not None else None, "year", yerr))
        return
    if layout.kind == "wide":
        items = [(i, by_ind[n], cell(i)) for i, n in layout.indicators.items()]
    else:
        raw = cell(layout.indicator)
        n = lookup.get(fold(str(raw))) if raw not in (None, "") else None
        if n is None:
            got.problems.append(
                Problem(
                    line,
                    where(layout.indicator),
                    "indicator",
                    f"{raw!r} is not a reported indicator; indicators: {', '.join(by_ind)}",
                )
            )
            return
        items = [(layout.value, by_ind[n], cell(layout.value))]
    for i, ind, raw in items:
        v, err = parse_value(raw, ind)
        if err:
            got.problems.append(Problem(line, where(i), "value", err))
            continue
        if v is None:
            continue
        k = (ind.name, commune, y)
        if k in got.seen:
            got.problems.append(
                Problem(
                    line,
                    where(i),
                    "duplicate",
                    f"duplicate: {ind.name} of {commune} for {y} is already on line {got.seen[k]}",
                )
            )
            continue
        got.seen[k] = line
        got.values.append((ind.name, commune, y, v, line, how))


def _report(base: dict, table: Table, layout: Layout, got: _Collected) -> dict:
    counts, values = got.counts, got.values
    return {
        **base,
        "format": table.format,
        "layout": layout.kind,
        "rows": len(table.rows),
        "matched": {"code": counts["code"], "name": counts["name"]},
        "ambiguous": counts["ambiguous"],
        "unknown": counts["unknown"],
        "mismatch": counts["mismatch"],
        "summary": summary_text(counts),
        "indicators": sorted({v[0] for v in values}),
        "years": sorted({v[2] for v in values}),
        "values": len(values),
        "unmatched": [p.as_dict() for p in got.unmatched],
        "problems": [p.as_dict() for p in got.problems],
    }


def _reject_on_errors(report: dict, got: _Collected, table: Table, skip_unmatched: bool) -> None:
    """ImportRejected (with the report) for any problem, any unmatched row unless skipped, or no value."""
    problems = got.problems
    if not table.rows:
        problems.append(Problem(None, None, "empty", "the table has a header but no rows"))
        report["problems"] = [p.as_dict() for p in problems]
    errors = problems + ([] if skip_unmatched else got.unmatched)
    if errors or not got.values:
        if not errors:
            errors = [Problem(None, None, "empty", "no values to import (every cell is empty)")]
            report["problems"] = [p.as_dict() for p in errors]
        report["status"] = "rejected"
        report["message"] = (
            f"{len(errors)} problem(s): "
            + "; ".join(str(p) for p in errors[:20])
            + (" ..." if len(errors) > 20 else "")
        )
        raise ImportRejected(report)


def import_file(
    store,
    db,
    data: bytes,
    file_name: str,
    *,
    vintage: int = 2025,
    year: int | None = None,
    who: str = "unknown",
    skip_unmatched: bool = False,
    catalog: IndicatorCatalog | None = None,
) -> dict:
    """Validate and import one file as a new version; the report (with `version`) is returned."""
    sha = hashlib.sha256(data).hexdigest()
    previous = db.find_import(sha)
    if previous is not None:
        raise _duplicate(
            file_name,
            sha,
            previous,
            (
                f"this file (sha256 {sha[:12]}…) was already imported as version "
                f"{previous['id']} on {previous['imported_at']} by {previous['who']}"
            ),
        )
    values, report = prepare(
        store, data, file_name, vintage=vintage, year=year, skip_unmatched=skip_unmatched, catalog=catalog
    )
    report["who"] = who
    report["status"] = "imported"
    try:
        report["version"] = db.write_import(
            file_name=file_name,
            sha256=sha,
            who=who,
            vintage=vintage,
            layout=report["layout"],
            values=values,
            report=report,
        )
    except (DuplicateImport, sqlite3.IntegrityError) as exc:  # the same file, written meanwhile by another worker
        previous = exc.previous if isinstance(exc, DuplicateImport) else db.find_import(sha)
        if previous is None:
            raise
        raise _duplicate(
            file_name, sha, previous, f"this file was imported meanwhile as version {previous['id']}"
        ) from None
    return report


def _duplicate(file_name: str, sha: str, previous: dict, message: str) -> ImportRejected:
    return ImportRejected(
        {
            "file": file_name,
            "sha256": sha,
            "status": "rejected",
            "kind": "duplicate_file",
            "summary": f"already imported as version {previous['id']}",
            "message": message,
            "problems": [],
        }
    )
