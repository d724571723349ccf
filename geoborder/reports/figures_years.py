"""The values of one indicator's years in a border-area report (geoborder.reports.figures): on the
report's units and on the units they were reported on, carried across the 2025 reform through the
crosswalk when they were reported on pre-2025 units; and the report's vintage of units."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geoborder.indicators import reform as indicator_reform
from geoborder.reports.areas import ReportArea


def _weights(store, vintage: int, kind: str | None) -> pd.Series:
    c = store.frame(f"communes_{vintage}")
    idx = c["commune_code"].astype(str).to_numpy()
    if kind == "area":
        w = c["area_km2"] if vintage == 2025 else pd.to_numeric(c["area_ha"], errors="coerce") / 100.0
    else:
        w = c["population"]
    return pd.Series(pd.to_numeric(w, errors="coerce").astype(float).to_numpy(), index=idx)


def _names(store, vintage: int) -> pd.Series:
    c = store.frame(f"communes_{vintage}")
    return pd.Series(c["name"].astype(str).to_numpy(), index=c["commune_code"].astype(str).to_numpy())


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _commune(code: str, names: pd.Series) -> dict:
    return {"commune_code": code, "name": names.get(code)}


@dataclass
class _Year:
    """One year of one indicator: the values on the report's units and on the reported units."""

    year: int
    units: int | None  # the vintage the values were reported on; None: no value
    per: pd.Series  # on the report's communes (NaN: no value)
    weights: pd.Series  # on the report's communes
    reported: pd.Series  # on the area's communes of `units`
    versions: pd.Series  # import id of each reported value (area's communes of `units`)
    carried: pd.DataFrame | None = None  # reform_join.to_2025 rows of the report's communes


class _Context:
    def __init__(self, store, db, area: ReportArea, vintage: int):
        self.store, self.db, self.area, self.vintage = store, db, area, vintage
        self.codes = {v: pd.Index(area.codes[v], name="commune_code") for v in (2009, 2025)}
        self.names = {v: _names(store, v) for v in (2009, 2025)}
        self._links = None
        self._area_links = None
        self._available: dict[int, dict] = {}

    def available(self, vintage: int) -> dict[str, list[int]]:
        if vintage not in self._available:
            self._available[vintage] = self.db.available(vintage)
        return self._available[vintage]

    @property
    def links(self):
        if self._links is None:
            self._links = indicator_reform.links_for(self.store)
        return self._links

    @property
    def area_links(self):
        """The links of the units that went into the area's 2025 communes only: to_2025 over
        them gives the same rows for those communes, without walking every unit of the country."""
        if self._area_links is None:
            links, want = self.links, set(self.codes[2025])
            hit = links.units["targets"].map(lambda ts: bool(set(ts) & want) if isinstance(ts, list) else False)
            xw = links.crosswalk[links.crosswalk["new"].isin(want)]
            self._area_links = dataclasses.replace(links, units=links.units[hit], crosswalk=xw)
        return self._area_links

    def year(self, ind, year: int) -> _Year:
        V = self.vintage
        on25 = V == 2025 and year in self.available(2025).get(ind.name, [])
        on09 = year in self.available(2009).get(ind.name, [])
        nan = pd.Series(np.nan, index=self.codes[V], dtype=float)
        if not on25 and not on09:
            empty = pd.Series(dtype=float)
            return _Year(year, None, nan, nan, empty, empty)
        units = 2025 if on25 else 2009
        cur = self.db.current(ind.name, vintage=units, year=year)
        cur = cur.assign(commune_code=cur["commune_code"].astype(str)).set_index("commune_code")
        values, ids = cur["value"].astype(float), cur["import_id"].astype(int)
        w = _weights(self.store, units, ind.weight)
        reported = values.reindex(self.codes[units])
        versions = ids.reindex(self.codes[units]).dropna().astype(int)
        if units == V:
            return _Year(year, units, reported, w.reindex(self.codes[V]), reported, versions)
        carried = indicator_reform.to_2025(values, ind, self.area_links, self.store).reindex(self.codes[V])
        per = pd.to_numeric(carried["value"], errors="coerce").astype(float)
        cw = pd.Series(
            [
                float(w.reindex(list(s)).sum()) if isinstance(s, list) and s else np.nan
                for s in carried["sources"].tolist()
            ],
            index=self.codes[V],
        )
        src = sorted({u for s in carried["sources"].dropna() for u in s})
        versions = ids.reindex(src).dropna().astype(int)
        return _Year(year, units, per, cw, reported, versions, carried)


def _vintage_for(ctx_db, area: ReportArea, inds, start: int, end: int) -> int:
    avail25 = ctx_db.available(2025)
    if any(start <= y <= end for ind in inds for y in avail25.get(ind.name, [])):
        return 2025
    return area.vintage
