"""Shared parts of the spatial questions: the metric cache (keyed by store.version), parameter
validation, commune-layer helpers and the GeoJSON output."""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Iterable

import numpy as np
import orjson
import pandas as pd
import shapely
from shapely import STRtree

from geoborder.core.cache import LRU
from geoborder.core.crs import reproject
from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.store.base import Store

WGS84 = "EPSG:4326"
VINTAGES = (2009, 2025)
#: a point origin must lie within this distance of Vietnam (DCW country polygon)
NEIGHBOURHOOD_KM = 200.0


# --------------------------------------------------------------------------- metric cache


class _Metric:
    """Metric geometries, trees and unions of one store at one data version."""

    def __init__(self, store: Store):
        self.version = store.version
        cat = store.catalog
        self.crs = cat.build["metric_crs"]
        self.min_km = float(cat.build.get("border_commune_min_km", 0.5))
        self._geoms: dict[str, np.ndarray] = {}
        self._trees: dict[str, STRtree] = {}
        self._memo: dict = {}
        # the inputs of one unit or partner asked for (a province's union and zone, a partner's
        # part of the line): the most recent ones only, a crawler over every unit does not grow
        # the worker (issue 18); the others are the same for every request and kept
        self._asked = LRU(ASKED_KEPT)
        self._lock = threading.RLock()

    def geoms(self, store, layer_id: str) -> np.ndarray:
        with self._lock:
            g = self._geoms.get(layer_id)
            if g is None:
                raw = np.asarray(store.frame(layer_id).geometry.values, dtype=object)
                g = np.full(len(raw), None, dtype=object)
                has = ~shapely.is_missing(raw)
                if has.any():
                    m = reproject(raw[has], WGS84, self.crs)
                    bad = ~shapely.is_valid(m)
                    if bad.any():
                        m[bad] = shapely.make_valid(m[bad], method="structure", keep_collapsed=False)
                    g[has] = m
                self._geoms[layer_id] = g
            return g

    def tree(self, store, layer_id: str) -> STRtree:
        with self._lock:
            t = self._trees.get(layer_id)
            if t is None:
                t = STRtree(self.geoms(store, layer_id))
                self._trees[layer_id] = t
            return t

    def memo(self, key, make, *, asked: bool = False):
        """`make()`, made once per data version and `key`. `asked`: an input of one unit or partner
        a request named (not the default of its question): held among the latest ASKED_KEPT only."""
        if asked:
            return self._asked.get_or_make(key, make)
        with self._lock:
            if key not in self._memo:
                self._memo[key] = make()
            return self._memo[key]


#: how many inputs of particular units or partners (`memo(..., asked=True)`) a worker keeps per data version
ASKED_KEPT = 16


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHE_BY_ID: dict = {}
_CACHE_LOCK = threading.Lock()


def _metric(store) -> _Metric:
    """The metric cache of `store`, rebuilt when its data version changes."""
    with _CACHE_LOCK:
        try:
            m = _CACHE.get(store)
        except TypeError:  # a store that cannot be weakly referenced
            m = _CACHE_BY_ID.get(id(store))
        if m is None or m.version != store.version:
            m = _Metric(store)
            try:
                _CACHE[store] = m
            except TypeError:
                _CACHE_BY_ID[id(store)] = m
        return m


def metric_geometries(store, layer_id: str) -> np.ndarray:
    """A layer's geometries in the metric CRS (cached per store version)."""
    return _metric(store).geoms(store, layer_id)


# --------------------------------------------------------------------------- GeoJSON output


def _clean(v):
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _round_coords(geoms: np.ndarray, decimals: int = 6) -> np.ndarray:
    """Coordinates rounded to `decimals`; a geometry that rounding made invalid (a small ring
    collapsed to too few points) is snapped to the same grid by GEOS' precision reducer instead,
    which keeps it valid (the twin of features.precision.rounded)."""
    geoms = np.asarray(geoms, dtype=object)
    has = ~shapely.is_missing(geoms)
    out = geoms.copy()
    if not has.any():
        return out
    out[has] = shapely.transform(geoms[has], lambda c: np.round(c, decimals))
    bad = np.zeros(len(out), dtype=bool)
    bad[has] = ~shapely.is_valid(out[has])
    for i in np.flatnonzero(bad):
        if not shapely.is_valid(geoms[i]):
            continue  # invalid before rounding: left as it is
        try:
            fixed = shapely.set_precision(out[i], 10.0**-decimals)
        except shapely.errors.GEOSException:
            fixed = shapely.make_valid(out[i])
        again = shapely.transform(fixed, lambda c: np.round(c, decimals))
        out[i] = again if shapely.is_valid(again) else fixed
    return out


def _features(props: list[dict], geoms_wgs84: Iterable, ids: Iterable | None = None) -> list[dict]:
    """GeoJSON features; geometries encoded by GEOS in one call, coordinates to 6 decimals."""
    geoms = _round_coords(np.asarray(list(geoms_wgs84), dtype=object))
    ok = ~shapely.is_missing(geoms)
    ok[ok] = ~shapely.is_empty(geoms[ok])
    encoded = np.full(len(geoms), None, dtype=object)
    if ok.any():
        encoded[ok] = shapely.to_geojson(geoms[ok])
    ids = list(ids) if ids is not None else [None] * len(props)
    out = []
    for p, g, fid in zip(props, encoded, ids):
        f: dict[str, object] = {"type": "Feature"}
        if fid is not None:
            f["id"] = _clean(fid)
        f["geometry"] = orjson.loads(g) if g is not None else None
        f["properties"] = {k: _clean(v) for k, v in p.items()}
        out.append(f)
    return out


