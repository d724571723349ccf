"""Change maps: one indicator between two years on one unit vintage, as a difference or a %
change, drawn with a diverging palette whose classes are symmetric around 0 (issue 15).

`change_map(store, indicators_db, spec)` gives a `ChangeMap`: a `Choropleth` whose values are
the change, so the PNG tiles, legend, lookup, table and downloads read it as any other map. The
two years' maps are the ordinary `choropleth()` maps of `spec.base_year` and `spec.year` (same
area, same communes), so a change map is exactly the difference of the two maps a planner can
open. A commune with no value in either year has no change (no data): nothing is filled in. A
% change of a commune whose base is 0 is no data too, and counted (`zero_base`).

Classes: the classification method (quantiles, natural breaks, equal interval) is applied to
the non-zero |change| with k // 2 classes, bounds u1 < ... < um; falls are [-ui, -u(i-1)), rises
(u(i-1), ui], and no change (0) a class of its own: limits symmetric around 0, a hue that always
says the sign. Colours are ColorBrewer's diverging schemes (branca): the "better" side is blue
(RdBu) following the indicator's `higher_is_better` (a fall in poverty is blue), PuOr (orange =
a fall, purple = a rise) when the indicator has no direction.

`map_of(store, indicators_db, spec)` is the one entry the routes use: a change map for a
`ChangeSpec`, the ordinary map for a `MapSpec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from geoborder.core.cache import LRU
from geoborder.core.errors import InvalidParameter
from geoborder.indicators.catalog import DATA_YEAR, load_indicators
from geoborder.maps import choropleth as C
from geoborder.maps.classes import LABELS, Classification, _bins, check_method, fmt_number, legend
from geoborder.maps.colours import scheme_colors
from geoborder.maps.shared import SharedSpec, shared_map

MEASURES = ("difference", "percent")
GOOD_HIGH_SCHEME = "RdBu"  # low (a fall) red, high (a rise) blue: a rise is good
GOOD_LOW_SCHEME = "RdBu_r"  # a fall is blue: good
NEUTRAL_SCHEME = "PuOr"  # no direction: orange for a fall, purple for a rise

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "change": "Thay đổi",
        "difference": "hiệu số",
        "percent": "% thay đổi",
        "pp": "điểm %",
        "zero_base": "{n} xã có giá trị năm {year} bằng 0: không tính được % thay đổi",
    },
    "en": {
        "change": "Change",
        "difference": "difference",
        "percent": "% change",
        "pp": "percentage points",
        "zero_base": "{n} communes with a {year} value of 0: no % change",
    },
}


@dataclass(frozen=True)
class ChangeSpec(C.MapSpec):
    """A change map: `indicator` from `base_year` to `year` (None: the latest year), measured as
    `measure` (difference or percent)."""

    base_year: int = 0
    measure: str = "difference"

    def check(self) -> ChangeSpec:
        super().check()
        if self.measure not in MEASURES:
            raise InvalidParameter(f"measure: use one of {', '.join(MEASURES)}, not {self.measure!r}")
        info = C.indicator(self.indicator)
        if self.measure == "percent" and load_indicators().get(self.indicator).type == "boolean":
            raise InvalidParameter(f"measure: a % change of {info.en} (yes/no) means nothing; use measure=difference")
        if self.year is not None and self.base_year == self.year:
            raise InvalidParameter(f"from: the change from {self.base_year} to {self.year} needs two different years")
        if self.year is not None and self.base_year > self.year:
            raise InvalidParameter(f"from: {self.base_year} is after the map's year {self.year}; give the earlier year")
        return self

    def year_spec(self, year: int | None) -> C.MapSpec:
        """The ordinary map of one of the two years."""
        return C.MapSpec(self.indicator, self.vintage, self.area, year, self.method, self.k)


@dataclass(frozen=True)
class ChangeMap(C.Choropleth):
    """A change map: `values` is the change from `base_year` to `year`; `base_values` and
    `to_values` the two years' values (NaN = no data), `breaks` the symmetric class limits."""

    base_year: int = 0
    measure: str = "difference"
    base_values: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    to_values: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    breaks: tuple[float, ...] = ()  # -um ... -u1, u1 ... um (the middle class is [-u1, u1])
    zero_base: int = 0  # communes of the area whose base is 0 (percent: no % change)
    source_info: C.IndicatorInfo | None = None  # the indicator itself (title and unit of its values)

    def legend(self, lang: str = "vi") -> list[dict]:
        """The legend with signed bounds (+1,5 – +4,0), lowest change first, then "no data"."""
        return legend(self.classification, self.info, lang, fmt=fmt_change)

    def label_of(self, cls: int, lang: str = "vi") -> str:
        return self.legend(lang)[cls]["label"] if cls >= 0 else LABELS[lang]["no_data"]

    def short_title(self, lang: str = "vi") -> str:
        """ "Thay đổi 2017 → 2024" / "% change 2017 → 2024": a legend's heading."""
        word = TEXT[lang]["percent"] if self.measure == "percent" else TEXT[lang]["change"]
        return f"{word[:1].upper()}{word[1:]} {self.base_year} → {self.year}"

    def note(self, lang: str = "vi") -> str:
        """What the legend says besides the classes (communes without a % change)."""
        if self.measure == "percent" and self.zero_base:
            return TEXT[lang]["zero_base"].format(n=self.zero_base, year=self.base_year)
        return ""


