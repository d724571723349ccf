"""GeoPackage downloads are written with sqlite3 (geoborder/features/gpkg_write.py), not GDAL:
GDAL (pyogrio) reads back from them what it reads from the file it writes itself with the same
options (GeoPackage 1.2), for real layers in CRS84 and in VN-2000, with the spatial index and
the layer's extent, count and CRS; QGIS-facing details (application id, version) are GDAL's."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geoborder.core.crs import resolve_crs
from geoborder.features.cache import FeatureCache
from geoborder.features.gpkg_write import write_gpkg_layer
from geoborder.store.gpkg import GpkgStore

VN2000_SON_LA = "http://www.opengis.net/def/crs/EPSG/0/9211"  # VN-2000 TM-3 104°30' (Sơn La)


@pytest.fixture(scope="module")
def features(real_store_path):
    return FeatureCache(GpkgStore(real_store_path))


def _gdal(gdf, path, layer):
    pyogrio.write_dataframe(
        gdf,
        path,
        layer=layer,
        driver="GPKG",
        geometry_type=None,
        promote_to_multi=None,
        dataset_options={"VERSION": "1.2"},
    )


def _read(path, layer):
    return pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)


@pytest.mark.parametrize("layer", ["communes_2025", "villages", "roads", "gates", "border_lines", "markers"])
@pytest.mark.parametrize("crs_uri", [None, VN2000_SON_LA])
def test_gdal_reads_the_frame_it_writes_itself(features, layer, crs_uri, tmp_path):
    lf = features.get(layer)
    crs = resolve_crs(crs_uri) if crs_uri else None
    positions = np.arange(len(lf))[: 2000 if layer == "villages" else None]
    gdf = lf.frame_for(positions, crs)
    ours, theirs = tmp_path / "ours.gpkg", tmp_path / "gdal.gpkg"
    write_gpkg_layer(gdf, ours, layer)
    _gdal(gdf, theirs, layer)
    a, b = _read(ours, layer), _read(theirs, layer)
    assert list(a.columns) == list(b.columns)
    assert a.index.equals(b.index)
    for c in a.columns:
        if c == "geometry":
            assert a.crs == b.crs and a.crs is not None
            assert list(shapely.to_wkb(a.geometry.values)) == list(shapely.to_wkb(b.geometry.values))
        else:
            assert a[c].dtype == b[c].dtype, c
            pd.testing.assert_series_equal(a[c], b[c], check_exact=True)
    ia, ib = pyogrio.read_info(ours, layer=layer), pyogrio.read_info(theirs, layer=layer)
    for key in ("crs", "geometry_type", "features", "fields", "dtypes"):
        assert np.array_equal(np.asarray(ia[key]), np.asarray(ib[key])), key
    assert ia["total_bounds"] == pytest.approx(ib["total_bounds"])
    assert ia["capabilities"]["fast_spatial_filter"] and ia["capabilities"]["fast_feature_count"]
    with sqlite3.connect(ours) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
        assert con.execute(f'SELECT count(*) FROM "rtree_{layer}_geom"').fetchone()[0] == int(
            (~a.geometry.isna() & ~a.geometry.is_empty).sum()
        )
    # a bbox through the spatial index: the same features
    box = tuple(gdf.total_bounds)
    mid = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    small = (box[0], box[1], mid[0], mid[1])
    assert list(pyogrio.read_dataframe(ours, layer=layer, bbox=small).index) == list(
        pyogrio.read_dataframe(theirs, layer=layer, bbox=small).index
    )


def test_nulls_and_empty_geometries(tmp_path):
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        {
            "name": pd.array(["a", None, "c"], dtype="str"),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "x": [1.5, None, float("nan")],
            "ok": pd.array([True, None, False], dtype="boolean"),
            "none": [None, None, None],
        },
        geometry=[shapely.Point(1, 2), None, shapely.MultiPolygon()],
        crs="EPSG:4326",
    )
    ours, theirs = tmp_path / "ours.gpkg", tmp_path / "gdal.gpkg"
    write_gpkg_layer(gdf, ours, "t")
    _gdal(gdf, theirs, "t")
    a, b = _read(ours, "t"), _read(theirs, "t")
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert list(shapely.to_wkb(a.geometry.values)) == list(shapely.to_wkb(b.geometry.values))


def test_a_download_loads_no_gdal_in_the_worker(real_store_path):
    code = f"""
import sys
from fastapi.testclient import TestClient
from api.main import create_app
from geoborder.core.settings import ApiSettings
from geoborder.store.gpkg import GpkgStore

app = create_app(ApiSettings(warmup=False), store=GpkgStore({str(real_store_path)!r}))
with TestClient(app) as c:
    r = c.get("/collections/roads/items?f=gpkg")
print(r.status_code, r.content[:16] == b"SQLite format 3\\x00", "pyogrio" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["200", "True", "False"]
