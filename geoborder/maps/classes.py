"""Classes of a map: bounds (quantiles, natural breaks, equal interval: mapclassify's, computed
here with numpy), colours, counts, and the legend's labels. Values that are NaN are "no data", a class of their own, never 0.

A legend says what the map has (issue 13): a class no value falls in is not a class (ties that
collapse quantiles, empty equal intervals), so `n_classes` may be fewer than the k asked; each
class's bounds are the smallest and largest of its members, never a break no value reaches.
Natural breaks on more than NATURAL_BREAKS_EXACT values are computed on a fixed sample of
NATURAL_BREAKS_SAMPLE order statistics (the exact minimum and maximum among them): the same
breaks on every call, so every legend and tile of a map page agree.

mapclassify is not imported: it imports scikit-learn and SciPy (~80 MB of every worker, issue 18)
for the three classifiers used here, which are a few lines of numpy each. `quantile_bins`,
`equal_interval_bins` and `class_of` give the very numbers of mapclassify's `Quantiles`,
`EqualInterval` and `UserDefined` (tests/unit/test_map_classes.py checks them against it)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from geoborder.core.errors import InvalidParameter
from geoborder.maps.colours import NO_DATA_COLOR, class_colors

METHODS = ("quantiles", "natural_breaks", "equal_interval")
K_MIN, K_MAX, K_DEFAULT = 2, 9, 5
#: natural breaks are exact up to this many values (every map on the 3,321 communes of 2025) ...
NATURAL_BREAKS_EXACT = 3_500
#: ... and above it computed on this many evenly spaced order statistics (bench/legend.py)
NATURAL_BREAKS_SAMPLE = 2_000


class Labels(TypedDict):
    """The words of maps and legends in one language."""

    no_data: str
    method: dict[str, str]  # method -> its name
    all: str
    border: str
    border_communes: str
    k_fewer: str  # format(asked=, k=)


LABELS: dict[str, Labels] = {
    "vi": {
        "no_data": "Không có số liệu",
        "method": {"quantiles": "phân vị", "natural_breaks": "ngắt tự nhiên", "equal_interval": "khoảng đều"},
        "all": "Toàn quốc",
        "border": "Các tỉnh biên giới",
        "border_communes": "Các xã biên giới",
        "k_fewer": "chọn {asked} lớp; số liệu chỉ tách được {k}",
    },
    "en": {
        "no_data": "No data",
        "method": {"quantiles": "quantiles", "natural_breaks": "natural breaks", "equal_interval": "equal interval"},
        "all": "Whole country",
        "border": "Border provinces",
        "border_communes": "Border communes",
        "k_fewer": "{asked} asked; the values make only {k}",
    },
}


def check_method(method: str, k: int) -> None:
    """400 for a classification the maps do not offer."""
    if method not in METHODS:
        raise InvalidParameter(f"classes: unknown method {method!r}; use one of {', '.join(METHODS)}")
    if not K_MIN <= k <= K_MAX:
        raise InvalidParameter(f"k: the number of classes must be between {K_MIN} and {K_MAX}, not {k}")


def fisher_jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Exact Fisher-Jenks upper bounds (the same optimum as mapclassify.FisherJenks).

    mapclassify's pure-Python FisherJenks takes ~17 s on 3,321 values without numba; this is
    the same dynamic programme vectorised with numpy (~0.2 s).
    """
    y = np.sort(np.asarray(values, dtype=float))
    n = len(y)
    k = min(k, len(np.unique(y)))
    if k <= 1:
        return np.array([y[-1]])
    s1 = np.concatenate([[0.0], np.cumsum(y)])
    s2 = np.concatenate([[0.0], np.cumsum(y * y)])
    ends = np.arange(1, n + 1)
    prev = s2[ends] - s1[ends] ** 2 / ends  # one class covering y[0:b]
    back = np.zeros((k, n + 1), dtype=np.int64)
    starts = np.arange(n + 1)
    for j in range(1, k):
        cur = np.full(n + 1, np.inf)
        prev_full = np.concatenate([[np.inf], prev])  # prev_full[a] = cost of j classes over y[0:a]
        for lo in range(j + 1, n + 1, 512):
            hi = min(lo + 512, n + 1)
            b = np.arange(lo, hi)[:, None]
            a = starts[None, j : hi - 1]  # a class starts at a >= j and ends before b (a < b)
            cnt = b - a
            with np.errstate(divide="ignore", invalid="ignore"):
                ssd = (s2[b] - s2[a]) - (s1[b] - s1[a]) ** 2 / cnt
            cost = np.where(a < b, prev_full[a] + ssd, np.inf)
            arg = np.argmin(cost, axis=1)
            cur[b[:, 0]] = cost[np.arange(len(arg)), arg]
            back[j, b[:, 0]] = arg + j
        prev = cur[1:]
    bounds = []
    end = n  # the classes are y[start:end], from the last one back
    for j in range(k - 1, 0, -1):
        bounds.append(y[end - 1])
        end = int(back[j, end])
    bounds.append(y[end - 1])
    return np.array(sorted(bounds))


