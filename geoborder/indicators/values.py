"""Indicator values on the features of a commune layer: computed ones from the store, reported
ones from the indicator database, pre-2025 tables on 2025 communes through the crosswalk."""

from __future__ import annotations

import math

import orjson
import pandas as pd

from geoborder.core.cache import LRU
from geoborder.core.errors import InvalidParameter, Unavailable
from geoborder.indicators import computed as indicator_compute
from geoborder.indicators import reform as indicator_reform
from geoborder.indicators.catalog import IndicatorCatalog, layer_vintage, load_indicators


def values_for(
    store,
    indicators_db,
    layer_id: str,
    names,
    year: int | None = None,
    *,
    source_vintage: int | None = None,
    catalog: IndicatorCatalog | None = None,
) -> pd.DataFrame:
    """Indicator values for the features of `layer_id`, one column per name, indexed by commune_code.

    Computed indicators come from the store; reported ones are the current (latest imported)
    values of `year` (None: each commune's latest year) from `indicators_db` (may be None when
    only computed indicators are asked). `source_vintage=2009` on a 2025 layer shows a pre-2025
    table on 2025 communes through the crosswalk (see indicator_reform.to_2025; the flags of that
    join are in `reform_values`). Communes without a value get NaN.
    """
    catalog = catalog or load_indicators()
    vintage = layer_vintage(layer_id)
    frame = store.frame(layer_id)
    index = pd.Index(frame["commune_code"].astype(str), name="commune_code")
    out = pd.DataFrame(index=index)
    names = [names] if isinstance(names, str) else list(names)
    inds = [catalog.get(n) for n in names]
    computed = [i.name for i in inds if i.source == "computed"]
    if computed:
        comp = indicator_compute.compute(store, vintage, computed, catalog=catalog)
        for n in computed:
            out[n] = comp[n].reindex(index)
    for ind in inds:
        if ind.source != "reported":
            continue
        if indicators_db is None:
            raise InvalidParameter(f"{ind.name} is a reported indicator: no indicator database is open")
        src = source_vintage or vintage
        if src == vintage:
            cur = indicators_db.current(ind.name, vintage=vintage, year=year)
            s = cur.set_index("commune_code")["value"] if len(cur) else pd.Series(dtype=float)
        elif src == 2009 and vintage == 2025:
            s = reform_values(store, indicators_db, ind.name, year=year, catalog=catalog)["value"]
        else:
            raise InvalidParameter(f"cannot show {src} units on {vintage} units")
        out[ind.name] = pd.to_numeric(s, errors="coerce").reindex(index)
    return out


def reform_values(
    store, indicators_db, name: str, year: int | None = None, *, catalog: IndicatorCatalog | None = None
) -> pd.DataFrame:
    """A pre-2025 table of `name` shown on 2025 communes, with the flags of the join."""
    catalog = catalog or load_indicators()
    ind = catalog.get(name)
    cur = indicators_db.current(name, vintage=2009, year=year)
    values = cur.set_index("commune_code")["value"] if len(cur) else pd.Series(dtype=float)
    links = indicator_reform.links_for(store)
    return indicator_reform.to_2025(values, ind, links, store)


# --------------------------------------------------------------------------- tables of the API

VINTAGES = (2025, 2009)
REFORM_NOTE = (
    "pre-2025 values shown on 2025 communes through the GSO crosswalk; a sum over a "
    "partly merged source is not split (value null, partial true)"
)


def _number(v, integer: bool):
    """A value of the tables: null for NaN, an int for a whole value of a count or a boolean
    (`poor_households: 204`, not 204.0), else the float."""
    if v is None or v is pd.NA:
        return None
    v = float(v)
    if not math.isfinite(v):
        return None
    return int(v) if integer and v.is_integer() else v


def _is_integer(ind) -> bool:
    return ind.type in ("count", "boolean")


def check_vintages(vintage: int, source_vintage: int | None) -> None:
    """The units values are shown on (`vintage`) and keyed by (`source_vintage`, None: the same)."""
    if vintage not in VINTAGES:
        raise InvalidParameter("vintage must be 2025 or 2009")
    if source_vintage not in (None, *VINTAGES):
        raise InvalidParameter("source_vintage must be 2025 or 2009")
    if source_vintage == 2025 and vintage == 2009:
        raise InvalidParameter("2025 values cannot be shown on pre-2025 units (a 2025 commune is not split)")


