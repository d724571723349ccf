"""The API tests on the real store: every test here is marked `parity`.

`make test` runs them once on the GeoPackage store and once more with
GEOBORDER_TEST_STORE=postgis (`pytest -m parity`): the real store published into the test
PostGIS cluster, so the same tests pass against both implementations (issue 8's parity suite).

`small`: a synthetic store of four communes, shared by the map tests.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geoborder.store.memory import MemoryStore

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    # a conftest hook sees the whole session's items: mark only those collected under tests/api/
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.parity)


@pytest.fixture(scope="module")
def small():
    """Four synthetic communes in two provinces; one without population (no data). A MemoryStore
    with a border commune, a gate, a settlement, a road and a border line (test_maps, test_map_page)."""
    boxes = [
        shapely.box(103.50, 21.0, 103.60, 21.1),
        shapely.box(103.60, 21.0, 103.70, 21.1),
        shapely.box(103.70, 21.0, 103.80, 21.1),
        shapely.box(104.50, 21.0, 104.60, 21.1),
    ]
    communes = gpd.GeoDataFrame(
        {
            "commune_code": ["00001", "00002", "00003", "00004"],
            "name": ["Mường Lèo", "Mường Lạn", "Chiềng Khương", "Tô Hiệu"],
            "unit_type": ["Xã", "Xã", "Xã", "Phường"],
            "province_code": ["14", "14", "14", "15"],
            "province_name": ["Sơn La", "Sơn La", "Sơn La", "Điện Biên"],
            "area_km2": [100.0, 100.0, 100.0, 50.0],
            "population": [1000.0, 5000.0, np.nan, 20000.0],
        },
        geometry=boxes,
        crs=4326,
    )
    border = communes.iloc[[0]].copy()
    border["border_length_km"] = [12.5]
    border["partner_countries"] = ["LAO"]
    border["partner_units"] = ["LA-HO Houaphan"]
    border["partner_lengths"] = ['{"LA-HO": 12.5}']
    gates = gpd.GeoDataFrame(
        {
            "gate_id": ["g1"],
            "name_vi": ["Chiềng Khương"],
            "gate_class": ["main"],
            "partner_gate": ["Ban Dan"],
            "commune_code_2025": ["00003"],
        },
        geometry=[shapely.Point(103.75, 21.05)],
        crs=4326,
    )
    places = gpd.GeoDataFrame(
        {"geonameid": ["1"], "name": ["Bản A"], "cc": ["VN"]}, geometry=[shapely.Point(103.55, 21.05)], crs=4326
    )
    roads = gpd.GeoDataFrame(
        {"road_id": [1], "name": ["QL12"], "road_type": ["Quốc lộ"], "is_railway": [False]},
        geometry=[shapely.LineString([(103.5, 21.0), (103.8, 21.1)])],
        crs=4326,
    )
    lines = gpd.GeoDataFrame(
        {"pair": ["VNM-LAO"]}, geometry=[shapely.LineString([(103.5, 21.0), (103.5, 21.1)])], crs=4326
    )
    store = MemoryStore(
        {
            "communes_2025": communes,
            "border_communes_2025": border,
            "gates": gates,
            "places": places,
            "roads": roads,
            "border_lines": lines,
        },
        version="small-1",
    )
    return store
