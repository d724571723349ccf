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
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geoborder.core.errors import InvalidParameter
from geoborder.core.text import fold, slug
from geoborder.indicators.db import DuplicateImport
from geoborder.indicators.table import ImportRejected, Problem, Table, col_letter, read_table
from geoborder.records.kinds import (
    CONDITIONS,
    EVENT_WORDS,
    IGNORED_HEADERS,
    KINDS,
    OBJECTS,
    PATROLS,
    POINT_KINDS,
    Kind,
    class_word,
    date_cell,
    empty,
    number_cell,
    period_cell,
    text,
    word,
)
from geoborder.records.matching import GateMatcher, MarkerMatcher, ProvinceMatcher

MEASURES = ("people_out", "people_in", "vehicles_out", "vehicles_in", "export_value", "import_value")
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


@dataclass
class _Rows:
    """One table's rows as read: the record rows, the unmatched rows and the problems."""

    kind: Kind
    counts: dict
    records: list = field(default_factory=list)
    unmatched: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    seen: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


class _Row:
    """The cells of one row by field name, and where each is (for the report)."""

    def __init__(self, line: int, cells: list, headers: list[str], cols: dict[str, int]):
        self.line, self.cells, self.headers, self.cols = line, cells, headers, cols

    def __getitem__(self, name: str):
        i = self.cols.get(name)
        return self.cells[i] if i is not None and i < len(self.cells) else None

    def where(self, name: str) -> str | None:
        i = self.cols.get(name)
        return f"{col_letter(i)} ({self.headers[i]})" if i is not None else None


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


def _problem(got: _Rows, row: _Row, name: str, kind: str, message: str) -> None:
    got.problems.append(Problem(row.line, row.where(name), kind, message))


def _cells(got: _Rows, row: _Row, readers: dict) -> dict | None:
    """{field: value} read by `readers` ({field: reader(cell) -> (value, error)}); None after a problem."""
    out, ok = {}, True
    for name, read in readers.items():
        value, err = read(row[name])
        if err:
            _problem(got, row, name, "value", err)
            ok = False
        out[name] = value
    return out if ok else None


def _gate(got: _Rows, row: _Row, matcher: GateMatcher, *, allow_new: bool = False, point_kind=None):
    gate_id, how, msg, cands = matcher.match(row["gate"], row["partner_gate"], row["province"])
    if gate_id is None and allow_new and how == "unknown" and point_kind in ("opening", "market"):
        if empty(row["province"]):
            _problem(got, row, "province", "value", "a new opening or border market needs its province")
            return None, how
        gate_id, how = slug(f"{point_kind} {text(row['province'])} {text(row['gate'])}"), "new"
        got.extra.setdefault("new_points", []).append({"line": row.line, "gate_id": gate_id, "name": text(row["gate"])})
    got.counts[how] += 1
    if gate_id is None:
        got.unmatched.append(Problem(row.line, row.where("gate"), how, msg, cands))
    return gate_id, how


def _event(got: _Rows, row: _Row, matcher: GateMatcher) -> dict | None:
    c = _cells(
        got,
        row,
        {
            "date": date_cell,
            "event": lambda v: word(v, EVENT_WORDS, "gate event") if not empty(v) else (None, "no event"),
            "class": class_word,
            "previous_class": class_word,
            "point_kind": lambda v: word(v, POINT_KINDS, "kind of crossing point"),
        },
    )
    if c is not None and c["date"] is None:
        _problem(got, row, "date", "value", "no date")
        c = None
    if c is not None and c["event"] in ("upgraded", "downgraded", "classified") and c["class"] is None:
        _problem(got, row, "class", "value", f"an event '{c['event']}' needs the class it gives")
        c = None
    gate_id, how = _gate(got, row, matcher, allow_new=True, point_kind=c and c["point_kind"])
    if c is None or gate_id is None:
        return None
    return {
        "gate_id": gate_id,
        "name": text(row["gate"]),
        "province": text(row["province"]),
        "point_kind": c["point_kind"] or (None if how != "new" else "gate"),
        "date": c["date"][0],
        "precision": c["date"][1],
        "event": c["event"],
        "class": c["class"],
        "previous_class": c["previous_class"],
        "partner_gate": text(row["partner_gate"]),
        "legal_ref": text(row["legal_ref"]),
        "source": text(row["source"]),
        "note": text(row["note"]),
        "matched_by": how,
    }