def change_unit(info: C.IndicatorInfo, measure: str, lang: str) -> str:
    """The unit of a change: % for a % change, percentage points for a difference of shares
    (unit %), otherwise the indicator's own unit."""
    if measure == "percent":
        return "%"
    if info.unit_en == "%":
        return TEXT[lang]["pp"]
    return info.unit(lang)


def change_info(info: C.IndicatorInfo, base_year: int, year: int, measure: str) -> C.IndicatorInfo:
    """The change map's "indicator": its title says what changed between which years."""
    if measure == "percent":
        vi = f"% thay đổi {info.vi[:1].lower()}{info.vi[1:]}, {base_year} → {year}"
        en = f"% change in {info.en[:1].lower()}{info.en[1:]}, {base_year} → {year}"
    else:
        vi = f"{TEXT['vi']['change']} {info.vi[:1].lower()}{info.vi[1:]}, {base_year} → {year}"
        en = f"{TEXT['en']['change']} in {info.en[:1].lower()}{info.en[1:]}, {base_year} → {year}"
    return C.IndicatorInfo(
        info.name,
        vi,
        en,
        change_unit(info, "difference" if measure == "difference" else "percent", "vi"),
        change_unit(info, "difference" if measure == "difference" else "percent", "en"),
        info.source,
        info.higher_is_better,
        integer=info.integer and measure == "difference",
    )


def diverging_colors(n: int, higher_is_better: bool | None) -> tuple[str, ...]:
    """`n` (odd) diverging ColorBrewer colours, the most negative change first."""
    scheme = NEUTRAL_SCHEME if higher_is_better is None else GOOD_HIGH_SCHEME if higher_is_better else GOOD_LOW_SCHEME
    return scheme_colors(scheme, n)


