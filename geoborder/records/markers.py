"""Markers and patrols: the inspections of each border marker (mốc quốc giới) and reference stake
(cọc dấu), the latest condition of each, a marker's history, markers not inspected since a date.

A marker is keyed by its border and number (`vn-la-125`; a stake `vn-la-coc-125`): for the pack's
markers (the `markers` layer and markers_unplaced) that key is their `marker_id`, so the latest
condition joins the `markers` layer on marker_id; markers the pack does not have are "known only
by number" (placed: None) and keep their key. Per marker and date, the latest import's row is
the current one.
"""

from __future__ import annotations

import pandas as pd

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.core.text import fold
from geoborder.records.db import current_rows
from geoborder.records.gates import parse_date
from geoborder.records.matching import MarkerMatcher, all_markers
from geoborder.records.vocabularies import CONDITIONS, word

LATEST_COLUMNS = ["marker_key", "date", "condition", "patrol", "unit", "import_id", "line"]


def inspections(db) -> pd.DataFrame:
    """The current inspections (every marker, every date), oldest first."""
    df = current_rows("inspections", db.rows("inspections"))
    return df.sort_values(["marker_key", "date"]).reset_index(drop=True) if len(df) else df


def latest_conditions(db) -> pd.DataFrame:
    """Per marker key, its latest inspection: the frame to join on the `markers` layer's
    marker_id (columns LATEST_COLUMNS)."""
    df = inspections(db)
    if df.empty:
        return pd.DataFrame(columns=LATEST_COLUMNS)
    return df.drop_duplicates("marker_key", keep="last")[LATEST_COLUMNS].reset_index(drop=True)


def _clean(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _inspection(r) -> dict:
    d = {c: _clean(r[c]) for c in ("date", "condition", "patrol", "unit", "note", "object")}
    return {**d, "import_id": int(r["import_id"]), "line": int(r["line"])}


def markers(
    store, db, *, condition: str | None = None, border: str | None = None, province: str | None = None
) -> list[dict]:
    """Every marker with its latest condition: the pack's (inspected or not) and those known
    only by number; filtered by latest `condition`, `border`, `province` (pack or inspection)."""
    pack = all_markers(store)
    ins = inspections(db)
    latest = ins.drop_duplicates("marker_key", keep="last").set_index("marker_key") if len(ins) else None
    counts = ins.groupby("marker_key").size() if len(ins) else {}
    out = []
    for r in pack.itertuples(index=False):
        out.append(
            {
                "marker_key": r.marker_id,
                "marker": r.marker,
                "border": r.border,
                "province": _clean(r.province_name_2025) or r.vn_province,
                "in_pack": True,
                "placed": bool(r.placed),
            }
        )
    known = {m["marker_key"] for m in out}
    if latest is not None:
        for key, r in latest.iterrows():
            if key not in known:
                out.append(
                    {
                        "marker_key": key,
                        "marker": r["marker"],
                        "border": r["border"],
                        "province": _clean(r["province"]),
                        "in_pack": False,
                        "placed": None,
                    }
                )
    for m in out:
        if latest is not None and m["marker_key"] in latest.index:
            m["latest"] = _inspection(latest.loc[m["marker_key"]])
            m["inspections"] = int(counts[m["marker_key"]])
        else:
            m["latest"], m["inspections"] = None, 0
    if condition:
        cond, err = word(condition, CONDITIONS, "condition")
        if err:
            raise InvalidParameter(f"condition: {err}")
        out = [m for m in out if m["latest"] and m["latest"]["condition"] == cond]
    return _filter(out, border, province)


def _filter(out: list[dict], border, province) -> list[dict]:
    if border:
        b = str(border).upper()
        out = [m for m in out if b in str(m["border"]).split("/")]
    if province:
        out = [m for m in out if fold(str(m["province"])) == fold(province)]
    return out


def resolve_marker(store, marker: str, border: str | None = None, province: str | None = None) -> str:
    """A marker key from a key (vn-la-125, a pack marker_id) or a number with its border or
    province ('125', province='Sơn La')."""
    keys = set(all_markers(store)["marker_id"])
    if marker in keys or (border is None and province is None and "-" in marker and not marker[0].isdigit()):
        return marker
    m = MarkerMatcher(store)
    b, err = m.border(border, province)
    if err:
        raise InvalidParameter(f"marker {marker!r}: {err}")
    assert b is not None  # no error
    return m.match(marker, "marker", b)[0]


def marker_history(store, db, marker: str, *, border: str | None = None, province: str | None = None) -> dict:
    """Every current inspection of one marker, oldest first, with the versions they come from."""
    key = resolve_marker(store, marker, border, province)
    ins = inspections(db)
    mine = ins[ins["marker_key"] == key] if len(ins) else ins
    pack = all_markers(store).set_index("marker_id")
    if mine.empty and key not in pack.index:
        raise NotFound(f"no inspection of marker {key!r} and no such marker in the pack")
    head = pack.loc[key] if key in pack.index else mine.iloc[-1]
    return {
        "marker_key": key,
        "marker": head["marker"],
        "border": head["border"],
        "in_pack": key in pack.index,
        "placed": bool(pack.at[key, "placed"]) if key in pack.index else None,
        "inspections": [_inspection(r) for _, r in mine.iterrows()],
    }


def uninspected_since(store, db, since, *, border: str | None = None, province: str | None = None) -> dict:
    """Markers whose latest inspection is before `since`, or that were never inspected (the
    pack's markers; a marker known only by number has been inspected once at least)."""
    since = parse_date(since)
    out = [
        {**m, "last_inspected": m["latest"]["date"] if m["latest"] else None}
        for m in markers(store, db, border=border, province=province)
        if m["latest"] is None or m["latest"]["date"] < since
    ]
    return {
        "since": since,
        "count": len(out),
        "never_inspected": sum(1 for m in out if m["last_inspected"] is None),
        "markers": out,
        "note": "only the markers of the pack and those of imported inspections are known",
    }
