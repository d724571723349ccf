"""Crossings per gate and period: totals per gate, province, partner country and period.

The current figures are, per gate and period, those of the latest import that carries them. A
total for a period of one length (year, quarter, month) uses, per gate, the figures of that
length when there are some, else the sum of the shorter periods inside it: then `complete` says
whether every one of them is there (a year from 3 of its 12 months is not complete). A longer
period never fills a shorter one (a year's figure is not split into months). Amounts are summed
per currency, never converted.
"""

from __future__ import annotations

import pandas as pd

from geoborder.core.errors import InvalidParameter
from geoborder.core.text import fold
from geoborder.records.db import current_rows
from geoborder.records.gates import crossing_points
from geoborder.records.matching import GateMatcher
from geoborder.records.vocabularies import BORDER_OF_COUNTRY, BORDERS

PERIODS = ("year", "quarter", "month")
GROUPS = ("gate", "province", "partner", "all")
COUNTS = ("people_out", "people_in", "vehicles_out", "vehicles_in")
PARTS = {("year", "quarter"): 4, ("year", "month"): 12, ("quarter", "month"): 3}


def _target(row, length: str) -> str | None:
    y, m = row.period_start[:4], int(row.period_start[5:7])
    if length == "year":
        return y
    if length == "quarter":
        return f"{y}-Q{(m - 1) // 3 + 1}" if row.period_kind in ("quarter", "month") else None
    return row.period if row.period_kind == "month" else None


def _partner(value) -> str:
    v = str(value).strip().upper()
    if v in BORDER_OF_COUNTRY:
        return v
    border = BORDERS.get(fold(str(value)))
    got = {b: c for c, b in BORDER_OF_COUNTRY.items()}.get(border) if border is not None else None
    if got is None:
        raise InvalidParameter(f"partner: {value!r} is not a partner country (LAO, CHN, KHM)")
    return got


def crossing_totals(
    store,
    db,
    *,
    by: str = "gate",
    period: str = "year",
    gate: str | None = None,
    province: str | None = None,
    partner: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> dict:
    """Totals of the current crossing figures per `by` (gate | province | partner | all) and
    `period` (year | quarter | month), for periods from `start` to `end` (as written: 2023,
    2023-Q2, 2023-05)."""
    if by not in GROUPS:
        raise InvalidParameter(f"by must be one of {', '.join(GROUPS)}, not {by!r}")
    if period not in PERIODS:
        raise InvalidParameter(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    rows = current_rows("crossings", db.rows("crossings"))
    pts = crossing_points(store, db)
    if gate:
        gid, how, msg, _ = GateMatcher(store).match(gate)
        if gid is None:
            raise InvalidParameter(f"gate: {msg}")
        rows = rows[rows["gate_id"] == gid]
    rows = rows.assign(province=rows["gate_id"].map(pts["province"]), partner=rows["gate_id"].map(pts["partner_iso3"]))
    if province:
        rows = rows[rows["province"].map(fold) == fold(province)]
    if partner:
        rows = rows[rows["partner"] == _partner(partner)]
    targets = [_target(r, period) for r in rows.itertuples(index=False)]
    rows = rows.assign(target=pd.Series(targets, index=rows.index, dtype=object))  # text, also when empty
    left_out = int(rows["target"].isna().sum())
    rows = rows[rows["target"].notna()]
    if start:
        rows = rows[rows["target"] >= str(start)]
    if end:
        rows = rows[rows["target"] <= str(end)]
    # per gate and period: the longest records there are
    rank = {p: i for i, p in enumerate(PERIODS)}
    rows = rows.assign(rank=rows["period_kind"].map(rank))
    best = rows.groupby(["gate_id", "target"])["rank"].transform("min")
    rows = rows[rows["rank"] == best]
    cells = []
    for (gid, target), g in rows.groupby(["gate_id", "target"], sort=True):
        kind = g["period_kind"].iloc[0]
        expected = PARTS.get((period, kind), 1)
        cells.append(
            {
                "gate_id": gid,
                "province": g["province"].iloc[0],
                "partner": g["partner"].iloc[0],
                "period": target,
                "from": kind,
                "parts": len(g),
                "complete": len(g) == expected,
                **{c: (float(g[c].sum()) if g[c].notna().any() else None) for c in COUNTS},
                "exports": _money(g, "export_value"),
                "imports": _money(g, "import_value"),
                "versions": sorted(int(i) for i in g["import_id"].unique()),
            }
        )
    return {
        "by": by,
        "period": period,
        "totals": _group(cells, by),
        "left_out": left_out,
        "note": "amounts per currency, not converted; a total from shorter periods says whether all are there",
    }


def _money(g: pd.DataFrame, col: str) -> dict:
    have = g[g[col].notna()]
    return {str(c): float(v) for c, v in have.groupby("currency")[col].sum().items()}


def _group(cells: list[dict], by: str) -> list[dict]:
    key = {"gate": "gate_id", "province": "province", "partner": "partner", "all": None}[by]
    out: dict[tuple, dict] = {}
    for c in cells:
        k = (c[key] if key else "all", c["period"])
        t = out.get(k)
        if t is None:
            t = out[k] = {
                **({key: c[key]} if key else {}),
                "period": c["period"],
                "gates": [],
                "complete": True,
                **dict.fromkeys(COUNTS),
                "exports": {},
                "imports": {},
                "versions": set(),
            }
            if by == "gate":
                t.update(province=c["province"], partner=c["partner"], **{"from": c["from"], "parts": c["parts"]})
        t["gates"].append(c["gate_id"])
        t["complete"] = t["complete"] and c["complete"]
        for m in COUNTS:
            if c[m] is not None:
                t[m] = (t[m] or 0) + c[m]
        for m in ("exports", "imports"):
            for cur, v in c[m].items():
                t[m][cur] = t[m].get(cur, 0) + v
        t["versions"].update(c["versions"])
    for t in out.values():
        t["versions"] = sorted(t["versions"])
        for m in COUNTS:
            if t[m] is not None and t[m] == int(t[m]):
                t[m] = int(t[m])
    return [out[k] for k in sorted(out, key=lambda k: (str(k[0]), k[1]))]
