"""Import indicator tables (CSV, XLSX; wide or long) into the indicator database.

A table is read, every row is matched to a commune (by code, else by name within province /
district) and every value is checked against the catalog. Any problem rejects the whole file,
and the report names each one with its line and column; nothing is written. With
`skip_unmatched` rows whose commune is unknown or ambiguous are left out (and listed in the
stored report) instead; bad values always reject the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import sqlite3
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from geoborder.core.errors import InvalidParameter
from geoborder.core.text import fold, nfc, split_unit_prefix
from geoborder.indicators.catalog import VINTAGES, IndicatorCatalog, load_indicators
from geoborder.indicators.db import DuplicateImport

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
TRUE_WORDS = {"1", "co", "yes", "true", "x", "dat", "da cung hoa"}
FALSE_WORDS = {"0", "khong", "no", "false", "chua", "chua dat"}


class ImportRejected(InvalidParameter):
    """The file was not imported; `report` says why, row by row."""

    def __init__(self, report: dict):
        self.report = report
        super().__init__(report.get("message") or report.get("summary") or "import rejected")


@dataclass
class Table:
    format: str
    headers: list[str]
    rows: list[tuple[int, list]]  # (line or row number in the file, cells)
    header_line: int = 1


@dataclass
class Problem:
    line: int | None
    column: str | None
    kind: str
    message: str
    candidates: list = field(default_factory=list)

    def as_dict(self) -> dict:
        d = {"line": self.line, "column": self.column, "kind": self.kind, "message": self.message}
        if self.candidates:
            d["candidates"] = self.candidates
        return d

    def __str__(self) -> str:
        where = ", ".join(
            x
            for x in (f"line {self.line}" if self.line else None, f"column {self.column}" if self.column else None)
            if x
        )
        tail = ""
        if self.candidates:
            tail = "; candidates: " + "; ".join(" ".join(str(v) for v in c.values() if v) for c in self.candidates[:6])
        return f"{where}: {self.message}{tail}" if where else self.message + tail


def col_letter(i: int) -> str:
    s, n = "", i + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _reject_early(file_name: str, problem: Problem, **extra) -> ImportRejected:
    return ImportRejected(
        {
            "file": file_name,
            "status": "rejected",
            "message": str(problem),
            "summary": "rejected: " + problem.message,
            "problems": [problem.as_dict()],
            **extra,
        }
    )


# --------------------------------------------------------------------------- reading


def read_table(data: bytes, file_name: str) -> Table:
    low = file_name.lower()
    if data[:4] == b"PK\x03\x04" or low.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data, file_name)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or low.endswith(".xls"):
        raise _reject_early(
            file_name,
            Problem(None, None, "format", "old Excel (.xls) files are not read: save the sheet as XLSX or CSV UTF-8"),
        )
    return _read_csv(data, file_name)


def _read_csv(data: bytes, file_name: str) -> Table:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            raise _reject_early(
                file_name,
                Problem(
                    line,
                    None,
                    "encoding",
                    f"the file is not UTF-8: byte 0x{data[exc.start]:02X} at line {line}, character {col} "
                    "(it looks like a Windows code page such as cp1258 or latin-1); "
                    "save it as 'CSV UTF-8' and import it again",
                ),
            ) from None
    text = nfc_text(text)
    delim = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows, headers, header_line = [], None, 1
    for cells in reader:
        line = reader.line_num
        if headers is None:
            # the header is the first row with two cells or more (a title row above it is skipped)
            if sum(1 for c in cells if c.strip()) >= 2:
                headers, header_line = [c.strip() for c in cells], line
            continue
        if any(c.strip() for c in cells):
            rows.append((line, cells))
    if headers is None:
        raise _reject_early(file_name, Problem(None, None, "empty", "the file has no header row"))
    return Table("csv", headers, rows, header_line)


def _delimiter(text: str) -> str:
    """, ; or tab: the one found the same number of times on most of the first lines."""
    from collections import Counter

    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    best, score = ",", 0
    for d in (",", ";", "\t"):
        counts = Counter(ln.count(d) for ln in lines if ln.count(d))
        if counts:
            n, times = counts.most_common(1)[0]
            if n * times > score:
                best, score = d, n * times
    return best


def nfc_text(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text)


def _read_xlsx(data: bytes, file_name: str) -> Table:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _reject_early(file_name, Problem(None, None, "format", f"not a readable XLSX file ({exc})")) from None
    try:
        for ws in wb.worksheets:
            headers, rows, header_line = None, [], 1
            for i, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = [nfc(c) if isinstance(c, str) else c for c in cells]
                filled = [c for c in cells if c not in (None, "")]
                if headers is None:
                    if len(filled) >= 2:
                        headers = [str(c).strip() if c is not None else "" for c in cells]
                        header_line = i
                    continue
                if filled:
                    rows.append((i, list(cells)))
            if headers is not None:
                return Table("xlsx", headers, rows, header_line)
    finally:
        wb.close()
    raise _reject_early(file_name, Problem(None, None, "empty", "no sheet has a header row"))


# --------------------------------------------------------------------------- columns


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


def classify(table: Table, catalog: IndicatorCatalog, file_name: str) -> Layout:
    lookup = indicator_lookup(catalog)
    computed = {fold(i.name): i.name for i in catalog.computed} | {fold(i.vi): i.name for i in catalog.computed}
    found: dict[str, int] = {}
    inds: dict[int, str] = {}
    problems = []
    for i, h in enumerate(table.headers):
        key = fold(h)
        role = None
        for r, names in (
            ("code", CODE_HEADERS),
            ("name", NAME_HEADERS),
            ("province", PROVINCE_HEADERS),
            ("district", DISTRICT_HEADERS),
            ("year", YEAR_HEADERS),
            ("indicator", INDICATOR_HEADERS),
            ("value", VALUE_HEADERS),
        ):
            if key in names:
                role = r
                break
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
    long = "indicator" in found or "value" in found
    if long and not ("indicator" in found and "value" in found):
        missing = "value" if "indicator" in found else "indicator"
        problems.append(
            Problem(
                table.header_line,
                None,
                "columns",
                f"missing column: a long table needs both an indicator and a value column ('{missing}' is missing)",
            )
        )
    if long and inds:
        problems.append(
            Problem(
                table.header_line, None, "columns", "a long table (indicator, value) cannot also have indicator columns"
            )
        )
    if not long and not inds:
        problems.append(
            Problem(
                table.header_line,
                None,
                "columns",
                "missing columns: no indicator column; name columns after the indicators "
                f"({', '.join(i.name for i in catalog.reported)}) or give indicator and value columns",
            )
        )
    if "code" not in found and "name" not in found:
        problems.append(
            Problem(
                table.header_line,
                None,
                "columns",
                "missing column: no commune code column (commune_code, mã xã) "
                "nor commune name column (commune, tên xã)",
            )
        )
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


# --------------------------------------------------------------------------- matching


def _code(cell) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, float):
        if math.isnan(cell) or cell != int(cell):
            return None
        cell = int(cell)
    s = str(cell).strip()
    if not s:
        return None
    return s


class Matcher:
    """Resolves a row (code, name, province, district) to a commune code of one vintage."""

    def __init__(self, store, vintage: int):
        self.store, self.vintage = store, vintage
        layer = "communes_2025" if vintage == 2025 else "communes_2009"
        f = store.frame(layer).drop(columns="geometry")
        self.frame = f.set_index("commune_code", drop=False)
        self.codes = set(f["commune_code"])
        self.by_name = defaultdict(list)
        for code, name in zip(f["commune_code"], f["name"]):
            self.by_name[fold(name)].append(code)
        self.prov_fold = f["province_name"].map(fold)
        self.prov_fold.index = f["commune_code"]
        self.dist_fold = f["district_name"].map(fold).set_axis(f["commune_code"]) if vintage == 2009 else None
        self._links = None
        self._old = None
        self._old_names = None

    def links(self):
        from geoborder.indicators.reform import links_for

        if self._links is None:
            self._links = links_for(self.store)
        return self._links

    def old_codes(self) -> dict:
        """2024 codes -> their 2025 communes (from the crosswalk)."""
        if self._old is None:
            from geoborder.indicators.reform import crosswalk_path, read_crosswalk

            cw = read_crosswalk(crosswalk_path(self.store))
            self._old = cw.groupby("old")["new"].agg(lambda s: sorted(set(s))).to_dict()
        return self._old

    def describe(self, code: str) -> dict:
        r = self.frame.loc[code]
        d = {"code": code, "name": r["name"], "province": r["province_name"]}
        if self.vintage == 2009:
            d["district"] = r["district_name"]
        return d

    def match(self, code, name, province, district) -> tuple[str | None, str, str, list]:
        """(commune_code, how, message, candidates); how is code | name | ambiguous | unknown | mismatch.

        A row with both a code and a name must agree: the name must be the coded commune's."""
        commune, how, msg, cands = self._match(code, name, province, district)
        if how == "code" and isinstance(name, str) and name.strip():
            from geoborder.indicators.reform import link_key

            own = self.frame.at[commune, "name"]
            key = link_key(name)
            if key != link_key(own) and not (
                key.startswith(("xa ", "phuong ")) and key.split(" ", 1)[1] == link_key(own)
            ):
                return (
                    None,
                    "mismatch",
                    (f"the code {commune} is {own!r}, but the name says {name!r}: correct the code or the name"),
                    [self.describe(commune)],
                )
        return commune, how, msg, cands

    def _match(self, code, name, province, district) -> tuple[str | None, str, str, list]:
        code = _code(code)
        if code is not None:
            if not code.isdigit():
                return None, "unknown", f"commune code {code!r} is not a number", []
            if len(code) <= 5:
                c5 = code.zfill(5)
                if self.vintage == 2025:
                    if c5 in self.codes:
                        return c5, "code", "", []
                    targets = self.old_codes().get(c5)
                    if targets:
                        return (
                            None,
                            "unknown",
                            (
                                f"{c5} is a pre-2025 (GSO 2024) code, merged into "
                                f"{', '.join(targets)}: import pre-2025 tables with vintage 2009"
                            ),
                            [self._describe25(t) for t in targets],
                        )
                    return None, "unknown", f"no 2025 commune has the code {c5}", []
                unit, cands = self.links().unit_for_2024(c5)
                if unit is not None:
                    return unit, "code", "", []
                if c5 not in self.old_codes():
                    return None, "unknown", f"{c5} is not a GSO 2024 commune code (not in the crosswalk)", []
                if cands:
                    return (
                        None,
                        "ambiguous",
                        (
                            f"GSO 2024 code {c5} links to several 2009 units (same 2025 "
                            "commune); give the 2009 census code or the name"
                        ),
                        [self.describe(c) for c in cands],
                    )
                return None, "unknown", f"GSO 2024 code {c5} links to no 2009 census unit", []
            if len(code) <= 7:
                c7 = code.zfill(7)
                if self.vintage == 2009 and c7 in self.codes:
                    return c7, "code", "", []
                if self.vintage == 2025:
                    return (
                        None,
                        "unknown",
                        f"{c7} looks like a 2009 census code: import the table with vintage 2009",
                        [],
                    )
                return None, "unknown", f"no 2009 census unit has the code {c7}", []
            return None, "unknown", f"commune code {code!r} has too many digits", []
        if not isinstance(name, str) or not name.strip():
            return None, "unknown", "no commune code and no name", []
        key = fold(name)
        cands = list(self.by_name.get(key, []))
        if not cands:
            # without diacritics fold() keeps "xa"/"phuong" (they begin real names: Xa Mát);
            # when the whole name matches nothing, read them as the unit prefix
            for p in ("xa ", "phuong ", "dac khu "):
                if key.startswith(p) and self.by_name.get(key[len(p) :]):
                    key = key[len(p) :]
                    cands = list(self.by_name[key])
                    break
        note = ""
        if province not in (None, "") and cands:
            pf = fold(str(province))
            inprov = [c for c in cands if self.prov_fold[c] == pf or c[:2] == str(province).zfill(2)]
            if inprov or pf in set(self.prov_fold):
                cands = inprov
            else:
                note = f" (province {province!r} is not a {self.vintage} province: not used)"
        if district not in (None, "") and self.vintage == 2009 and cands:
            df = fold(str(district))
            cands = [c for c in cands if self.dist_fold[c] == df]
        if len(cands) > 1:
            utype, _ = split_unit_prefix(name)
            if utype:
                typed = [c for c in cands if self.frame.at[c, "unit_type"] == utype]
                if len(typed) == 1:
                    cands = typed
        if len(cands) > 1:
            exact = [c for c in cands if nfc(self.frame.at[c, "name"]).lower() == split_unit_prefix(name)[1].lower()]
            if len(exact) == 1:
                cands = exact
        if len(cands) == 1:
            return cands[0], "name", "", []
        if len(cands) > 1:
            used = [str(v) for v in (district if self.vintage == 2009 else None, province) if v not in (None, "")]
            within = f"in {', '.join(used)}" if used else "in the country (give the province)"
            if self.vintage == 2009 and district in (None, ""):
                within += "; give the district"
            return (
                None,
                "ambiguous",
                f"{len(cands)} {self.vintage} communes are named {name!r} {within}{note}",
                [self.describe(c) for c in cands],
            )
        hint = self._old_name_hint(key, province) if self.vintage == 2025 else []
        if hint:
            return (
                None,
                "unknown",
                (
                    f"no 2025 commune is named {name!r}: it is a pre-2025 name, merged into "
                    f"{', '.join(h['name'] for h in hint)}; import pre-2025 tables with vintage 2009"
                ),
                hint,
            )
        return (
            None,
            "unknown",
            f"no {self.vintage} commune is named {name!r}"
            + (f" in {province}" if province not in (None, "") else "")
            + note,
            [],
        )

    def _describe25(self, code):
        f = self.store.frame("communes_2025")
        r = f[f["commune_code"] == code]
        return {
            "code": code,
            "name": r["name"].iloc[0] if len(r) else "",
            "province": r["province_name"].iloc[0] if len(r) else "",
        }

    def _old_name_hint(self, key, province) -> list:
        """2025 communes whose before_merger list names `key` (a pre-2025 name)."""
        from geoborder.indicators.reform import link_key, parse_before_merger

        if self._old_names is None:
            self._old_names = defaultdict(list)
            for r in self.store.frame("commune_seats_2025").itertuples(index=False):
                for e in parse_before_merger(r.before_merger, r.name):
                    self._old_names[e["key"]].append(
                        {"code": r.commune_code, "name": r.name, "province": r.province_name}
                    )
        pf = fold(str(province)) if province not in (None, "") else None
        out = [c for c in self._old_names.get(link_key(key), []) if pf is None or fold(c["province"]) == pf]
        return out[:10]