def _collection(features: list[dict], **members) -> dict:
    fc: dict[str, object] = {"type": "FeatureCollection"}
    fc.update({k: _clean(v) for k, v in members.items()})
    fc["numberReturned"] = len(features)
    fc["features"] = features
    return fc


def _to_wgs84(m: _Metric, geoms) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    has = ~shapely.is_missing(geoms)
    if has.any():
        out[has] = reproject(geoms[has], m.crs, WGS84)
    return out


# --------------------------------------------------------------------------- validation


def _vintage(v) -> int:
    try:
        v = int(v)
    except (TypeError, ValueError):
        raise InvalidParameter(f"vintage must be one of {', '.join(map(str, VINTAGES))}, not {v!r}") from None
    if v not in VINTAGES:
        raise InvalidParameter(f"vintage must be one of {', '.join(map(str, VINTAGES))}, not {v}")
    return v


def _number(name: str, value, *, low: float = 0.0, high: float, allow_low: bool = True) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidParameter(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(x):
        raise InvalidParameter(f"{name} must be a finite number, not {value!r}")
    if x < low or (x == low and not allow_low) or x > high:
        op = ">=" if allow_low else ">"
        raise InvalidParameter(f"{name} must be {op} {low:g} and <= {high:g}, not {value!r}")
    return x


def _nonempty(param: str, text) -> str:
    if text is None or not str(text).strip():
        raise InvalidParameter(f"{param} must not be empty")
    return str(text).strip()


def _split_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    out: list[str] = []
    for v in value:
        out.extend(x.strip() for x in str(v).split(",") if x.strip())
    return out


def _vn_outline(store):
    m = _metric(store)

    def make():
        try:
            c = store.frame("countries")
        except NotFound:
            return None
        g = m.geoms(store, "countries")[(c["code"] == "VN").to_numpy()]
        return shapely.union_all(g) if len(g) else None

    return m.memo(("vn_outline",), make)


def _countries(store, countries) -> tuple[str, ...] | None:
    wanted = _split_list(countries)
    if not wanted or any(v.lower() == "all" for v in wanted):
        return None
    known = set(store.frame("places")["cc"].dropna().unique())
    out = [v.upper() for v in wanted]
    bad = [v for v in out if v not in known]
    if bad:
        raise InvalidParameter(
            f"unknown country code(s) {', '.join(bad)}; settlements have: "
            f"{', '.join(sorted(known))} (ISO 3166 alpha-2), or 'all'"
        )
    return tuple(sorted(set(out)))


# --------------------------------------------------------------------------- communes


def _commune_layer(vintage: int) -> str:
    return f"communes_{vintage}"


def _find_commune(store, param: str, code) -> tuple[str, int, int]:
    """A commune by 5-digit 2025 GSO code or 7-digit 2009 census code: the code, its vintage and
    its row in communes_{vintage}. A malformed or unknown code raises InvalidParameter."""
    code = str(code).strip()
    if not re.fullmatch(r"\d{5}|\d{7}", code):
        raise InvalidParameter(
            f"{param} must be a 5-digit 2025 GSO commune code or a 7-digit 2009 census code, not {code!r}"
        )
    vintage = 2025 if len(code) == 5 else 2009
    hit = np.flatnonzero((store.frame(_commune_layer(vintage))["commune_code"] == code).to_numpy())
    if not len(hit):
        raise InvalidParameter(f"{param}: unknown {vintage} commune code {code!r}")
    return code, vintage, int(hit[0])


def _seat_row(store, code: str) -> int | None:
    """Row of a 2025 commune's seat in commune_seats_2025; None when the store has none."""
    hit = np.flatnonzero((store.frame("commune_seats_2025")["commune_code"] == code).to_numpy())
    return int(hit[0]) if len(hit) else None


def _commune_rows(store, vintage: int, codes) -> np.ndarray:
    """Row of each commune code in communes_{vintage}; -1 for a code it does not hold."""
    c = store.frame(_commune_layer(vintage))
    pos = pd.Series(np.arange(len(c)), index=c["commune_code"].to_numpy())
    return pos.reindex(list(codes)).fillna(-1).astype(np.int64).to_numpy()


def _commune_keys(vintage: int) -> list[str]:
    keys = ["commune_code", "name", "unit_type", "province_code", "province_name", "population"]
    if vintage == 2009:
        keys[3:3] = ["district_code", "district_name"]
    else:
        keys.append("area_km2")
    return keys


def _commune_props(row: pd.Series, vintage: int) -> dict:
    return {k: row.get(k) for k in _commune_keys(vintage)}


def _commune_records(frame: pd.DataFrame, rows, vintage: int) -> list[dict]:
    """The main attributes of some communes, as dicts (one pandas call, not one per row)."""
    keys = [k for k in _commune_keys(vintage) if k in frame.columns]
    return frame.iloc[np.asarray(rows, dtype=np.int64)][keys].to_dict("records")


def _place_communes(store, vintage: int) -> np.ndarray:
    """Row of the commune (of `vintage`) holding each settlement, -1 when none."""
    m = _metric(store)

    def make():
        layer = _commune_layer(vintage)
        pts = m.geoms(store, "places")
        out = np.full(len(pts), -1, dtype=np.int64)
        pi, ci = m.tree(store, layer).query(pts, predicate="within")
        order = np.lexsort((ci, pi))
        pi, ci = pi[order], ci[order]
        first = np.unique(pi, return_index=True)[1]
        out[pi[first]] = ci[first]
        return out

    return m.memo(("place_communes", vintage), make)
