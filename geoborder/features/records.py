"""The border's own records on the point layers (issue 16), joined on as indicator values are
joined onto communes (FeatureCache):

- `gates`: each gate's class and status from its events (geoborder.records.gates): today's,
  or, for a `datetime=` selection, those of that date, and only the gates in operation then;
- `markers`: each marker's latest inspection (condition, date, patrol, unit, the import it comes
  from), null when it was never inspected.

**`datetime` on the gates collection.** Events are dated by Vietnamese calendar days, so an
instant is taken as its date in Vietnam's time (UTC+7; a date alone, 2015-01-01, is that day).
An instant D gives the gates in operation on D (status open, or "listed": listed by the pack with
no event known, which no date excludes), each with its class and status on D. An interval A/B
gives the gates in operation on some day from A to B, each with its class and status on B (an
open end, A/..: today, or A when A is later); `../B` reaches back before the first event. The
date the properties are given for is the `state_date` of each feature.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geoborder.features.query import DatetimeInterval

RECORD_LAYERS = ("gates", "markers")
TIMED_LAYERS = ("gates",)  # the layers that answer `datetime=`
VN_TIME = dt.timezone(dt.timedelta(hours=7))
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

GATE_COLUMNS = ("state_date", "class_on_date", "class_from", "status", "in_operation", "status_since", "opened")
MARKER_COLUMNS = ("condition", "inspected_on", "patrol", "inspection_unit", "inspection_import")

# titles and JSON types of the joined columns (queryables)
TITLES = {
    "state_date": ("Date of class and status", "string", "date"),
    "class_on_date": ("Class on that date (from the gate's events)", "string", None),
    "class_from": ("How the class was found", "string", None),
    "status": ("Status on that date (open, closed, proposed, agreed, not_yet_open, listed)", "string", None),
    "in_operation": ("In operation on that date (open, or listed with no event known)", "boolean", None),
    "status_since": ("Date of the event that set the status", "string", "date"),
    "opened": ("Date of the first opening known", "string", "date"),
    "condition": ("Latest inspected condition (intact, damaged, displaced, lost, rebuilt)", "string", None),
    "inspected_on": ("Date of the latest inspection", "string", "date"),
    "patrol": ("Patrol of the latest inspection (bilateral, unilateral)", "string", None),
    "inspection_unit": ("Unit of the latest inspection", "string", None),
    "inspection_import": ("Records import (version) of the latest inspection", "integer", None),
}


def today() -> str:
    return dt.datetime.now(VN_TIME).date().isoformat()


def _day(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(VN_TIME).date().isoformat()


def state_dates(when: DatetimeInterval | None, now: str | None = None) -> tuple[str | None, str | None, str]:
    """(first day, last day, the day the state is given for) of a `datetime` selection, as ISO
    dates in Vietnam's time; None: today's state, no selection (first and last day None)."""
    now = now or today()
    if when is None:
        return None, None, now
    start, end = _day(when.start), _day(when.end)
    if end is not None:
        return start, end, end
    return start, None, max(now, start) if start else now


def records_revision(indicators_db) -> str:
    """The revision of the records in `indicators_db` ("" without a database)."""
    if indicators_db is None:
        return ""
    from geoborder.records.open import records_for

    return records_for(indicators_db).revision()


def gate_columns(store, indicators_db, when: DatetimeInterval | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """(the columns GATE_COLUMNS per gate_id, whether each gate matches `when`: in operation on
    some day of it; every gate matches None)."""
    from geoborder.records.gates import gates_during

    rdb = None
    if indicators_db is not None:
        from geoborder.records.open import records_for

        rdb = records_for(indicators_db)
    start, end, at = state_dates(when)
    rows = gates_during(store, rdb, start, end, at)
    df = pd.DataFrame(
        {
            "gate_id": [r["gate_id"] for r in rows],
            "state_date": at,
            "class_on_date": [r["class"] for r in rows],
            "class_from": [r["class_from"] for r in rows],
            "status": [r["status"] for r in rows],
            "in_operation": pd.array([r["in_operation"] for r in rows], dtype="boolean"),
            "status_since": [r["status_since"] for r in rows],
            "opened": [r["opened"] for r in rows],
        }
    ).set_index("gate_id")
    matched = pd.Series([True if when is None else r["in_operation_during"] for r in rows], index=df.index)
    return df, matched


def marker_columns(indicators_db) -> pd.DataFrame:
    """The columns MARKER_COLUMNS per marker key (the markers layer's marker_id): the latest
    inspection of each inspected marker (none without a database)."""
    empty = pd.DataFrame(columns=["marker_key", *MARKER_COLUMNS]).set_index("marker_key")
    if indicators_db is None:
        return empty
    from geoborder.records.markers import latest_conditions
    from geoborder.records.open import records_for

    latest = latest_conditions(records_for(indicators_db))
    if latest.empty:
        return empty
    out = pd.DataFrame(
        {
            "marker_key": latest["marker_key"],
            "condition": latest["condition"],
            "inspected_on": latest["date"],
            "patrol": latest["patrol"],
            "inspection_unit": latest["unit"],
            "inspection_import": latest["import_id"].astype("Int64"),
        }
    )
    return out.set_index("marker_key")


def with_nulls(extra: pd.DataFrame, names) -> pd.DataFrame:
    """`extra` with every column of `names`, in that order (missing ones null)."""
    for n in names:
        if n not in extra.columns:
            extra[n] = None
    return extra[list(names)]


_EXTENTS: dict[tuple, dict | None] = {}


def temporal_extent(store, indicators_db, layer_id: str) -> dict | None:
    """The `extent.temporal` of a collection that answers `datetime`: from the first event of
    its features to now (an open end), None for the other layers or without any event. Kept
    per data version and records revision."""
    if layer_id not in TIMED_LAYERS:
        return None
    key = (id(store), store.version, layer_id, id(indicators_db), records_revision(indicators_db))
    if key in _EXTENTS:
        return _EXTENTS[key]
    from geoborder.records.gates import events

    rdb = None
    if indicators_db is not None:
        from geoborder.records.open import records_for

        rdb = records_for(indicators_db)
    ids = set(store.frame(layer_id)["gate_id"])
    evs = events(store, rdb)
    dates = evs.loc[evs["gate_id"].isin(ids), "date"].dropna()
    got = None if dates.empty else {"interval": [[f"{dates.min()}T00:00:00+07:00", None]], "trs": GREGORIAN}
    if len(_EXTENTS) >= 8:
        _EXTENTS.clear()
    _EXTENTS[key] = got
    return got
