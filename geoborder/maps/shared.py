"""Maps of two years on one scale: the classes of a map computed over its values and those of
another year (same indicator, units and area), so two maps side by side share one legend and a
colour means the same value on both (issue 15). Each map's own quantiles would make two years
look alike however much the values moved.

`shared_map(store, indicators_db, spec)` gives a `SharedMap`, a `Choropleth` whose values are
those of `spec.year` and whose classes come from the pooled values of both years: the classes
are those the pooled values fill, each with the smallest and largest pooled member as bounds (the
same legend on both maps), and this map's count (which may be 0).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from geoborder.core.cache import LRU
from geoborder.core.errors import InvalidParameter
from geoborder.maps import choropleth as C
from geoborder.maps.classes import Classification, _bins, class_of
from geoborder.maps.colours import class_colors


@dataclass(frozen=True)
class SharedSpec(C.MapSpec):
    """The map of `year` classified together with the values of `classes_with`."""

    classes_with: int = 0

    def year_spec(self, year: int | None) -> C.MapSpec:
        return C.MapSpec(self.indicator, self.vintage, self.area, year, self.method, self.k)


@dataclass(frozen=True)
class SharedMap(C.Choropleth):
    classes_with: int = 0


_MAPS = LRU(32)


def shared_map(store, indicators_db, spec: SharedSpec) -> SharedMap:
    spec.check()
    this = C.choropleth(store, indicators_db, spec.year_spec(spec.year))
    try:
        other = C.choropleth(store, indicators_db, spec.year_spec(spec.classes_with))
    except InvalidParameter as exc:  # say which parameter: the other year is `classes_with`
        msg = str(exc)
        raise InvalidParameter("classes_with:" + msg.split(":", 1)[1] if msg.startswith("year:") else msg) from exc
    key = (id(store), this.version, replace(spec, year=this.year))
    return _MAPS.get_or_make(key, lambda: _make(spec, this, other))


def _make(spec: SharedSpec, this: C.Choropleth, other: C.Choropleth) -> SharedMap:
    mask = this.area.mask
    a = this.values[mask]
    b = other.values[mask]
    pooled = np.concatenate([a[np.isfinite(a)], b[np.isfinite(b)]])
    classes = np.full(len(this.values), -1, dtype=np.int16)
    if len(pooled) == 0:
        cls = this.classification
    else:
        bins = _bins(pooled, spec.method, spec.k)
        raw_pool = class_of(pooled, bins)
        kept = np.flatnonzero(np.bincount(raw_pool, minlength=len(bins)) > 0)
        renumber = np.full(len(bins), -1, dtype=np.int64)
        renumber[kept] = np.arange(len(kept))
        pool_cls = renumber[raw_pool]
        n = len(kept)
        lows = np.full(n, np.inf)
        highs = np.full(n, -np.inf)
        np.minimum.at(lows, pool_cls, pooled)
        np.maximum.at(highs, pool_cls, pooled)
        ok = np.isfinite(a)
        own = renumber[class_of(a[ok], bins)].astype(np.int16)
        yb = np.full(len(a), -1, dtype=np.int16)
        yb[ok] = own
        classes[mask] = yb
        cls = Classification(
            spec.method,
            spec.k,
            tuple(float(v) for v in bins[kept]),
            float(pooled.min()),
            class_colors(n, higher_is_better=this.info.higher_is_better),
            tuple(int(c) for c in np.bincount(own, minlength=n)),
            int((~ok).sum()),
            tuple(float(v) for v in lows),
            tuple(float(v) for v in highs),
        )
    return SharedMap(
        spec=spec,
        year=this.year,
        info=this.info,
        area=this.area,
        values=this.values,
        classes=classes,
        classification=cls,
        bounds=this.bounds,
        version=this.version,
        classes_with=other.year,
    )
