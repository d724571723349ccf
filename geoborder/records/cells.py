"""The readers of the cells of a border record (dates, periods, counts, amounts).

A cell reader returns (value, error): (None, None) for an empty cell, (None, message) for a cell
that cannot be read; the importer turns messages into problems with line and column.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from geoborder.core.text import fold


def empty(cell) -> bool:
    return (
        cell is None or (isinstance(cell, float) and math.isnan(cell)) or (isinstance(cell, str) and not cell.strip())
    )


def text(cell) -> str | None:
    if empty(cell):
        return None
    if isinstance(cell, float) and cell == int(cell):
        cell = int(cell)
    return str(cell).strip()


_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_MY = re.compile(r"^(\d{1,2})[/.-](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")


def date_cell(cell, *, day_only: bool = False) -> tuple[tuple[str, str] | None, str | None]:
    """((ISO date, precision day|month|year), error). A month or a year gives its first day;
    dates are written day first (19/11/2024) or ISO (2024-11-19)."""
    if empty(cell):
        return None, None
    if isinstance(cell, dt.datetime):
        cell = cell.date()
    if isinstance(cell, dt.date):
        return (cell.isoformat(), "day"), None
    s = text(cell)
    assert s is not None  # not empty
    y = m = d = None
    if (g := _DMY.match(s)) is not None:
        d, m, y = map(int, g.groups())
    elif (g := _YMD.match(s)) is not None:
        y, m = int(g.group(1)), int(g.group(2))
        d = int(g.group(3)) if g.group(3) else None
    elif (g := _MY.match(s)) is not None:
        m, y = map(int, g.groups())
    elif re.fullmatch(r"\d{4}", s):
        y = int(s)
    else:
        return None, f"{s!r} is not a date (19/11/2024, 2024-11-19, 11/2024 or 2024)"
    precision = "day" if d else "month" if m else "year"
    if day_only and precision != "day":
        return None, f"{s!r} is not a whole date: give the day (19/11/2024)"
    try:
        value = dt.date(y, m or 1, d or 1)
    except ValueError:
        return None, f"{s!r} is not a date"
    if not 1900 <= y <= 2100:
        return None, f"{s!r} is not a date between 1900 and 2100"
    return (value.isoformat(), precision), None


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def period_cell(period, year, quarter, month) -> tuple[tuple[str, str, str] | None, str | None]:
    """((period, kind year|quarter|month, first day), error) from a period cell ('2024',
    '2024-Q1', 'Q1/2024', 'quý I/2024', '2024-03', '03/2024', 'tháng 3/2024') or from year and
    quarter or month cells."""
    if not empty(period):
        s = re.sub(r"\s+", "-", fold(str(text(period))).replace("quy", "q").replace("thang", "").strip())
        s = s.replace("q-", "q")
        if (g := re.fullmatch(r"(\d{4})", s)) is not None:
            return _period(int(g.group(1)), None, None)
        for pat in (r"(\d{4})[-/]?q([1-4]|iv|iii|ii|i)", r"q([1-4]|iv|iii|ii|i)[-/]?(\d{4})"):
            if (g := re.fullmatch(pat, s)) is not None:
                y, q = (g.group(1), g.group(2)) if pat.startswith("(\\d{4})") else (g.group(2), g.group(1))
                return _period(int(y), _ROMAN.get(q) or int(q), None)
        if (g := re.fullmatch(r"(\d{4})-(\d{1,2})", s)) is not None:
            return _period(int(g.group(1)), None, int(g.group(2)))
        if (g := re.fullmatch(r"t?(\d{1,2})[/-](\d{4})", s)) is not None:
            return _period(int(g.group(2)), None, int(g.group(1)))
        return None, f"{text(period)!r} is not a period (2024, 2024-Q1, Q1/2024, 2024-03, 03/2024)"
    if empty(year):
        return None, "no period: fill the period column (2024, 2024-Q1, 2024-03) or the year column"
    ys = text(year)
    assert ys is not None  # not empty
    if not re.fullmatch(r"\d{4}", ys):
        return None, f"{ys!r} is not a year"
    q = m = None
    if not empty(quarter):
        qs = fold(str(text(quarter))).replace("quy", "").replace("q", "").strip()
        q = _ROMAN.get(qs) or (int(qs) if qs.isdigit() else None)
        if q is None:
            return None, f"{text(quarter)!r} is not a quarter (1-4)"
    if not empty(month):
        ms = fold(str(text(month))).replace("thang", "").replace("t", "").strip()
        if not ms.isdigit():
            return None, f"{text(month)!r} is not a month (1-12)"
        m = int(ms)
    if q and m:
        return None, "a quarter and a month: give one of them"
    return _period(int(ys), q, m)


def _period(y: int, q: int | None, m: int | None):
    if not 1990 <= y <= 2100:
        return None, f"{y} is not a year between 1990 and 2100"
    if q is not None:
        if not 1 <= q <= 4:
            return None, f"quarter {q} is not 1-4"
        return (f"{y}-Q{q}", "quarter", f"{y}-{3 * q - 2:02d}-01"), None
    if m is not None:
        if not 1 <= m <= 12:
            return None, f"month {m} is not 1-12"
        return (f"{y}-{m:02d}", "month", f"{y}-{m:02d}-01"), None
    return (str(y), "year", f"{y}-01-01"), None


_GROUPED = re.compile(r"^\d{1,3}([., ]\d{3})+$")


def number_cell(cell, *, whole: bool) -> tuple[float | None, str | None]:
    """A non-negative number; thousands may be grouped (12.345 or 12,345 for a count; 1.234,5 or
    1,234.5 for an amount)."""
    if empty(cell):
        return None, None
    if isinstance(cell, bool):
        return None, f"{cell!r} is not a number"
    if isinstance(cell, (int, float)):
        v = float(cell)
    else:
        s = str(cell).strip().replace("\u00a0", " ")
        if whole and _GROUPED.match(s):
            s = re.sub(r"[., ]", "", s)
        elif "," in s and "." in s:
            s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
        elif s.count(",") == 1 and not _GROUPED.match(s):
            s = s.replace(",", ".")
        elif _GROUPED.match(s):
            s = re.sub(r"[., ]", "", s)
        try:
            v = float(s.replace(" ", ""))
        except ValueError:
            return None, f"{str(cell)!r} is not a number"
    if not math.isfinite(v):
        return None, f"{cell!r} is not a finite number"
    if v < 0:
        return None, f"{v:g} is negative"
    if whole and v != int(v):
        return None, f"{v:g} is not a whole number (a count)"
    return v, None