# --------------------------------------------------------------------------- values


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
    cols = table.headers

    def cell(cells, i):
        return cells[i] if i is not None and i < len(cells) else None

    def where(i):
        return f"{col_letter(i)} ({cols[i]})"

    counts = {"code": 0, "name": 0, "ambiguous": 0, "unknown": 0, "mismatch": 0}
    unmatched, problems, values = [], [], []
    seen: dict = {}
    by_ind = {i.name: i for i in catalog.reported}
    lookup = indicator_lookup(catalog)
    for line, cells in table.rows:
        code = cell(cells, layout.code)
        name = cell(cells, layout.name)
        commune, how, msg, cands = matcher.match(code, name, cell(cells, layout.province), cell(cells, layout.district))
        counts[how] += 1
        if commune is None:
            col = layout.code if _code(code) is not None else layout.name
            unmatched.append(Problem(line, where(col) if col is not None else None, how, msg, cands))
            continue
        y, yerr = _year(cell(cells, layout.year), year)
        if yerr:
            problems.append(Problem(line, where(layout.year) if layout.year is not None else None, "year", yerr))
            continue
        if layout.kind == "wide":
            items = [(i, by_ind[n], cell(cells, i)) for i, n in layout.indicators.items()]
        else:
            raw = cell(cells, layout.indicator)
            n = lookup.get(fold(str(raw))) if raw not in (None, "") else None
            if n is None:
                problems.append(
                    Problem(
                        line,
                        where(layout.indicator),
                        "indicator",
                        f"{raw!r} is not a reported indicator; indicators: {', '.join(by_ind)}",
                    )
                )
                continue
            items = [(layout.value, by_ind[n], cell(cells, layout.value))]
        for i, ind, raw in items:
            v, err = parse_value(raw, ind)
            if err:
                problems.append(Problem(line, where(i), "value", err))
                continue
            if v is None:
                continue
            k = (ind.name, commune, y)
            if k in seen:
                problems.append(
                    Problem(
                        line,
                        where(i),
                        "duplicate",
                        f"duplicate: {ind.name} of {commune} for {y} is already on line {seen[k]}",
                    )
                )
                continue
            seen[k] = line
            values.append((ind.name, commune, y, v, line, how))
    report = {
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
        "unmatched": [p.as_dict() for p in unmatched],
        "problems": [p.as_dict() for p in problems],
    }
    if not table.rows:
        problems.append(Problem(None, None, "empty", "the table has a header but no rows"))
        report["problems"] = [p.as_dict() for p in problems]
    errors = problems + ([] if skip_unmatched else unmatched)
    if errors or not values:
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
    df = pd.DataFrame(values, columns=["indicator", "commune_code", "year", "value", "line", "matched_by"])
    return df, report


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
