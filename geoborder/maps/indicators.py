"""What a map needs of the indicator module: an indicator's title, unit and direction, and its
values on the communes of one unit vintage for one year."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geoborder.core.errors import InvalidParameter
from geoborder.indicators.catalog import DATA_YEAR, load_indicators
from geoborder.indicators.values import values_for


@dataclass(frozen=True)
class IndicatorInfo:
    """What a map needs to know of an indicator (title, unit, direction, where values come from)."""

    name: str
    vi: str
    en: str
    unit_vi: str
    unit_en: str
    source: str  # "computed" (from the store) or "reported" (from the indicator database)
    higher_is_better: bool | None = None
    integer: bool = False

    def title(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi

    def unit(self, lang: str = "vi") -> str:
        return self.unit_en if lang == "en" else self.unit_vi


def indicators() -> list[IndicatorInfo]:
    """Every indicator a map can show, in catalog order."""
    return [
        IndicatorInfo(
            i.name,
            i.vi,
            i.en,
            i.unit_vi,
            i.unit_en,
            i.source,
            i.higher_is_better,
            integer=i.type in ("count", "boolean"),
        )
        for i in load_indicators().indicators
    ]


def indicator(name: str) -> IndicatorInfo:
    for ind in indicators():
        if ind.name == name:
            return ind
    raise InvalidParameter(f"indicator: unknown indicator {name!r}; known: {', '.join(i.name for i in indicators())}")


def db_years(indicators_db, name: str, vintage: int) -> list[int]:
    """Every year with values of `name` on `vintage` units (not only the communes' latest years:
    the year switcher and the change maps offer each year imported)."""
    return sorted(int(y) for y in indicators_db.available(vintage).get(name, []))


def _reported_year(indicators_db, name: str, vintage: int, year: int | None) -> int:
    """The year a reported indicator is shown for (None: the latest imported), or a 400 saying why not."""
    if indicators_db is None:
        raise InvalidParameter(
            f"indicator: {name} is a reported indicator and no indicator database is configured on this service"
        )
    years = db_years(indicators_db, name, vintage)
    if not years:
        raise InvalidParameter(f"indicator: no values of {name} on {vintage} units have been imported")
    if year is None:
        return years[-1]
    if year not in years and not len(indicators_db.current(name, vintage=vintage, year=year)):
        raise InvalidParameter(
            f"year: no values of {name} on {vintage} units for {year}; years with values: {', '.join(map(str, years))}"
        )
    return year


def indicator_values(store, indicators_db, vintage: int, name: str, year: int | None) -> tuple[pd.Series, int]:
    """THE adapter from the indicator module to maps: values of one indicator on the communes
    of `vintage` (indexed by commune_code, NaN = no value) and the year they are for.

    Computed indicators come from the store and are for the year of the layer's attributes;
    reported ones from the indicator database (year None = the latest year imported).
    """
    info = indicator(name)
    if info.source == "computed":
        data_year = DATA_YEAR[vintage]
        if year is not None and year != data_year:
            raise InvalidParameter(f"year: {info.en} on {vintage} units is known for {data_year} only, not {year}")
        year = data_year
    else:
        year = _reported_year(indicators_db, name, vintage, year)
    reported_year = year if info.source == "reported" else None
    s = values_for(store, indicators_db, f"communes_{vintage}", [name], year=reported_year)[name]
    return pd.to_numeric(s, errors="coerce").astype(float), int(year)


def db_stamp(indicators_db) -> str:
    """The indicator database's revision (changes whenever values are imported, cheap: no count
    query per tile): part of the cache key of reported indicators."""
    if indicators_db is None:
        return ""
    return str(indicators_db.revision())