def _crossing(got: _Rows, row: _Row, matcher: GateMatcher) -> dict | None:
    period, perr = period_cell(row["period"], row["year"], row["quarter"], row["month"])
    c = _cells(
        got,
        row,
        {m: (lambda v, m=m: number_cell(v, whole=not m.endswith("value"))) for m in MEASURES}
        | {"currency": lambda v: (str(text(v)).upper(), None) if not empty(v) else (None, None)},
    )
    if perr:
        _problem(got, row, "period" if "period" in row.cols else "year", "value", perr)
    if c is not None:
        if all(c[m] is None for m in MEASURES):
            _problem(got, row, MEASURES[0], "value", "no figure on this row")
            c = None
        elif (c["export_value"] is not None or c["import_value"] is not None) and not c["currency"]:
            _problem(
                got, row, "currency", "value", "an amount needs its currency (USD, VND ...): fill the currency column"
            )
            c = None
        elif c["currency"] and (len(c["currency"]) != 3 or not c["currency"].isalpha()):
            _problem(got, row, "currency", "value", f"{c['currency']!r} is not a currency code (USD, VND, LAK, CNY)")
            c = None
    gate_id, how = _gate(got, row, matcher)
    if c is None or perr or gate_id is None:
        return None
    assert period is not None  # no error
    return {
        "gate_id": gate_id,
        "period": period[0],
        "period_kind": period[1],
        "period_start": period[2],
        **{m: c[m] for m in MEASURES},
        "currency": c["currency"],
        "source": text(row["source"]),
        "matched_by": how,
    }


def _inspection(got: _Rows, row: _Row, matcher: MarkerMatcher) -> dict | None:
    c = _cells(
        got,
        row,
        {
            "date": lambda v: date_cell(v, day_only=True),
            "condition": lambda v: word(v, CONDITIONS, "condition") if not empty(v) else (None, "no condition"),
            "patrol": lambda v: word(v, PATROLS, "patrol kind (bilateral / unilateral)"),
            "object": lambda v: word(v, OBJECTS, "marker or stake"),
        },
    )
    if c is not None and c["date"] is None:
        _problem(got, row, "date", "value", "no date")
        c = None
    if empty(row["marker"]):
        _problem(got, row, "marker", "value", "no marker number")
        return None
    border, berr = matcher.border(row["border"], row["province"])
    if berr:
        how = "ambiguous" if " and " in berr else "unknown"
        got.counts[how] += 1
        got.unmatched.append(Problem(row.line, row.where("border") or row.where("province"), how, berr))
        return None
    assert border is not None  # no error
    obj = (c or {}).get("object") or "marker"
    key, how = matcher.match(row["marker"], obj, border)
    got.counts[how] += 1
    if how == "number":
        got.extra.setdefault("known_by_number", []).append(key)
    if c is None:
        return None
    return {
        "marker_key": key,
        "marker": text(row["marker"]),
        "object": obj,
        "border": border,
        "province": text(row["province"]),
        "date": c["date"][0],
        "condition": c["condition"],
        "patrol": c["patrol"],
        "unit": text(row["unit"]),
        "note": text(row["note"]),
        "matched_by": how,
    }


def _cooperation(got: _Rows, row: _Row, matcher: ProvinceMatcher) -> dict | None:
    vn, verr = matcher.vn_province(row["vn_province"])
    if verr:
        _problem(got, row, "vn_province", "value", verr)
    partner, how, msg = matcher.partner_province(row["partner_province"], row["partner_country"])
    got.counts[how] += 1
    if partner is None:
        got.unmatched.append(Problem(row.line, row.where("partner_province"), how, msg))
    signed, derr = date_cell(row["date_signed"])
    if derr:
        _problem(got, row, "date_signed", "value", derr)
    if verr or derr or partner is None:
        return None
    assert vn is not None  # no error
    return {
        "vn_province_code": vn[0],
        "vn_province": vn[1],
        "partner_code": partner[0],
        "partner_name": partner[1],
        "partner_country": partner[2],
        "type": text(row["type"]) or "",
        "date_signed": signed[0] if signed else "",
        "precision": signed[1] if signed else "",
        "document": text(row["document"]),
        "source": text(row["source"]),
        "matched_by": how,
    }


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
