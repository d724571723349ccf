"""The DEM (issue 14): `fetch --dem` from a local server of made-up GLO-30 tiles, and a province's
own DEM imported with `import --layer dem` (VN-2000); the build says which DEM it used."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

sys.path.insert(0, str(Path(__file__).parent))
from madeup_sources import Server, madeup_world

from geoborder.build.pipeline import build
from geoborder.build.terrain import dem_copy_path
from geoborder.core.errors import DataImportError
from geoborder.sources.fetch.dem import tile_name
from geoborder.sources.fetch.options import FetchOptions
from geoborder.sources.fetch.pack import fetch_pack
from geoborder.sources.importer import import_file

CELL = 1 / 120  # 30″: coarse for a GLO-30 tile, small for a test


def madeup_glo30_tile(path: Path, lat: int, lon: int) -> bytes:
    """A 1°x1° GeoTIFF shaped like a GLO-30 tile (EPSG:4326, float32, south-west corner lat/lon),
    heights made up: a ridge rising to the north-east."""
    n = round(1 / CELL)
    yy, xx = np.mgrid[0:n, 0:n]
    z = (200 + 10 * (n - yy) + 5 * xx).astype("float32")
    with rasterio.open(
        path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32", crs="EPSG:4326",
        transform=from_origin(lon, lat + 1, CELL, CELL),
    ) as ds:  # fmt: skip
        ds.write(z, 1)
    return path.read_bytes()


@pytest.fixture()
def server(tmp_path):
    srv = Server().start()
    madeup_world(srv, tmp_path)
    for lat in range(18, 24):  # land cells around the made-up world; the others are "sea" (404)
        for lon in range(101, 106):
            name = tile_name(lat, lon)
            srv.files[f"/dem/{name}/{name}.tif"] = madeup_glo30_tile(tmp_path / f"madeup_{name}.tif", lat, lon)
    yield srv
    srv.stop()


def test_fetch_dem_merges_glo30_tiles_into_the_pack_and_the_build_uses_them(server, tmp_path):
    opts = FetchOptions(geoboundaries_url=f"{server.base}/gb", osm_url=f"{server.base}/osm", dem=True,
                        dem_url=f"{server.base}/dem")  # fmt: skip
    res = fetch_pack(tmp_path / "pack", cache=tmp_path / "cache", opts=opts, emit=lambda m: None, progress=False)
    assert res.ok, res.failures
    pack = res.pack
    dem = pack / "dem_glo30.tif"
    doc = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    files = {f["file"]: f for f in doc["files"]}
    assert files["dem_glo30.tif"]["licence"].startswith("Copernicus") and "ESA" in files["dem_glo30.tif"]["attribution"]
    got = [d for d in doc["downloads"] if d["source"].startswith("Copernicus DEM GLO-30")]
    assert got and all(d["sha256"] == server.sha256(d["url"][len(server.base) :]) for d in got)
    assert "dem_glo30.tif" not in {m["file"] for m in doc["missing"]}
    with rasterio.open(dem) as ds:
        assert ds.crs.to_epsg() == 4326 and ds.res == pytest.approx((CELL, CELL))
        z = ds.read(1, masked=True)
        assert z.count() > 0 and z.min() >= 200 and z.max() <= 200 + 15 * 120
        b = ds.bounds
    # clipped to the border provinces, which the made-up world puts around 104°E, 20.5-21°N
    assert 101 <= b.left < b.right <= 106 and 18 <= b.bottom < b.top <= 24 and (b.right - b.left) < 3

    store = tmp_path / "s.gpkg"
    r = build(pack, store, emit=lambda m: None).report
    assert r["dem"]["source"] == "dem_glo30" and "Copernicus" in r["dem"]["label"] and "30″" in r["dem"]["label"]
    assert not r["absent_sources"]
    with rasterio.open(dem_copy_path(store)) as ds:
        assert ds.tags()["GEOBORDER_DEM"] == r["dem"]["label"]


def test_a_sea_cell_without_a_tile_is_left_out_and_said(server, tmp_path):
    opts = FetchOptions(geoboundaries_url=f"{server.base}/gb", osm_url=f"{server.base}/osm", dem=True,
                        dem_url=f"{server.base}/dem", dem_bbox=(105.5, 20.2, 106.5, 20.8))  # fmt: skip
    res = fetch_pack(tmp_path / "pack", cache=tmp_path / "cache", opts=opts, emit=lambda m: None, progress=False)
    assert res.ok, res.failures
    doc = json.loads((res.pack / "pack.json").read_text(encoding="utf-8"))
    f = {x["file"]: x for x in doc["files"]}["dem_glo30.tif"]
    assert len(f["urls"]) == 1 and any(tile_name(20, 106) in n and "open sea" in n for n in f["notes"])


def _madeup_vn2000_dem(path: Path, *, crs: str | None) -> Path:
    """A made-up DEM in VN-2000 / TM-3 105-45 (EPSG:9210, Cao Bằng's zone), 50 m cells near Cao Bằng."""
    with rasterio.open(
        path, "w", driver="GTiff", width=40, height=30, count=1, dtype="int16", crs=crs, nodata=-9999,
        transform=from_origin(520_000, 2_525_000, 50, 50),
    ) as ds:  # fmt: skip
        ds.write((np.arange(1200).reshape(30, 40) % 300 + 400).astype("int16"), 1)
    return path


def test_import_a_provinces_own_dem_in_vn2000(tmp_path):
    pack = tmp_path / "pack"
    rep = import_file(_madeup_vn2000_dem(tmp_path / "madeup_dem_vn2000.tif", crs="EPSG:9210"), "dem", pack)
    assert rep.crs == "EPSG:9210" and "declared" in rep.crs_how
    with rasterio.open(pack / "dem_own.tif") as ds:
        assert ds.crs.to_epsg() == 4326
        b = ds.bounds
        z = ds.read(1, masked=True)
    # 520-522 km E, 2523.5-2525 km N on the 105°45' meridian: about 105.94°E, 22.8°N
    assert 105.9 < b.left < b.right < 106.0 and 22.78 < b.bottom < b.top < 22.83
    assert z.min() >= 400 and z.max() <= 699
    doc = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    assert {f["file"] for f in doc["files"]} == {"dem_own.tif"}


def test_a_dem_without_crs_needs_the_zone_and_a_non_raster_is_refused(tmp_path):
    bare = _madeup_vn2000_dem(tmp_path / "madeup_dem_nocrs.tif", crs=None)
    with pytest.raises(DataImportError, match="no CRS.*--province") as exc:
        import_file(bare, "dem", tmp_path / "pack")
    assert exc.value.file == str(bare)
    rep = import_file(bare, "dem", tmp_path / "pack", province="Cao Bằng")
    assert rep.crs == "EPSG:9210"
    not_raster = tmp_path / "madeup.geojson"
    not_raster.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(DataImportError, match="not a raster") as exc:
        import_file(not_raster, "dem", tmp_path / "pack")
    assert exc.value.file == str(not_raster)
