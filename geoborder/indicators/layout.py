"""The columns of an indicator table: key columns (code, name, province, district, year), wide
(one column per indicator) or long (indicator, value)."""

from __future__ import annotations

from dataclasses import dataclass, field

from geoborder.core.text import fold
from geoborder.indicators.catalog import IndicatorCatalog
from geoborder.indicators.table import ImportRejected, Problem, Table, col_letter

CODE_HEADERS = {"commune code", "ma xa", "code", "ma", "ma don vi", "ma dvhc", "ma xa phuong", "commune id"}
NAME_HEADERS = {
    "commune",
    "name",
    "ten xa",
    "xa",
    "ten",
    "ten don vi",
    "xa phuong",
    "xa phuong thi tran",
    "commune name",
    "ten xa phuong",
}
PROVINCE_HEADERS = {"province", "tinh", "ten tinh", "tinh thanh pho", "province name"}
DISTRICT_HEADERS = {"district", "huyen", "ten huyen", "district name", "quan huyen"}
YEAR_HEADERS = {"year", "nam"}
INDICATOR_HEADERS = {"indicator", "chi tieu", "ma chi tieu"}
VALUE_HEADERS = {"value", "gia tri", "so lieu"}
IGNORED_HEADERS = {"stt", "tt", "so tt", "ghi chu", "note", "notes", "no", ""}


@dataclass
class Layout:
    kind: str  # wide | long
    code: int | None = None
    name: int | None = None
    province: int | None = None
    district: int | None = None
    year: int | None = None
    indicator: int | None = None
    value: int | None = None
    indicators: dict = field(default_factory=dict)  # column index -> indicator name


def indicator_lookup(catalog: IndicatorCatalog) -> dict[str, str]:
    out = {}
    for ind in catalog.reported:
        for label in (ind.name, ind.vi, ind.en, *ind.aliases):
            out[fold(label)] = ind.name
    return out


ROLES = (
    ("code", CODE_HEADERS),
    ("name", NAME_HEADERS),
    ("province", PROVINCE_HEADERS),
    ("district", DISTRICT_HEADERS),
    ("year", YEAR_HEADERS),
    ("indicator", INDICATOR_HEADERS),
    ("value", VALUE_HEADERS),
)


def classify(table: Table, catalog: IndicatorCatalog, file_name: str) -> Layout:
    """The layout of the table's columns; ImportRejected naming every column problem."""
    found, inds, problems = _columns(table, catalog)
    long = "indicator" in found or "value" in found
    problems += _shape_problems(table.header_line, found, inds, long, catalog)
    if problems:
        raise ImportRejected(
            {
                "file": file_name,
                "status": "rejected",
                "summary": "rejected: the columns are wrong",
                "message": "; ".join(str(p) for p in problems),
                "problems": [p.as_dict() for p in problems],
            }
        )
    return Layout(kind="long" if long else "wide", indicators=inds, **found)


def _columns(table: Table, catalog: IndicatorCatalog) -> tuple[dict[str, int], dict[int, str], list[Problem]]:
    """Each header read: key column (role -> column index), indicator column (index -> name), or
    a problem (a second column of a role or indicator, a computed indicator, an unknown column)."""
    lookup = indicator_lookup(catalog)
    computed = {fold(i.name): i.name for i in catalog.computed} | {fold(i.vi): i.name for i in catalog.computed}
    found: dict[str, int] = {}
    inds: dict[int, str] = {}
    problems = []
    for i, h in enumerate(table.headers):
        key = fold(h)
        role = next((r for r, names in ROLES if key in names), None)
        where = f"{col_letter(i)} ({h or 'no header'})"
        if role:
            if role in found:
                problems.append(
                    Problem(
                        table.header_line,
                        where,
                        "columns",
                        f"a second {role} column (the first is {col_letter(found[role])})",
                    )
                )
            found[role] = i
        elif key in lookup:
            if lookup[key] in inds.values():
                problems.append(
                    Problem(table.header_line, where, "columns", f"a second column for indicator {lookup[key]}")
                )
            inds[i] = lookup[key]
        elif key in computed:
            problems.append(
                Problem(table.header_line, where, "columns", f"{computed[key]} is computed by geoborder, not imported")
            )
        elif key not in IGNORED_HEADERS:
            problems.append(
                Problem(
                    table.header_line,
                    where,
                    "columns",
                    f"unknown column: not an indicator nor a key column; indicators: "
                    f"{', '.join(i.name for i in catalog.reported)}",
                )
            )
    return found, inds, problems


def _shape_problems(
    header_line: int, found: dict[str, int], inds: dict[int, str], long: bool, catalog: IndicatorCatalog
) -> list[Problem]:
    """What the table lacks, or mixes, as a whole: the value columns and a commune key."""
    problems = []
    if long and not ("indicator" in found and "value" in found):
        missing = "value" if "indicator" in found else "indicator"
        problems.append(
            Problem(
                header_line,
                None,
                "columns",
                f"missing column: a long table needs both an indicator and a value column ('{missing}' is missing)",
            )
        )
    if long and inds:
        problems.append(
            Problem(header_line, None, "columns", "a long table (indicator, value) cannot also have indicator columns")
        )
    if not long and not inds:
        problems.append(
            Problem(
                header_line,
                None,
                "columns",
                "missing columns: no indicator column; name columns after the indicators "
                f"({', '.join(i.name for i in catalog.reported)}) or give indicator and value columns",
            )
        )
    if "code" not in found and "name" not in found:
        problems.append(
            Problem(
                header_line,
                None,
                "columns",
                "missing column: no commune code column (commune_code, mã xã) "
                "nor commune name column (commune, tên xã)",
            )
        )
    return problems
