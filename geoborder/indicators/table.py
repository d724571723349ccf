"""An indicator table as read (CSV in any common encoding and delimiter, XLSX), and the problems an
import reports, each with its line and column."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from geoborder.core.errors import InvalidParameter
from geoborder.core.text import nfc


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
        d: dict[str, Any] = {"line": self.line, "column": self.column, "kind": self.kind, "message": self.message}
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


def reject_early(file_name: str, problem: Problem, **extra) -> ImportRejected:
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
        raise reject_early(
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
            raise reject_early(
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
        raise reject_early(file_name, Problem(None, None, "empty", "the file has no header row"))
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
        raise reject_early(file_name, Problem(None, None, "format", f"not a readable XLSX file ({exc})")) from None
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
    raise reject_early(file_name, Problem(None, None, "empty", "no sheet has a header row"))