def classify_change(
    values: np.ndarray, method: str, k: int, *, higher_is_better: bool | None
) -> tuple[Classification, np.ndarray, tuple[float, ...]]:
    """Classes of a change, symmetric around 0: (classification, class of each value (-1 = no
    data), the symmetric limits -um ... -u1, 0, u1 ... um).

    The method is applied to the non-zero |change| with m = k // 2 classes (bounds u1 < ... < um);
    a fall is in [-ui, -u(i-1)), a rise in (u(i-1), ui], and no change (exactly 0) is a class of
    its own in the scale's neutral middle colour. So a hue always says the sign: a commune that
    fell a little is never drawn as unchanged. Classes no value falls in are not shown, and the
    others keep their place on the 2m + 1 colours of the diverging scale."""
    check_method(method, k)
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values)
    yb = np.full(len(values), -1, dtype=np.int16)
    y = values[ok]
    if len(y) == 0:
        return Classification(method, k, (), None, (), (), int((~ok).sum())), yb, ()
    m = max(1, k // 2)
    a = np.abs(y)
    nonzero = a > 0
    u = _bins(a[nonzero], method, m) if nonzero.any() else np.array([0.0])
    m = len(u)
    n = 2 * m + 1  # m falls, no change, m rises
    j = np.minimum(np.searchsorted(u, a, side="left"), m - 1)  # |v| <= u[j]
    raw = np.where(~nonzero, m, np.where(y > 0, m + 1 + j, m - 1 - j)).astype(np.int64)
    counts = np.bincount(raw, minlength=n)
    kept = np.flatnonzero(counts > 0)
    renumber = np.full(n, -1, dtype=np.int64)
    renumber[kept] = np.arange(len(kept))
    classes = renumber[raw].astype(np.int16)
    yb[ok] = classes
    limits = np.concatenate([-u[::-1], [0.0], u])  # the n + 1 limits; class i is limits[i]..limits[i+1]
    uppers = np.concatenate([-u[::-1][1:], [0.0], [0.0], u])  # the upper limit of each class
    colors = diverging_colors(n, higher_is_better)
    lows = np.full(len(kept), np.inf)
    highs = np.full(len(kept), -np.inf)
    np.minimum.at(lows, classes, y)
    np.maximum.at(highs, classes, y)
    cls = Classification(
        method,
        k,
        tuple(float(b) for b in uppers[kept]),
        float(y.min()),
        tuple(colors[i] for i in kept),
        tuple(int(c) for c in counts[kept]),
        int((~ok).sum()),
        tuple(float(v) for v in lows),
        tuple(float(v) for v in highs),
    )
    return cls, yb, tuple(float(b) for b in limits)


def change_values(base: np.ndarray, to: np.ndarray, measure: str) -> tuple[np.ndarray, int]:
    """The change of each commune (NaN when either year has no value, or a % change of a base
    0) and how many bases were 0 where both years have a value."""
    both = np.isfinite(base) & np.isfinite(to)
    if measure == "difference":
        return np.where(both, to - base, np.nan), 0
    zero = both & (base == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(both & ~zero, (to - base) / np.abs(base) * 100.0, np.nan)
    return pct, int(zero.sum())


_MAPS = LRU(32)


def change_map(store, indicators_db, spec: ChangeSpec) -> ChangeMap:
    """The change map of `spec`, cached per (data version, indicator revision, spec)."""
    spec.check()
    info = C.indicator(spec.indicator)
    years = all_years(indicators_db, info, spec.vintage)
    if len(years) < 2:
        raise InvalidParameter(
            f"from: {info.en} on {spec.vintage} units has values for "
            f"{', '.join(map(str, years)) or 'no year'} only; a change map needs two years"
        )
    if spec.base_year not in years:
        raise InvalidParameter(
            f"from: no values of {info.name} on {spec.vintage} units for {spec.base_year}; "
            f"years with values: {', '.join(map(str, years))}"
        )
    to = C.choropleth(store, indicators_db, spec.year_spec(spec.year))
    if to.year == spec.base_year:
        raise InvalidParameter(f"from: the change from {spec.base_year} to {to.year} needs two different years")
    if spec.base_year > to.year:
        raise InvalidParameter(f"from: {spec.base_year} is after the map's year {to.year}; give the earlier year")
    base = C.choropleth(store, indicators_db, spec.year_spec(spec.base_year))
    key = (id(store), to.version, replace(spec, year=to.year))
    return _MAPS.get_or_make(key, lambda: _make(spec, base, to))


def _make(spec: ChangeSpec, base: C.Choropleth, to: C.Choropleth) -> ChangeMap:
    mask = to.area.mask
    base_v = np.where(mask, base.values, np.nan)
    to_v = np.where(mask, to.values, np.nan)
    values, zero = change_values(base_v, to_v, spec.measure)
    if spec.measure == "percent" and zero and not np.isfinite(values).any():
        raise InvalidParameter(
            f"measure: every commune with values in {base.year} and {to.year} has {base.year} = 0, "
            "so there is no % change; use measure=difference"
        )
    cls, yb, breaks = classify_change(values[mask], spec.method, spec.k, higher_is_better=to.info.higher_is_better)
    classes = np.full(len(values), -1, dtype=np.int16)
    classes[mask] = yb
    return ChangeMap(
        spec=spec,
        year=to.year,
        info=change_info(to.info, base.year, to.year, spec.measure),
        area=to.area,
        values=values,
        classes=classes,
        classification=cls,
        bounds=to.bounds,
        version=to.version,
        base_year=base.year,
        measure=spec.measure,
        base_values=base_v,
        to_values=to_v,
        breaks=breaks,
        zero_base=zero,
        source_info=to.info,
    )


def all_years(indicators_db, info: C.IndicatorInfo, vintage: int) -> list[int]:
    """Every year with values of an indicator on `vintage` units (a computed one: its data year)."""
    if info.source == "computed":
        return [DATA_YEAR[vintage]]
    if indicators_db is None:
        return []
    return sorted(int(y) for y in indicators_db.available(vintage).get(info.name, []))


def map_of(store, indicators_db, spec: C.MapSpec) -> C.Choropleth:
    """The map of `spec`: a change map for a ChangeSpec, a map classified with another year's
    values for a SharedSpec (geoborder.maps.shared), else the ordinary choropleth."""
    if isinstance(spec, ChangeSpec):
        return change_map(store, indicators_db, spec)
    if isinstance(spec, SharedSpec):
        return shared_map(store, indicators_db, spec)
    return C.choropleth(store, indicators_db, spec)


def change_of(ch: C.Choropleth) -> tuple[int, int, str] | None:
    """(from, to, measure) of a change map, None for the map of one year."""
    return (ch.base_year, ch.year, ch.measure) if isinstance(ch, ChangeMap) else None


def fmt_change(v: float, lang: str, *, integer: bool = False) -> str:
    """A change as people write it, with its sign: +1,5 / −2,0 (0 without a sign)."""
    if v is None or not math.isfinite(v):
        return LABELS[lang]["no_data"]
    s = fmt_number(abs(v), lang, integer=integer)
    return s if s.strip("0,.") == "" else ("+" if v > 0 else "−") + s
