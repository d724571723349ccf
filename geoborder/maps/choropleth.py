"""Choropleth maps of commune indicators: one indicator, on one unit vintage, in one area, classified.

No web framework here. `choropleth(store, indicators_db, spec)` gives everything a map needs
(the communes of the area, their values, class and colour, the legend) and is cached per data
version; the PNG tiles (geoborder.tiles.render), the map page (web/maps.py), the feature lookup
and the GeoJSON download (geoborder.maps.lookup) all read the same result, so the download is
exactly what is on the map.

The parts: geoborder.maps.indicators (values), .areas (which communes), .classes (mapclassify
classes and the legend), .colours (ColorBrewer). Their names used with a map are re-exported here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import shapely

from geoborder.core.cache import LRU
from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.indicators.saved_areas import saved_areas_revision
from geoborder.maps.areas import AREAS, Area, area, border_province_codes, is_builtin, provinces
from geoborder.maps.classes import (
    K_DEFAULT,
    K_MAX,
    K_MIN,
    LABELS,
    METHODS,
    Classification,
    check_method,
    classify,
    fisher_jenks_bins,
    fmt_number,
    k_text,
    legend,
)
from geoborder.maps.colours import NO_DATA_COLOR
from geoborder.maps.indicators import IndicatorInfo, db_stamp, db_years, indicator, indicator_values, indicators

__all__ = [
    "AREAS",
    "K_DEFAULT",
    "K_MAX",
    "K_MIN",
    "LABELS",
    "METHODS",
    "NO_DATA_COLOR",
    "VINTAGES",
    "Area",
    "Choropleth",
    "Classification",
    "IndicatorInfo",
    "MapSpec",
    "area",
    "border_province_codes",
    "choropleth",
    "classify",
    "clear_cache",
    "db_years",
    "fisher_jenks_bins",
    "fmt_number",
    "indicator",
    "indicator_values",
    "indicators",
    "k_text",
    "legend",
    "provinces",
]

VINTAGES = (2025, 2009)


@dataclass(frozen=True)
class MapSpec:
    """What a planner chose: one indicator, on one unit vintage, in one area, classified one way."""

    indicator: str
    vintage: int = 2025
    area: str = "border"
    year: int | None = None
    method: str = "quantiles"
    k: int = K_DEFAULT

    def check(self) -> MapSpec:
        if self.vintage not in VINTAGES:
            raise InvalidParameter(
                f"vintage: unit vintage must be one of {', '.join(map(str, VINTAGES))}, not {self.vintage}"
            )
        check_method(self.method, self.k)
        indicator(self.indicator)
        return self


@dataclass(frozen=True)
class Choropleth:
    """Everything one map shows. Arrays are over the rows of communes_<vintage> (store order)."""

    spec: MapSpec
    year: int
    info: IndicatorInfo
    area: Area
    values: np.ndarray = field(repr=False)  # float, NaN = no data
    classes: np.ndarray = field(repr=False)  # int16 class, -1 = no data
    classification: Classification
    bounds: tuple[float, float, float, float]  # lon/lat box of the area
    version: str  # data version + indicator import stamp: cache key

    @property
    def layer_id(self) -> str:
        return f"communes_{self.spec.vintage}"

    @property
    def k(self) -> int:
        """The classes the map really has (the legend's k), maybe fewer than asked (`spec.k`)."""
        return self.classification.n_classes

    def k_text(self, lang: str = "vi") -> str:
        return k_text(self.classification, lang)

    def legend(self, lang: str = "vi") -> list[dict]:
        return legend(self.classification, self.info, lang)

    def color_of(self, cls: int) -> str:
        return NO_DATA_COLOR if cls < 0 else self.classification.colors[cls]

    def label_of(self, cls: int, lang: str = "vi") -> str:
        return legend(self.classification, self.info, lang)[cls]["label"] if cls >= 0 else LABELS[lang]["no_data"]


_MAPS = LRU(64)
_MAKING: dict = {}  # key -> the lock of the one request computing that map
_MAKING_LOCK = threading.Lock()


def choropleth(store, indicators_db, spec: MapSpec) -> Choropleth:
    """The map of `spec`, cached per (data version, indicator revision, spec: indicator, vintage,
    area, year, method, k). Requests of one new map at once (a page's legend, lookup and tiles)
    wait for one computation instead of each making its own."""
    spec.check()
    info = indicator(spec.indicator)
    stamp = db_stamp(indicators_db) if info.source == "reported" else ""
    version = f"{store.version}:{stamp}"
    if not is_builtin(spec.area):  # maybe a saved area: its revision keys the map (and its ETags)
        version += f":areas.{saved_areas_revision(indicators_db)}"
    key = (id(store), version, spec)

    def make() -> Choropleth:
        return _make(store, indicators_db, spec, info, version)

    with _MAKING_LOCK:
        lock = _MAKING.setdefault(key, threading.Lock())
    try:
        with lock:
            return _MAPS.get_or_make(key, make)
    finally:
        with _MAKING_LOCK:
            if _MAKING.get(key) is lock:
                del _MAKING[key]


def _make(store, indicators_db, spec: MapSpec, info: IndicatorInfo, version: str) -> Choropleth:
    communes = store.frame(f"communes_{spec.vintage}")
    ar = area(store, spec.vintage, spec.area, indicators_db)
    series, year = indicator_values(store, indicators_db, spec.vintage, spec.indicator, spec.year)
    values = series.reindex(communes["commune_code"].astype(str)).to_numpy(dtype=float)
    values = np.where(ar.mask, values, np.nan)
    cls, yb = classify(values[ar.mask], spec.method, spec.k, higher_is_better=info.higher_is_better)
    classes = np.full(len(communes), -1, dtype=np.int16)
    classes[ar.mask] = yb
    geoms = communes.geometry.values[ar.mask]
    b = shapely.total_bounds(np.asarray(geoms, dtype=object)) if len(geoms) else (np.nan,) * 4
    if not np.all(np.isfinite(b)):
        raise NotFound(f"area {spec.area!r} has no communes on {spec.vintage} units")
    x0, y0, x1, y1 = (float(v) for v in b)
    return Choropleth(
        spec=spec,
        year=year,
        info=info,
        area=ar,
        values=values,
        classes=classes,
        classification=cls,
        bounds=(x0, y0, x1, y1),
        version=version,
    )


def clear_cache() -> None:
    _MAPS.clear()