def quantile_bins(y: np.ndarray, k: int) -> np.ndarray:
    """mapclassify.Quantiles(y, k).bins: the unique scores at percentiles 100/k, 200/k ... 100,
    each as scipy.stats.scoreatpercentile computes it (linear between the two order statistics
    around it, weighted and summed in that order)."""
    s = np.sort(np.asarray(y).flatten())
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    scores = []
    for pct in p:
        idx = pct / 100.0 * (len(s) - 1)
        i = int(idx)
        if i == idx:
            scores.append(np.add.reduce(s[i : i + 1] * np.array(1)) / 1.0)
        else:
            weights = np.array([(i + 1 - idx), (idx - i)], float)
            scores.append(np.add.reduce(s[i : i + 2] * weights) / weights.sum())
    return np.unique(np.array(scores))


def equal_interval_bins(y: np.ndarray, k: int) -> np.ndarray:
    """mapclassify.EqualInterval(y, k).bins: k intervals of equal width, the last ending at the
    maximum (`y` has at least two distinct values)."""
    max_y, min_y = max(y), min(y)
    width = (max_y - min_y) * 1.0 / k
    cuts = np.arange(min_y + width, max_y + width, width)
    if len(cuts) > k:  # overshooting
        cuts = cuts[0:k]
    cuts[-1] = max_y
    return cuts.copy()


