"""Issue 13 (6c): a count or a boolean is an integer in the value tables (`204`, not `204.0`);
a missing value stays null; rates and measures stay floats."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geoborder.indicators.values import value_rows
from geoborder.store.memory import MemoryStore


def _store() -> MemoryStore:
    communes = gpd.GeoDataFrame(
        {
            "commune_code": ["00001", "00002", "00003"],
            "name": ["Mường Lèo", "Mường Lạn", "Chiềng Khương"],
            "province_code": ["14", "14", "14"],
            "province_name": ["Sơn La", "Sơn La", "Sơn La"],
            "area_km2": [100.0, 80.0, 120.5],
            "population": [1000.0, np.nan, 5000.0],
        },
        geometry=[shapely.box(103.5 + i / 10, 21.0, 103.6 + i / 10, 21.1) for i in range(3)],
        crs=4326,
    )
    border = communes.iloc[[0]].assign(border_length_km=[12.5])
    gates = gpd.GeoDataFrame(
        {"gate_id": ["g1"], "name_vi": ["Chiềng Khương"], "commune_code_2025": ["00003"]},
        geometry=[shapely.Point(103.75, 21.05)],
        crs=4326,
    )
    places = gpd.GeoDataFrame({"name": ["Bản A"], "cc": ["VN"]}, geometry=[shapely.Point(103.55, 21.05)], crs=4326)
    roads = gpd.GeoDataFrame(
        {"road_id": [1], "is_railway": [False]}, geometry=[shapely.LineString([(103.5, 21.0), (103.8, 21.1)])], crs=4326
    )
    layers = {"communes_2025": communes, "border_communes_2025": border, "gates": gates, "places": places}
    return MemoryStore({**layers, "roads": roads}, version="ints-1")


def test_a_computed_count_is_an_int_and_a_missing_one_null():
    rows, _ = value_rows(_store(), None, "population", vintage=2025, year=None, source_vintage=None)
    values = {r["commune_code"]: r["value"] for r in rows}
    assert values == {"00001": 1000, "00002": None, "00003": 5000}
    assert type(values["00001"]) is int and type(values["00003"]) is int


def test_a_computed_measure_stays_a_float():
    rows, _ = value_rows(_store(), None, "area_km2", vintage=2025, year=None, source_vintage=None)
    values = {r["commune_code"]: r["value"] for r in rows}
    assert values == {"00001": 100.0, "00002": 80.0, "00003": 120.5}
    assert all(type(v) is float for v in values.values())


def test_a_missing_pandas_integer_is_null_not_an_error():
    # the stores give count fields as pandas Int64 (missing = pd.NA), the tables take them as they are
    import pandas as pd

    from geoborder.indicators.values import _number

    assert _number(pd.NA, True) is None and _number(np.int64(204), True) == 204
    assert type(_number(np.int64(204), True)) is int and _number(float("nan"), True) is None
