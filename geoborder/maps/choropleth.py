"""Choropleth maps of commune indicators: values, areas, classes, colours and legends.

No web framework here. `choropleth(store, indicators_db, spec)` gives everything a map needs
(the communes of the area, their values, class and colour, the legend) and is cached per data
version; the PNG tiles (geoborder.tiles.render), the map page (web/maps.py), the feature lookup and the
GeoJSON download all read the same result, so the download is exactly what is on the map.

Classification uses mapclassify: quantiles, natural breaks (Fisher-Jenks, exact) and equal
interval, with k classes. Communes without a value are a class of their own ("no data"), never 0.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import mapclassify
import numpy as np
import pandas as pd
import shapely

from geoborder.core.cache import LRU
from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.indicators.catalog import DATA_YEAR

VINTAGES = (2025, 2009)
METHODS = ("quantiles", "natural_breaks", "equal_interval")
K_MIN, K_MAX, K_DEFAULT = 2, 9, 5
AREAS = ("all", "border", "border_communes")  # or a province code of the vintage

NO_DATA_COLOR = "#c8c8c8"
# ColorBrewer sequential schemes (Cynthia Brewer, colorbrewer2.org), 9 classes; fewer classes
# take the ColorBrewer sub-scheme of that size.
_SCHEMES = {
    # "higher is worse" or neutral: yellow -> red
    "YlOrRd": {
        2: ["#ffeda0", "#f03b20"],
        3: ["#ffeda0", "#feb24c", "#f03b20"],
        4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
        5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
        6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
        7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
        8: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
        9: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"],
    },
    # "higher is better": yellow -> green -> blue
    "YlGnBu": {
        2: ["#edf8b1", "#2c7fb8"],
        3: ["#edf8b1", "#7fcdbb", "#2c7fb8"],
        4: ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
        5: ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"],
        6: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"],
        7: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
        8: ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
        9: ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"],
    },
}

LABELS = {
    "vi": {
        "no_data": "Không có số liệu",
        "method": {"quantiles": "phân vị", "natural_breaks": "ngắt tự nhiên", "equal_interval": "khoảng đều"},
        "all": "Toàn quốc",
        "border": "Các tỉnh biên giới",
        "border_communes": "Các xã biên giới",
    },
    "en": {
        "no_data": "No data",
        "method": {"quantiles": "quantiles", "natural_breaks": "natural breaks", "equal_interval": "equal interval"},
        "all": "Whole country",
        "border": "Border provinces",
        "border_communes": "Border communes",
    },
}


# --------------------------------------------------------------------------- indicators


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


# Used only when geoborder.indicators.catalog (the indicator catalog) is not available.
_FALLBACK = (
    IndicatorInfo("population", "Dân số", "Population", "người", "people", "computed", integer=True),
    IndicatorInfo("area_km2", "Diện tích", "Area", "km²", "km²", "computed"),
    IndicatorInfo("density", "Mật độ dân số", "Population density", "người/km²", "people/km²", "computed"),
)


def _catalog():
    try:
        from geoborder.indicators.catalog import load_indicators
    except ImportError:  # the indicator module is optional for maps
        return None
    return load_indicators()


def indicators() -> list[IndicatorInfo]:
    """Every indicator a map can show, in catalog order."""
    cat = _catalog()
    if cat is None:
        return list(_FALLBACK)
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
        for i in cat.indicators
    ]


def indicator(name: str) -> IndicatorInfo:
    for ind in indicators():
        if ind.name == name:
            return ind
    raise InvalidParameter(f"indicator: unknown indicator {name!r}; known: {', '.join(i.name for i in indicators())}")


def _fallback_values(store, vintage: int, name: str) -> pd.Series:
    communes = store.frame(f"communes_{vintage}")
    codes = pd.Index(communes["commune_code"].astype(str), name="commune_code")
    pop = pd.to_numeric(communes["population"], errors="coerce").to_numpy(dtype=float)
    if "area_km2" in communes.columns:
        area = pd.to_numeric(communes["area_km2"], errors="coerce").to_numpy(dtype=float)
    else:
        area = pd.to_numeric(communes["area_ha"], errors="coerce").to_numpy(dtype=float) / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(area > 0, pop / area, np.nan)
    return pd.Series({"population": pop, "area_km2": area, "density": density}[name], index=codes, name=name)


def _db_years(indicators_db, name: str, vintage: int) -> list[int]:
    """Years with values (an IndicatorDB.years() when there is one, else each commune's latest year)."""
    years = getattr(indicators_db, "years", None)
    if callable(years):
        return sorted(int(y) for y in years(name, vintage=vintage))
    cur = indicators_db.current(name, vintage=vintage, year=None)
    return sorted({int(y) for y in cur["year"]}) if len(cur) else []


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
        if indicators_db is None:
            raise InvalidParameter(
                f"indicator: {name} is a reported indicator and no indicator database is configured on this service"
            )
        years = _db_years(indicators_db, name, vintage)
        if not years:
            raise InvalidParameter(f"indicator: no values of {name} on {vintage} units have been imported")
        if year is None:
            year = years[-1]
        elif year not in years and not len(indicators_db.current(name, vintage=vintage, year=year)):
            raise InvalidParameter(
                f"year: no values of {name} on {vintage} units for {year}; "
                f"years with values: {', '.join(map(str, years))}"
            )
    layer_id = f"communes_{vintage}"
    if _catalog() is None:
        s = _fallback_values(store, vintage, name)
    else:
        from geoborder.indicators.values import values_for

        s = values_for(store, indicators_db, layer_id, [name], year=year if info.source == "reported" else None)[name]
    return pd.to_numeric(s, errors="coerce").astype(float), int(year)


# --------------------------------------------------------------------------- classification


def fisher_jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    """Exact Fisher-Jenks upper bounds (the same optimum as mapclassify.FisherJenks).

    mapclassify's pure-Python FisherJenks takes ~17 s on 3,321 values without numba; this is
    the same dynamic programme vectorised with numpy (~0.3 s), handed to mapclassify.UserDefined.
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
            b = np.arange(lo, min(lo + 512, n + 1))[:, None]
            a = starts[None, :]
            cnt = b - a
            with np.errstate(divide="ignore", invalid="ignore"):
                ssd = (s2[b] - s2[a]) - (s1[b] - s1[a]) ** 2 / cnt
            cost = np.where((a >= j) & (a < b), prev_full[a] + ssd, np.inf)
            arg = np.argmin(cost, axis=1)
            cur[b[:, 0]] = cost[np.arange(len(arg)), arg]
            back[j, b[:, 0]] = arg
        prev = cur[1:]
    bounds = []
    b = n
    for j in range(k - 1, 0, -1):
        bounds.append(y[b - 1])
        b = int(back[j, b])
    bounds.append(y[b - 1])
    return np.array(sorted(bounds))


@dataclass(frozen=True)
class Classification:
    method: str
    k: int  # classes asked for
    bins: tuple[float, ...]  # upper bound of each class (the last is the maximum)
    minimum: float | None
    colors: tuple[str, ...]
    counts: tuple[int, ...]
    no_data: int

    @property
    def n_classes(self) -> int:
        return len(self.bins)


def classify(
    values: np.ndarray, method: str, k: int, *, higher_is_better: bool | None = None
) -> tuple[Classification, np.ndarray]:
    """Classes of `values` (NaN = no data): the classification and each value's class (-1 = no data)."""
    if method not in METHODS:
        raise InvalidParameter(f"classes: unknown method {method!r}; use one of {', '.join(METHODS)}")
    if not K_MIN <= k <= K_MAX:
        raise InvalidParameter(f"k: the number of classes must be between {K_MIN} and {K_MAX}, not {k}")
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values)
    yb = np.full(len(values), -1, dtype=np.int16)
    y = values[ok]
    if len(y) == 0:
        return Classification(method, k, (), None, (), (), int((~ok).sum())), yb
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n_unique = len(np.unique(y))
        if n_unique <= 1:
            bins = np.array([y.max()])
        elif method == "quantiles":
            bins = mapclassify.Quantiles(y, k=min(k, n_unique)).bins
        elif method == "equal_interval":
            bins = mapclassify.EqualInterval(y, k=k).bins
        else:
            bins = fisher_jenks_bins(y, k)
        bins = np.unique(np.asarray(bins, dtype=float))
        bins[-1] = max(bins[-1], y.max())
        cls = mapclassify.UserDefined(y, bins=list(bins), lowest=float(y.min()))
    classes = np.asarray(cls.yb, dtype=np.int16)
    yb[ok] = classes
    n = len(bins)
    scheme = _SCHEMES["YlGnBu" if higher_is_better else "YlOrRd"]
    colors = tuple(scheme[max(n, 2)][:n]) if n >= 2 else (scheme[3][1],)
    counts = tuple(int((classes == i).sum()) for i in range(n))
    return Classification(
        method, k, tuple(float(b) for b in bins), float(y.min()), colors, counts, int((~ok).sum())
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


def legend(c: Classification, info: IndicatorInfo, lang: str = "vi") -> list[dict]:
    """Legend entries, lowest class first, then "no data": colour, label (class bounds), count."""
    out = []
    lower = c.minimum
    for i, (upper, color, count) in enumerate(zip(c.bins, c.colors, c.counts)):
        lo = fmt_number(lower, lang, integer=info.integer)
        hi = fmt_number(upper, lang, integer=info.integer)
        label = hi if lo == hi else f"{lo} – {hi}"
        out.append({"class": i, "color": color, "lower": lower, "upper": upper, "label": label, "count": count})
        lower = upper
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


# --------------------------------------------------------------------------- areas


@dataclass(frozen=True)
class Area:
    key: str  # "all", "border", "border_communes" or a province code
    vi: str
    en: str
    mask: np.ndarray = field(repr=False, compare=False)  # over the rows of communes_<vintage>

    def title(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi


def provinces(store, vintage: int) -> list[tuple[str, str]]:
    """(province code, name) of every province of the vintage, by name."""
    communes = store.frame(f"communes_{vintage}")
    pairs = communes[["province_code", "province_name"]].drop_duplicates().astype(str)
    return sorted(map(tuple, pairs.to_numpy()), key=lambda p: p[1])


def border_province_codes(store, vintage: int) -> set[str]:
    return set(store.frame(f"border_communes_{vintage}")["province_code"].astype(str))


def area(store, vintage: int, key: str) -> Area:
    communes = store.frame(f"communes_{vintage}")
    prov = communes["province_code"].astype(str).to_numpy()
    if key == "all":
        mask = np.ones(len(communes), dtype=bool)
        return Area(key, LABELS["vi"]["all"], LABELS["en"]["all"], mask)
    if key == "border":
        mask = np.isin(prov, list(border_province_codes(store, vintage)))
        return Area(key, LABELS["vi"]["border"], LABELS["en"]["border"], mask)
    if key == "border_communes":
        codes = store.frame(f"border_communes_{vintage}")["commune_code"].astype(str)
        mask = np.isin(communes["commune_code"].astype(str).to_numpy(), codes.to_numpy())
        return Area(key, LABELS["vi"]["border_communes"], LABELS["en"]["border_communes"], mask)
    names = dict(provinces(store, vintage))
    if key not in names:
        raise InvalidParameter(
            f"area: {key!r} is not all, border, border_communes or a province code of the {vintage} units "
            f"(e.g. {', '.join(f'{c} {n}' for c, n in list(names.items())[:3])}; list: /maps)"
        )
    return Area(key, names[key], names[key], prov == key)


# --------------------------------------------------------------------------- the map's data


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
        if self.method not in METHODS:
            raise InvalidParameter(f"classes: unknown method {self.method!r}; use one of {', '.join(METHODS)}")
        if not K_MIN <= self.k <= K_MAX:
            raise InvalidParameter(f"k: the number of classes must be between {K_MIN} and {K_MAX}, not {self.k}")
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

    def legend(self, lang: str = "vi") -> list[dict]:
        return legend(self.classification, self.info, lang)

    def color_of(self, cls: int) -> str:
        return NO_DATA_COLOR if cls < 0 else self.classification.colors[cls]

    def label_of(self, cls: int, lang: str = "vi") -> str:
        return legend(self.classification, self.info, lang)[cls]["label"] if cls >= 0 else LABELS[lang]["no_data"]


def db_stamp(indicators_db) -> str:
    """Changes whenever values are imported: part of the cache key of reported indicators."""
    if indicators_db is None:
        return ""
    stamp = getattr(indicators_db, "version", None)
    if stamp is not None:
        return str(stamp() if callable(stamp) else stamp)
    return str(indicators_db.counts().get("imports", ""))

    def __len__(self) -> int:
        return len(self._d)


_MAPS = LRU(64)


def choropleth(store, indicators_db, spec: MapSpec) -> Choropleth:
    """The map of `spec`, cached per (data version, indicator imports, spec)."""
    spec.check()
    info = indicator(spec.indicator)
    stamp = db_stamp(indicators_db) if info.source == "reported" else ""
    version = f"{store.version}:{stamp}"
    return _MAPS.get_or_make((id(store), version, spec), lambda: _make(store, indicators_db, spec, info, version))


def _make(store, indicators_db, spec: MapSpec, info: IndicatorInfo, version: str) -> Choropleth:
    communes = store.frame(f"communes_{spec.vintage}")
    ar = area(store, spec.vintage, spec.area)
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
    return Choropleth(
        spec=spec,
        year=year,
        info=info,
        area=ar,
        values=values,
        classes=classes,
        classification=cls,
        bounds=tuple(float(v) for v in b),
        version=version,
    )


def clear_cache() -> None:
    _MAPS.clear()


# --------------------------------------------------------------------------- lookup, download

_TREES = LRU(8)

FIELD_LABELS = {
    "vi": {
        "commune": "Xã",
        "province": "Tỉnh",
        "district": "Huyện",
        "code": "Mã",
        "year": "Năm",
        "class": "Lớp",
        "border_length": "Chiều dài biên giới",
        "faces": "Giáp với",
        "population": "Dân số",
        "outside": "Ngoài vùng bản đồ",
    },
    "en": {
        "commune": "Commune",
        "province": "Province",
        "district": "District",
        "code": "Code",
        "year": "Year",
        "class": "Class",
        "border_length": "Border length",
        "faces": "Faces",
        "population": "Population",
        "outside": "Outside the map's area",
    },
}


def _tree(store, layer_id: str) -> shapely.STRtree:
    return _TREES.get_or_make(
        (id(store), store.version, layer_id),
        lambda: shapely.STRtree(np.asarray(store.frame(layer_id).geometry.values, dtype=object)),
    )


def commune_at(store, vintage: int, lon: float, lat: float) -> int | None:
    """The row (in communes_<vintage>) of the commune containing lon/lat, or None."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidParameter(f"lon/lat: {lon}, {lat} is not a longitude/latitude")
    hits = _tree(store, f"communes_{vintage}").query(shapely.Point(lon, lat), predicate="intersects")
    return int(min(hits)) if len(hits) else None


def describe(store, ch: Choropleth, row: int, lang: str = "vi") -> dict:
    """One commune of the map, as a popup shows it: its figures, class and (border communes) the
    partner units it faces. `fields` are ready-to-show [label, text] pairs in `lang`."""
    communes = store.frame(ch.layer_id)
    rec = communes.iloc[row]
    code = str(rec["commune_code"])
    value = ch.values[row] if ch.area.mask[row] else np.nan
    cls = int(ch.classes[row])
    L = FIELD_LABELS[lang]
    value_text = fmt_number(value, lang, integer=ch.info.integer)
    if math.isfinite(value):
        value_text += f" {ch.info.unit(lang)}"
    fields = [[L["code"], code], [L["province"], str(rec["province_name"])]]
    if "district_name" in communes.columns and rec.get("district_name"):
        fields.append([L["district"], str(rec["district_name"])])
    fields += [[ch.info.title(lang), value_text], [L["year"], str(ch.year)]]
    if ch.area.mask[row]:
        fields.append([L["class"], ch.label_of(cls, lang)])
    else:
        fields.append([L["class"], L["outside"]])
    border = store.frame(f"border_communes_{ch.spec.vintage}")
    b = border[border["commune_code"].astype(str) == code]
    out_border = None
    if len(b):
        br = b.iloc[0]
        out_border = {
            "length_km": float(br["border_length_km"]),
            "partner_countries": br.get("partner_countries"),
            "partner_units": br.get("partner_units"),
        }
        fields.append([L["border_length"], f"{fmt_number(float(br['border_length_km']), lang)} km"])
        if br.get("partner_units"):
            fields.append([L["faces"], str(br["partner_units"])])
    return {
        "commune_code": code,
        "name": str(rec["name"]),
        "unit_type": rec.get("unit_type"),
        "province_code": str(rec["province_code"]),
        "province_name": str(rec["province_name"]),
        "indicator": ch.spec.indicator,
        "value": float(value) if math.isfinite(value) else None,
        "value_text": value_text,
        "unit": ch.info.unit(lang),
        "year": ch.year,
        "vintage": ch.spec.vintage,
        "in_area": bool(ch.area.mask[row]),
        "class": cls if ch.area.mask[row] else None,
        "class_label": ch.label_of(cls, lang) if ch.area.mask[row] else None,
        "color": ch.color_of(cls) if ch.area.mask[row] else None,
        "border": out_border,
        "title": f"{rec.get('unit_type') or ''} {rec['name']}".strip(),
        "fields": fields,
    }


def geojson(store, ch: Choropleth, lang: str = "vi") -> bytes:
    """The communes of the map's area with value, year and class: exactly what the map shows."""
    import orjson

    communes = store.frame(ch.layer_id)
    rows = np.flatnonzero(ch.area.mask)
    legend_ = ch.legend(lang)
    keep = [
        c
        for c in (
            "commune_code",
            "name",
            "unit_type",
            "district_code",
            "district_name",
            "province_code",
            "province_name",
        )
        if c in communes.columns
    ]
    attrs = communes[keep].iloc[rows].astype(object).where(communes[keep].iloc[rows].notna(), None)
    geoms = shapely.to_geojson(np.asarray(communes.geometry.values[rows], dtype=object))
    parts = []
    for rec, r, g in zip(attrs.to_dict("records"), rows, geoms):
        v = ch.values[r]
        cls = int(ch.classes[r])
        props = dict(rec)
        props.update(
            {
                "indicator": ch.spec.indicator,
                "value": float(v) if math.isfinite(v) else None,
                "unit": ch.info.unit(lang),
                "year": ch.year,
                "vintage": ch.spec.vintage,
                "class": cls if cls >= 0 else None,
                "class_label": legend_[cls]["label"],
                "color": ch.color_of(cls),
            }
        )
        parts.append(
            b'{"type":"Feature","id":'
            + orjson.dumps(str(rec["commune_code"]))
            + b',"geometry":'
            + (g.encode() if g is not None else b"null")
            + b',"properties":'
            + orjson.dumps(props)
            + b"}"
        )
    meta = {
        "indicator": ch.spec.indicator,
        "title": ch.info.title(lang),
        "unit": ch.info.unit(lang),
        "year": ch.year,
        "vintage": ch.spec.vintage,
        "area": ch.spec.area,
        "area_title": ch.area.title(lang),
        "classes": ch.spec.method,
        "k": ch.spec.k,
        "legend": legend_,
        "data_version": ch.version,
    }
    return (
        b'{"type":"FeatureCollection","geoborder:map":'
        + orjson.dumps(meta)
        + b',"numberReturned":'
        + str(len(parts)).encode()
        + b',"features":['
        + b",".join(parts)
        + b"]}"
    )