def _reform_row(code: str, name, r, integer: bool) -> dict:
    return {
        "commune_code": code,
        "name": name,
        "value": _number(r["value"], integer),
        "complete": bool(r["complete"]),
        "partial": bool(r["partial"]),
        "sources": list(r["sources"]),
        "partial_sources": list(r["partial_sources"]),
        "missing_sources": list(r["missing_sources"]),
        "unlinked_2024_codes": list(r["unlinked_2024_codes"]),
    }


def value_rows(
    store, indicators_db, name: str, *, vintage: int, year: int | None, source_vintage: int | None
) -> tuple[list[dict], dict]:
    """The values of one indicator per commune of `vintage`, as rows of plain values (JSON-ready),
    and what else the table says (a pre-2025 table on 2025 communes: the aggregation and a note).

    Computed indicators: one row per commune, from the store. Reported ones: the current values of
    `year` (None: each commune's latest), with their year and import version; keyed by
    `source_vintage=2009` on 2025 units, through the crosswalk with the flags of the join.
    `indicators_db` None: only computed indicators can be shown. Values of a count or a boolean
    that are whole are ints; NaN is null."""
    ind = load_indicators().get(name)
    integer = _is_integer(ind)
    units = store.frame(f"communes_{vintage}").drop(columns="geometry").set_index("commune_code")
    names = units["name"]
    if ind.source == "computed":
        if source_vintage not in (None, vintage):
            raise InvalidParameter(f"{name} is computed on the units themselves: leave source_vintage out")
        s = indicator_compute.compute(store, vintage, [name])[name]
        return [
            {"commune_code": code, "name": names.at[code], "value": _number(v, integer)} for code, v in s.items()
        ], {}
    if indicators_db is None:
        raise Unavailable("the indicator database is not open")
    if (source_vintage or vintage) == vintage:
        cur = indicators_db.current(name, vintage=vintage, year=year)
        rows = [
            {
                "commune_code": r.commune_code,
                "name": names.get(r.commune_code),
                "year": int(r.year),
                "value": _number(r.value, integer),
                "version": int(r.import_id),
            }
            for r in cur.itertuples(index=False)
        ]
        return rows, {}
    df = reform_values(store, indicators_db, name, year=year)
    rows = [_reform_row(code, names.get(code), r, integer) for code, r in df.iterrows()]
    return rows, {"aggregation": ind.aggregation, "note": REFORM_NOTE}


def reform_link_rows(store, status: str | None = None) -> tuple[dict, list[dict]]:
    """How pre-2025 (2009 census) units link to GSO 2024 codes and 2025 communes: the summary, and
    one JSON-ready row per unit (only those with link `status` when given)."""
    links = indicator_reform.links_for(store)
    units = links.units if status is None else links.units[links.units["status"] == status]
    names = store.frame("communes_2009").drop(columns="geometry").set_index("commune_code")
    rows = [
        {
            "commune_code": code,
            "name": names.at[code, "name"],
            "district": names.at[code, "district_name"],
            "province": names.at[code, "province_name"],
            "status": r["status"],
            "method": r["method"] or None,
            "code2024": r["code2024"] if isinstance(r["code2024"], str) else None,
            "candidates_2024": list(r["candidates"]),
            "communes_2025": list(r["targets"]),
            "partly_merged": bool(r["partly"]),
            "reason": r["reason"] or None,
        }
        for code, r in units.iterrows()
    ]
    return links.summary, rows


_LINK_DOCS = LRU(8, max_bytes=16 * 2**20)  # ~2.4 MB of JSON a document; in the shared budget


def reform_links_json(store, status: str | None = None) -> bytes:
    """The /indicators/links document (summary, count, units) as JSON bytes, made once per (store,
    data version, crosswalk, status): ~3 MB that took seconds to build and encode on every call."""
    key = (id(store), store.version, indicator_reform.crosswalk_key(store), status)

    def make() -> bytes:
        summary, rows = reform_link_rows(store, status)
        return orjson.dumps({"summary": summary, "count": len(rows), "units": rows}, option=orjson.OPT_NON_STR_KEYS)

    return _LINK_DOCS.get_or_make(key, make)
