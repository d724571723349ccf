"""Import border records (CSV, XLSX) of one kind: events, crossings, inspections, cooperation.

As for indicator tables (geoborder.indicators.importing): the table is read, every row is matched
(a gate, a marker, a province) and every cell checked; any problem rejects the whole file and the
report names each one with its line and column; nothing is written. With `skip_unmatched` rows
that match nothing (unknown or ambiguous) are left out and listed instead; bad cells always
reject the file. A file already imported (its sha256) is refused.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from typing import Any

import pandas as pd

from geoborder.core.errors import InvalidParameter
from geoborder.core.text import fold
from geoborder.indicators.db import DuplicateImport
from geoborder.indicators.table import ImportRejected, Problem, Table, col_letter, read_table
from geoborder.records.kinds import IGNORED_HEADERS, KINDS, Kind
from geoborder.records.matching import GateMatcher, MarkerMatcher, ProvinceMatcher
from geoborder.records.rows import MEASURES, _cooperation, _crossing, _event, _inspection, _Row, _Rows

HOWS = {
    "events": ("id", "name", "partner", "new", "ambiguous", "unknown"),
    "crossings": ("id", "name", "partner", "ambiguous", "unknown"),
    "inspections": ("marker", "number", "ambiguous", "unknown"),
    "cooperation": ("name", "ambiguous", "unknown"),
}
HOW_WORDS = {
    "id": "by id",
    "name": "by name",
    "partner": "by partner gate",
    "new": "new crossing points",
    "marker": "markers of the pack",
    "number": "known only by number",
}


def kind_of(name: str) -> Kind:
    if name not in KINDS:
        raise InvalidParameter(f"kind must be one of {', '.join(KINDS)}, not {name!r}")
    return KINDS[name]


def _columns(table: Table, kind: Kind, file_name: str) -> dict[str, int]:
    """Field name -> column index; ImportRejected naming every column problem."""
    cols: dict[str, int] = {}
    problems = []
    for i, h in enumerate(table.headers):
        key = fold(h)
        where = f"{col_letter(i)} ({h or 'no header'})"
        f = next((f for f in kind.fields if key in f.headers), None)
        if f is None:
            if key not in IGNORED_HEADERS:
                problems.append(
                    Problem(
                        table.header_line,
                        where,
                        "columns",
                        f"unknown column for {kind.name}; columns: {', '.join(f.name for f in kind.fields)}",
                    )
                )
        elif f.name in cols:
            problems.append(
                Problem(
                    table.header_line,
                    where,
                    "columns",
                    f"a second {f.name} column (the first is {col_letter(cols[f.name])})",
                )
            )
        else:
            cols[f.name] = i
    for f in kind.fields:
        if f.required and f.name not in cols:
            problems.append(Problem(table.header_line, None, "columns", f"missing column: {f.name}"))
    if kind.name == "crossings":
        if "period" not in cols and "year" not in cols:
            problems.append(Problem(table.header_line, None, "columns", "missing column: period (or year)"))
        if not any(m in cols for m in MEASURES):
            problems.append(
                Problem(
                    table.header_line, None, "columns", f"no figures: give one of the columns {', '.join(MEASURES)}"
                )
            )
    if problems:
        raise ImportRejected(
            {
                "file": file_name,
                "record_kind": kind.name,
                "status": "rejected",
                "summary": "rejected: the columns are wrong",
                "message": "; ".join(str(p) for p in problems),
                "problems": [p.as_dict() for p in problems],
            }
        )
    return cols


def prepare(
    store, data: bytes, file_name: str, *, kind: str, skip_unmatched: bool = False
) -> tuple[pd.DataFrame, dict]:
    """Read, match and check; (records, report). Raises ImportRejected with the report."""
    k = kind_of(kind)
    sha = hashlib.sha256(data).hexdigest()
    base = {"file": file_name, "sha256": sha, "record_kind": k.name}
    try:
        table = read_table(data, file_name)
        cols = _columns(table, k, file_name)
    except ImportRejected as exc:
        exc.report.update(base)
        raise
    got = _Rows(k, dict.fromkeys(HOWS[k.name], 0))
    readers: dict[str, Callable[[_Rows, _Row, Any], dict | None]] = {
        "events": _event,
        "crossings": _crossing,
        "inspections": _inspection,
        "cooperation": _cooperation,
    }
    reader = readers[k.name]
    matcher = (
        MarkerMatcher(store)
        if k.name == "inspections"
        else ProvinceMatcher(store)
        if k.name == "cooperation"
        else GateMatcher(store)
    )
    for line, cells in table.rows:
        row = _Row(line, cells, table.headers, cols)
        rec = reader(got, row, matcher)
        if rec is None:
            continue
        key = tuple(rec[c] for c in k.key)
        if key in got.seen:
            got.problems.append(
                Problem(
                    line, None, "duplicate", f"duplicate: {', '.join(map(str, key))} is already on line {got.seen[key]}"
                )
            )
            continue
        got.seen[key] = line
        got.records.append({**rec, "line": line})
    report = _report(base, table, got)
    _reject_on_errors(report, got, table, skip_unmatched)
    df = pd.DataFrame(got.records, columns=[*k.columns, "line", "matched_by"])
    return df, report


def summary_text(counts: dict) -> str:
    parts = [
        f"{n} {HOW_WORDS[h]}" for h, n in counts.items() if h in HOW_WORDS and (n or h in ("id", "name", "marker"))
    ]
    return ", ".join([*parts, f"{counts.get('ambiguous', 0)} ambiguous", f"{counts.get('unknown', 0)} unknown"])


def _report(base: dict, table: Table, got: _Rows) -> dict:
    matched = {h: n for h, n in got.counts.items() if h not in ("ambiguous", "unknown")}
    report = {
        **base,
        "format": table.format,
        "rows": len(table.rows),
        "matched": matched,
        "ambiguous": got.counts.get("ambiguous", 0),
        "unknown": got.counts.get("unknown", 0),
        "summary": summary_text(got.counts),
        "records": len(got.records),
        "unmatched": [p.as_dict() for p in got.unmatched],
        "problems": [p.as_dict() for p in got.problems],
    }
    if "new_points" in got.extra:
        report["new_points"] = got.extra["new_points"]
    if "known_by_number" in got.extra:
        report["known_by_number"] = sorted(set(got.extra["known_by_number"]))
    return report


def _reject_on_errors(report: dict, got: _Rows, table: Table, skip_unmatched: bool) -> None:
    problems = got.problems
    if not table.rows:
        problems.append(Problem(None, None, "empty", "the table has a header but no rows"))
    errors = problems + ([] if skip_unmatched else got.unmatched)
    if not errors and not got.records:
        errors = [Problem(None, None, "empty", "no records to import")]
        problems.extend(errors)
    report["problems"] = [p.as_dict() for p in problems]
    if errors:
        report["status"] = "rejected"
        report["message"] = (
            f"{len(errors)} problem(s): "
            + "; ".join(str(p) for p in errors[:20])
            + (" ..." if len(errors) > 20 else "")
        )
        raise ImportRejected(report)


def import_records(
    store, db, data: bytes, file_name: str, *, kind: str, who: str = "unknown", skip_unmatched: bool = False
) -> dict:
    """Check and import one file of records as a new version; the report (with `version`)."""
    k = kind_of(kind)
    sha = hashlib.sha256(data).hexdigest()
    previous = db.find_import(sha)
    if previous is not None:
        raise _duplicate(
            file_name,
            sha,
            previous,
            f"this file (sha256 {sha[:12]}…) was already imported as records version {previous['id']} "
            f"on {previous['imported_at']} by {previous['who']}",
        )
    rows, report = prepare(store, data, file_name, kind=k.name, skip_unmatched=skip_unmatched)
    report["who"] = who
    report["status"] = "imported"
    try:
        report["version"] = db.write_import(
            kind=k.name, file_name=file_name, sha256=sha, who=who, rows=rows, report=report
        )
    except (DuplicateImport, sqlite3.IntegrityError) as exc:  # the same file, written meanwhile by another worker
        previous = exc.previous if isinstance(exc, DuplicateImport) else db.find_import(sha)
        if previous is None:
            raise
        raise _duplicate(
            file_name, sha, previous, f"this file was imported meanwhile as records version {previous['id']}"
        ) from None
    return report


def _duplicate(file_name: str, sha: str, previous: dict, message: str) -> ImportRejected:
    return ImportRejected(
        {
            "file": file_name,
            "sha256": sha,
            "status": "rejected",
            "kind": "duplicate_file",
            "summary": f"already imported as records version {previous['id']}",
            "message": message,
            "problems": [],
        }
    )
