"""The rows of a table of border records (geoborder.records.importing), one kind at a time: each
row's gate, marker or province matched, its cells read, and every problem noted with its line and
column."""

from __future__ import annotations

from dataclasses import dataclass, field

from geoborder.core.text import slug
from geoborder.indicators.table import Problem, col_letter
from geoborder.records.cells import date_cell, empty, number_cell, period_cell, text
from geoborder.records.kinds import Kind
from geoborder.records.matching import GateMatcher, MarkerMatcher, ProvinceMatcher
from geoborder.records.vocabularies import CONDITIONS, EVENT_WORDS, OBJECTS, PATROLS, POINT_KINDS, class_word, word

MEASURES = ("people_out", "people_in", "vehicles_out", "vehicles_in", "export_value", "import_value")


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
