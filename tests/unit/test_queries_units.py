"""geoborder.queries on a small in-memory store (geoborder.store.memory.MemoryStore): the adjacency
tolerance, name resolution and the metric cache, with geometry built for the purpose (no real pack
needed)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.geometry

from geoborder import queries as q
from geoborder.core.catalog import load_catalog
from geoborder.core.crs import reproject
from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.store.memory import MemoryStore

# in the parity run as it was when the run was a list of files (it needs no store: MemoryStore only)
pytestmark = pytest.mark.parity

METRIC = load_catalog().build["metric_crs"]
X0, Y0 = 400_000.0, 2_330_000.0  # UTM 48N, around 104°E 21°N


def _gdf(rows, geoms_metric):
    return gpd.GeoDataFrame(
        rows, geometry=list(reproject(np.array(geoms_metric, dtype=object), METRIC, "EPSG:4326")), crs="EPSG:4326"
    )


def _square(x, y, size=5000.0):
    return shapely.box(x, y, x + size, y + size)


def _store(gap_m: float) -> MemoryStore:
    """District A (one commune) and district B (two communes): B1 east of A across `gap_m`, B2
    touching A only at a corner. A third district C lies 3 km away."""
    a = _square(X0, Y0)
    b1 = _square(X0 + 5000 + gap_m, Y0)
    b2 = _square(X0 - 5000, Y0 + 5000)  # corner contact at (X0, Y0 + 5000)
    c = _square(X0, Y0 + 8000)
    communes = _gdf(
        [
            dict(
                commune_code="1010101",
                name="An",
                unit_type="Xã",
                district_code="10101",
                district_name="Huyện A",
                province_code="101",
                province_name="Tỉnh Một",
                population=1.0,
            ),
            dict(
                commune_code="1010301",
                name="Bình",
                unit_type="Xã",
                district_code="10103",
                district_name="Huyện B",
                province_code="101",
                province_name="Tỉnh Một",
                population=1.0,
            ),
            dict(
                commune_code="1010302",
                name="Bắc Bình",
                unit_type="Xã",
                district_code="10103",
                district_name="Huyện B",
                province_code="101",
                province_name="Tỉnh Một",
                population=1.0,
            ),
            dict(
                commune_code="1010501",
                name="Châu",
                unit_type="Xã",
                district_code="10105",
                district_name="Huyện C",
                province_code="101",
                province_name="Tỉnh Một",
                population=1.0,
            ),
        ],
        [a, b1, b2, c],
    )
    districts = _gdf(
        [
            dict(
                district_code="10101",
                name="A Lưới",
                name_full="Huyện A Lưới",
                province_code="101",
                province_name="Tỉnh Một",
            ),
            dict(
                district_code="10103",
                name="Bắc Hà",
                name_full="Huyện Bắc Hà",
                province_code="101",
                province_name="Tỉnh Một",
            ),
            dict(
                district_code="10105",
                name="Châu Thành",
                name_full="Huyện Châu Thành",
                province_code="101",
                province_name="Tỉnh Một",
            ),
        ],
        [a, shapely.union(b1, b2), c],
    )
    provinces = _gdf([dict(province_code="101", name="Tỉnh Một")], [shapely.union_all([a, b1, b2, c])])

    def empty(cols):
        return gpd.GeoDataFrame({k: [] for k in cols}, geometry=[], crs="EPSG:4326")

    return MemoryStore(
        {
            "communes_2009": communes,
            "districts_2009": districts,
            "provinces_2009": provinces,
            "countries": empty(["code", "name_en", "name_vi", "iso3"]),
            "china_provinces": empty(["code", "name_en", "name_vi"]),
            "lao_provinces": _gdf([dict(iso_code="LA-HO", name="Houaphan")], [_square(X0 + 50_000, Y0)]),
            "lao_districts": empty(["shape_id", "name", "province_iso", "province_name"]),
        },
        version="mem-1",
    )


def _touch(store, unit, within):
    return q.touching(store, unit, within=within, vintage=2009)


def test_gap_inside_the_tolerance_touches():
    gap = q.ADJACENCY_TOLERANCE_M[2009] * 0.6
    fc = _touch(_store(gap), "A Lưới", "Bắc Hà")
    assert [f["id"] for f in fc["features"]] == ["1010301"]  # B1 along 5 km; B2 only at a corner
    assert fc["features"][0]["properties"]["shared_length_km"] == pytest.approx(5.0, abs=0.4)
    assert fc["features"][0]["properties"]["neighbours"][0]["commune_code"] == "1010101"
    assert {e["commune_code"] for e in fc["excluded_short_contacts"]} == {"1010302"}
    shared = q.touching(_store(gap), "A Lưới", within="Bắc Hà", vintage=2009, geometry="shared")["features"][0]
    line = reproject(np.array([shapely.geometry.shape(shared["geometry"])], dtype=object), "EPSG:4326", METRIC)[0]
    assert line.geom_type in ("LineString", "MultiLineString") and line.length == pytest.approx(5000, abs=400)


def test_gap_beyond_the_tolerance_does_not_touch():
    gap = q.ADJACENCY_TOLERANCE_M[2009] * 1.5
    assert _touch(_store(gap), "A Lưới", "Bắc Hà")["numberMatched"] == 0
    assert _touch(_store(0.0), "Châu Thành", "A Lưới")["numberMatched"] == 0  # 3 km apart


def test_overlap_counts_as_touching():
    fc = _touch(_store(-60.0), "10101", "10103")  # by code, B1 overlaps A by 60 m
    assert fc["numberMatched"] == 1 and fc["features"][0]["properties"]["shared_length_km"] > 4.5


def test_resolution_in_memory():
    s = _store(0.0)
    assert q.resolve_unit(s, "Hủa Phăn", 2009).code == "LA-HO"
    assert q.resolve_unit(s, "huyen bac ha", 2009).code == "10103"
    with pytest.raises(NotFound) as e:
        q.resolve_unit(s, "Bac Haa", 2009)
    assert "Bắc Hà" in str(e.value)
    with pytest.raises(InvalidParameter):
        q.resolve_unit(s, "10199", 2009)  # a code, not in the store


def test_metric_cache_follows_the_version(monkeypatch):
    s = _store(0.0)
    g1 = q.metric_geometries(s, "communes_2009")
    assert q.metric_geometries(s, "communes_2009") is g1
    # the same store, its data changed: MemoryStore.version is read-only, so set what it reports
    monkeypatch.setattr(s, "_version", "mem-2")
    assert q.metric_geometries(s, "communes_2009") is not g1
