"""The store reads its GeoPackage with sqlite3 and shapely (geoborder/store/gpkg_read.py): every
layer and table of the real store equals what pyogrio (GDAL) reads, values, dtypes, index and
geometries; and the worker no longer loads GDAL for it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geoborder.core.errors import NotFound
from geoborder.store.gpkg import GpkgStore
from geoborder.store.gpkg_read import read_table


def _same(a: pd.DataFrame, b: pd.DataFrame, spatial: bool) -> None:
    assert list(a.columns) == list(b.columns)
    assert a.index.equals(b.index) and a.index.dtype == b.index.dtype and a.index.name == b.index.name
    for c in a.columns:
        if spatial and c == a.geometry.name:
            assert a.crs == b.crs
            wa, wb = shapely.to_wkb(a.geometry.values), shapely.to_wkb(b.geometry.values)
            assert list(wa) == list(wb), c
        else:
            assert a[c].dtype == b[c].dtype, (c, a[c].dtype, b[c].dtype)
            pd.testing.assert_series_equal(a[c], b[c], check_exact=True)


def test_every_layer_and_table_equals_what_gdal_reads(real_store_path):
    con = sqlite3.connect(f"file:{real_store_path}?mode=ro&immutable=1", uri=True)
    tables = con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall()
    assert sum(kind == "features" for _, kind in tables) >= 20
    for name, kind in tables:
        spatial = kind == "features"
        if spatial:
            gdal = pyogrio.read_dataframe(real_store_path, layer=name, fid_as_index=True)
        else:
            gdal = pyogrio.read_dataframe(real_store_path, layer=name, read_geometry=False)
        _same(gdal, read_table(con, name, geometry=spatial), spatial)


def test_missing_and_empty_geometries_and_values(tmp_path):
    path = tmp_path / "small.gpkg"
    gdf = gpd.GeoDataFrame(
        {
            "name": ["a", None, "c", "d"],
            "n": [1, None, 3, 4],
            "all_null": [None, None, None, None],
            "x": [1.5, None, 2.0, float("nan")],
            "ok": [True, False, True, False],
        },
        geometry=[shapely.Point(1, 2), None, shapely.Polygon(), shapely.box(0, 0, 1, 1)],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(gdf, path, layer="t", driver="GPKG")
    con = sqlite3.connect(path)
    _same(pyogrio.read_dataframe(path, layer="t", fid_as_index=True), read_table(con, "t"), True)


def test_an_unknown_table_is_not_found(real_store_path):
    with pytest.raises(NotFound):
        GpkgStore(real_store_path).table("no_such_table")


def test_the_worker_loads_no_gdal_to_read_the_store(real_store_path):
    code = (
        "import sys; from geoborder.store.gpkg import GpkgStore; import api.main; "
        f"s = GpkgStore({str(real_store_path)!r}); [s.frame(i.id) for i in s.layers()]; "
        "s.table('gates_unplaced'); print('pyogrio' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