def class_of(y: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """mapclassify.UserDefined(y, bins).yb for increasing `bins` whose last is >= max(y): the
    class of each value, the first bin it does not exceed (bins[c - 1] < y <= bins[c])."""
    return np.searchsorted(np.asarray(bins, dtype=float), y, side="left").astype(np.int64)


@dataclass(frozen=True)
class Classification:
    method: str
    k: int  # classes asked for
    bins: tuple[float, ...]  # upper break of each class shown (the last is the maximum)
    minimum: float | None
    colors: tuple[str, ...]
    counts: tuple[int, ...]  # every one > 0: a class no value falls in is not shown
    no_data: int
    lows: tuple[float, ...] = ()  # smallest member of each class
    highs: tuple[float, ...] = ()  # largest member of each class

    @property
    def n_classes(self) -> int:
        """The classes the map really has (may be fewer than `k`: ties, empty intervals)."""
        return len(self.bins)


def natural_breaks_sample(y: np.ndarray) -> np.ndarray:
    """The values natural breaks are computed on: all of them up to NATURAL_BREAKS_EXACT, else
    NATURAL_BREAKS_SAMPLE evenly spaced order statistics, the minimum and maximum among them.
    A fixed sample (no random draw): the same values give the same breaks, in any order."""
    y = np.sort(np.asarray(y, dtype=float))
    if len(y) <= NATURAL_BREAKS_EXACT:
        return y
    return y[np.round(np.linspace(0, len(y) - 1, NATURAL_BREAKS_SAMPLE)).astype(np.int64)]


def _bins(y: np.ndarray, method: str, k: int) -> np.ndarray:
    """Upper class bounds of the finite values `y`, unique, the last one the maximum."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n_unique = len(np.unique(y))
        if n_unique <= 1:
            bins = np.array([y.max()])
        elif method == "quantiles":
            bins = quantile_bins(y, min(k, n_unique))
        elif method == "equal_interval":
            bins = equal_interval_bins(y, k)
        else:
            bins = fisher_jenks_bins(natural_breaks_sample(y), k)
    bins = np.unique(np.asarray(bins, dtype=float))
    bins[-1] = max(bins[-1], y.max())
    return bins


def classify(
    values: np.ndarray, method: str, k: int, *, higher_is_better: bool | None = None
) -> tuple[Classification, np.ndarray]:
    """Classes of `values` (NaN = no data): the classification and each value's class (-1 = no data).

    Classes no value falls in are dropped (the values' classes do not change: an empty class's
    interval joins the next one's), so classes, colours and counts are those the map shows."""
    check_method(method, k)
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values)
    yb = np.full(len(values), -1, dtype=np.int16)
    y = values[ok]
    if len(y) == 0:
        return Classification(method, k, (), None, (), (), int((~ok).sum())), yb
    bins = _bins(y, method, k)
    raw = class_of(y, bins)
    counts = np.bincount(raw, minlength=len(bins))
    kept = np.flatnonzero(counts > 0)
    renumber = np.full(len(bins), -1, dtype=np.int64)
    renumber[kept] = np.arange(len(kept))
    classes = renumber[raw].astype(np.int16)
    yb[ok] = classes
    n = len(kept)
    lows = np.full(n, np.inf)
    highs = np.full(n, -np.inf)
    np.minimum.at(lows, classes, y)
    np.maximum.at(highs, classes, y)
    return Classification(
        method,
        k,
        tuple(float(b) for b in bins[kept]),
        float(y.min()),
        class_colors(n, higher_is_better=higher_is_better),
        tuple(int(c) for c in counts[kept]),
        int((~ok).sum()),
        tuple(float(v) for v in lows),
        tuple(float(v) for v in highs),
    ), yb


def fmt_number(v: float | None, lang: str = "vi", *, integer: bool = False) -> str:
    """A number as people write it: 12.345,6 in Vietnamese, 12,345.6 in English."""
    if v is None or not math.isfinite(v):
        return LABELS[lang]["no_data"]
    if integer or abs(v) >= 1000:
        s = f"{v:,.0f}"
    elif abs(v) >= 10:
        s = f"{v:,.1f}"
    else:
        s = f"{v:,.2f}"
    if lang == "vi":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return s


def legend(c: Classification, info, lang: str = "vi", fmt=None) -> list[dict]:
    """Legend entries, lowest class first, then "no data": colour, label, count. A class's
    `lower` and `upper` (and its label) are the smallest and largest of its members.
    `info`: the indicator (an IndicatorInfo); its `integer` says how the bounds are written, by
    `fmt(value, lang, integer=...)` (default fmt_number; change maps write signed bounds)."""
    fmt = fmt or fmt_number
    out = []
    for i, (lower, upper, color, count) in enumerate(zip(c.lows, c.highs, c.colors, c.counts)):
        lo = fmt(lower, lang, integer=info.integer)
        hi = fmt(upper, lang, integer=info.integer)
        label = hi if lo == hi else f"{lo} – {hi}"
        out.append({"class": i, "color": color, "lower": lower, "upper": upper, "label": label, "count": count})
    out.append(
        {
            "class": -1,
            "color": NO_DATA_COLOR,
            "lower": None,
            "upper": None,
            "label": LABELS[lang]["no_data"],
            "count": c.no_data,
        }
    )
    return out


def k_text(c: Classification, lang: str = "vi") -> str:
    """ "k = 5", or when the values make fewer classes than asked "k = 2 (5 asked; ...)"."""
    if c.n_classes == c.k:
        return f"k = {c.k}"
    return f"k = {c.n_classes} ({LABELS[lang]['k_fewer'].format(asked=c.k, k=c.n_classes)})"
