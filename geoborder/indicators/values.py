"""Indicator values on the features of a commune layer: computed ones from the store, reported
ones from the indicator database, pre-2025 tables on 2025 communes through the crosswalk."""

from __future__ import annotations

import pandas as pd

from geoborder.core.errors import InvalidParameter
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
