"""Gates over time: the events of each crossing point, and its class and status at a date.

The events are those the source pack states (the seed, `layers/gate_events_seed.csv`, each row
citing the text of gates_curated.csv it comes from) and the imported ones (kind `events`; per
gate, date and event the latest import's row). Crossing points are the pack's gates and the
openings (lối mở) and border markets that imports add.

At a date D:
- **class**: that of the last event on or before D that gives one (opened, classified, upgraded,
  downgraded); before the first such event, the `previous_class` it states, else unknown (None);
  with no such event at all, the pack's class ("classes as of 2016-2025");
- **status**: that of the last event on or before D that sets one (proposed, agreed, open,
  closed); before the first, "not_yet_open" when that first is a proposal, agreement or opening,
  "open" when it is a closure or a reopening; with none, "listed" (listed by the pack, no event
  known). Approvals, classifications, upgrades and relocations change no status.

An event dated by a month or a year counts from its first day (its `precision` says so).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.records.cells import date_cell, empty
from geoborder.records.db import current_rows
from geoborder.records.matching import all_gates
from geoborder.records.vocabularies import EVENT_STATUS, class_word

SEED_PATH = Path(__file__).resolve().parents[2] / "layers" / "gate_events_seed.csv"
ORDER = {
    e: i
    for i, e in enumerate(
        (
            "proposed",
            "agreed",
            "approved",
            "opened",
            "classified",
            "upgraded",
            "downgraded",
            "relocated",
            "closed",
            "reopened",
        )
    )
}
CLASS_EVENTS = ("opened", "classified", "upgraded", "downgraded")
IN_OPERATION = ("open", "listed")
EVENT_COLUMNS = [
    "gate_id",
    "date",
    "precision",
    "event",
    "class",
    "previous_class",
    "partner_gate",
    "legal_ref",
    "source",
    "note",
    "origin",
    "import_id",
    "line",
    "source_text",
]


@lru_cache(maxsize=2)
def read_seed(path: Path = SEED_PATH) -> pd.DataFrame:
    """The seed file as written (comment lines start with #)."""
    with open(path, encoding="utf-8") as fh:
        body = "".join(line for line in fh if not line.startswith("#"))
    return pd.DataFrame(list(csv.DictReader(io.StringIO(body)))).replace({"": None})


def seed_events(store) -> pd.DataFrame:
    """The seeded events, each with its gate's fact_source as source and the cited text."""
    seed = read_seed().copy()
    sources = all_gates(store).set_index("gate_id")["fact_source"]
    seed["source"] = seed["gate_id"].map(sources)
    seed["origin"] = "seed: gates_curated.csv " + seed["source_field"]
    seed["import_id"] = None
    seed["line"] = None
    return seed[EVENT_COLUMNS]


def events(store, db=None) -> pd.DataFrame:
    """Every current event: the seed and the imports (db: a records database, or None)."""
    frames = [seed_events(store)]
    if db is not None:
        imp = current_rows("events", db.rows("events"))
        if len(imp):
            imp = imp.assign(origin="import", source_text=None)
            frames.append(imp[EVENT_COLUMNS])
    df = pd.concat([f for f in frames if len(f)], ignore_index=True)
    df["order"] = df["event"].map(ORDER)
    return df.sort_values(["gate_id", "date", "order"]).drop(columns="order").reset_index(drop=True)


def crossing_points(store, db) -> pd.DataFrame:
    """Crossing points: the pack's gates, and the new openings / markets of imported events."""
    g = all_gates(store)
    pts = pd.DataFrame(
        {
            "gate_id": g["gate_id"],
            "name": g["name_vi"],
            "point_kind": "gate",
            "province": g["province_name_2025"].fillna(g["vn_province"]),
            "partner_gate": g["partner_gate"],
            "partner_iso3": g["partner_iso3"],
            "pack_class": g["gate_class"],
        }
    )
    if db is not None:
        imp = current_rows("events", db.rows("events"))
        new = imp[~imp["gate_id"].isin(set(pts["gate_id"]))] if len(imp) else imp
        if len(new):
            last = new.sort_values("import_id").drop_duplicates("gate_id", keep="last")
            pts = pd.concat(
                [
                    pts,
                    pd.DataFrame(
                        {
                            "gate_id": last["gate_id"],
                            "name": last["name"],
                            "point_kind": last["point_kind"].fillna("opening"),
                            "province": last["province"],
                            "partner_gate": last["partner_gate"],
                            "partner_iso3": None,
                            "pack_class": None,
                        }
                    ),
                ],
                ignore_index=True,
            )
    return pts.set_index("gate_id", drop=False)


def parse_date(at) -> str:
    """An ISO date from a date, a datetime or text (2023-06-01, 01/06/2023); today for None."""
    if at is None:
        return dt.date.today().isoformat()
    got, err = date_cell(at)
    if err or got is None:
        raise InvalidParameter(f"at: {err or 'no date'}")
    return got[0]


def _clean(v):
    return None if v is None or (isinstance(v, float) and v != v) or (not isinstance(v, str) and pd.isna(v)) else v


def _event_dict(e) -> dict:
    d = {c: _clean(e[c]) for c in EVENT_COLUMNS if c != "gate_id"}
    if d["import_id"] is not None:
        d["import_id"], d["line"] = int(d["import_id"]), int(d["line"])
    return d


def _state(point, evs: list[dict], at: str) -> dict:
    applied = [e for e in evs if e["date"] <= at]
    with_class = [e for e in evs if e["event"] in CLASS_EVENTS and e["class"]]
    before = [e for e in with_class if e["date"] <= at]
    if before:
        cls, how = before[-1]["class"], f"{before[-1]['event']} {before[-1]['date']}"
    elif with_class and with_class[0]["previous_class"]:
        first = with_class[0]
        cls, how = first["previous_class"], f"previous class stated by the event {first['event']} {first['date']}"
    elif with_class:
        cls, how = None, f"unknown: the first class stated is from {with_class[0]['date']}"
    else:
        cls = _clean(point["pack_class"])
        how = "the pack's class (classes as of 2016-2025)" if cls else "unknown: no class stated"
    setting = [e for e in evs if EVENT_STATUS.get(e["event"])]
    done = [e for e in setting if e["date"] <= at]
    if done:
        status = EVENT_STATUS[done[-1]["event"]]
    elif setting:
        status = "not_yet_open" if setting[0]["event"] in ("proposed", "agreed", "opened") else "open"
    else:
        status = "listed"
    partner = next((e["partner_gate"] for e in reversed(applied) if e["partner_gate"]), None)
    return {
        "gate_id": point["gate_id"],
        "name": point["name"],
        "point_kind": point["point_kind"],
        "province": _clean(point["province"]),
        "partner_gate": partner or _clean(point["partner_gate"]),
        "partner_iso3": _clean(point["partner_iso3"]),
        "at": at,
        "class": cls,
        "class_from": how,
        "status": status,
        "in_operation": status in IN_OPERATION,
        "last_event": ({"date": applied[-1]["date"], "event": applied[-1]["event"]} if applied else None),
    }


def gate_state(store, db, gate_id: str, at=None) -> dict:
    """The class and status of crossing point `gate_id` at `at` (default today), with every event
    of it (each with `applies`: dated on or before `at`)."""
    pts = crossing_points(store, db)
    if gate_id not in pts.index:
        raise NotFound(f"no crossing point {gate_id!r}; see /records/gates for the ids")
    at = parse_date(at)
    evs = [_event_dict(e) for _, e in events(store, db).query("gate_id == @gate_id").iterrows()]
    out = _state(pts.loc[gate_id], evs, at)
    out["events"] = [{**e, "applies": e["date"] <= at} for e in evs]
    return out


def gates_at(store, db, at=None, *, in_operation: bool | None = None) -> list[dict]:
    """Every crossing point's class and status at `at` (default today); `in_operation`: only
    those open (or listed by the pack with no event known), or only those not."""
    at = parse_date(at)
    by_gate: dict[str, list[dict]] = {}
    for _, e in events(store, db).iterrows():
        by_gate.setdefault(e["gate_id"], []).append(_event_dict(e))
    out = [_state(p, by_gate.get(gid, []), at) for gid, p in crossing_points(store, db).iterrows()]
    if in_operation is not None:
        out = [s for s in out if s["in_operation"] == in_operation]
    return sorted(out, key=lambda s: s["gate_id"])


def check_class(value) -> str | None:
    """A class filter (any spelling) as its canonical value; InvalidParameter when it is none."""
    if empty(value):
        return None
    got, err = class_word(value)
    if err:
        raise InvalidParameter(f"class: {err}")
    return got


def gates_during(store, db, start: str | None, end: str | None, at: str) -> list[dict]:
    """Every crossing point's class and status at `at` (an ISO date), as `gates_at` gives them,
    with what a time selection needs (OGC API - Features `datetime` on the gates collection):

    - `in_operation_during`: in operation (open, or listed with no event known) on some day from
      `start` to `end` (ISO dates, both included; None: an open end), i.e. at `start` or at one
      of its events dated after `start` and on or before `end`;
    - `opened`: the date of its first opening (event opened), None when none is known;
    - `status_since`: the date of the last event on or before `at` that set its status, None
      when none did."""
    lo = start or "0000-01-01"  # before any event: the status before the first one
    by_gate: dict[str, list[dict]] = {}
    for _, e in events(store, db).iterrows():
        by_gate.setdefault(e["gate_id"], []).append(_event_dict(e))
    out = []
    for gid, p in crossing_points(store, db).iterrows():
        evs = by_gate.get(gid, [])
        dates = [lo, *(e["date"] for e in evs if lo < e["date"] and (end is None or e["date"] <= end))]
        during = any(_state(p, evs, d)["in_operation"] for d in dates)
        setting = [e for e in evs if EVENT_STATUS.get(e["event"]) and e["date"] <= at]
        opened = next((e["date"] for e in evs if e["event"] == "opened"), None)
        out.append(
            {
                **_state(p, evs, at),
                "in_operation_during": during,
                "opened": opened,
                "status_since": setting[-1]["date"] if setting else None,
            }
        )
    return sorted(out, key=lambda s: s["gate_id"])
