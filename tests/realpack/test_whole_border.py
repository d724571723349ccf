"""Issue 14, the data side: villages, partner units on every side, rivers and lakes, terrain.

Counts are checked against the source files read independently here (and against the published
figures of border_facts.md); the elevations against the DEM read with rasterio in the test.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import rasterio.mask
import shapely

from geoborder.build.pipeline import build

pytestmark = pytest.mark.realpack

NEW_FILES = (
    "places_villages_geonames.geojson",
    "partner_khm_provinces.geojson",
    "partner_cn_counties.geojson",
    "rivers_wdbii.geojson",
    "rivers_ne10m.geojson",
    "lakes_ne10m.geojson",
    "dem_etopo5.tif",
)


def _report(store_path: Path) -> dict:
    with sqlite3.connect(store_path) as con:
        return json.loads(con.execute("SELECT value FROM geoborder_build WHERE key='report'").fetchone()[0])


@pytest.fixture(scope="module")
def report(real_store_path) -> dict:
    return _report(real_store_path)


@pytest.fixture(scope="module")
def raw_villages(real_pack) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(real_pack / "places_villages_geonames.geojson")


def _facing(seg, iso3: str, by: str, min_km: float = 0.5) -> set:
    g = seg[seg["partner_iso3"] == iso3].groupby(by)["length_km"].sum()
    return set(g[g >= min_km].index)


# --------------------------------------------------------------------------- villages


def test_village_counts_add_up_and_match_the_source(report, raw_villages, real_pack, real_store):
    v = report["measures"]["villages"]
    raw = raw_villages
    ids = raw["geonameid"]
    assert v["read"] == len(raw) == 22_396
    assert v["left_out_no_geonameid"] == int(ids.isna().sum())
    assert v["left_out_abandoned_or_destroyed"] == int(raw["abandoned_or_destroyed"].sum()) == 262
    towns = set(pyogrio.read_dataframe(real_pack / "places_geonames.geojson", read_geometry=False)["geonameid"])
    ids_txt = {str(int(x)) for x in ids.dropna()}
    assert v["matched_to_towns"] == len(ids_txt & towns)
    assert v["left_out_repeated_geonameid"] == int(ids.dropna().duplicated().sum())
    left = sum(v[k] for k in v if k.startswith("left_out_"))
    assert v["kept"] + left + v["matched_to_towns"] == v["read"]
    layer = real_store.frame("villages")
    assert len(layer) == v["kept"] == report["counts"]["villages"]
    assert layer["geonameid"].is_unique and not layer["geonameid"].isin(towns).any()
    assert not layer["abandoned_or_destroyed"].astype(bool).any()
    grid = layer["coord_minute_grid"].astype(bool)
    assert grid.sum() == v["kept_on_minute_grid"]
    assert set(layer.loc[grid, "position_precision"]) == {"whole arc-minute grid: about ±1-2 km"}


def test_villages_per_border_province(report, real_store):
    v = report["measures"]["villages"]
    layer = real_store.frame("villages")
    for vintage in (2025, 2009):
        per = v[f"per_province_{vintage}"]
        assert sum(per.values()) == v["kept"]
        assert per == layer[f"province_name_{vintage}"].value_counts().to_dict()
    # MANIFEST.md: "94 points in Sơn La's 17 pre-2025 border communes"
    bc = real_store.frame("border_communes_2009")
    son_la = set(bc.loc[bc["province_code"] == "303", "commune_code"])
    assert len(son_la) == 17
    assert layer["commune_code_2009"].isin(son_la).sum() == 94


def test_each_village_has_its_2025_and_2009_commune(report, real_store):
    layer = real_store.frame("villages")
    for vintage in (2025, 2009):
        assert layer[f"commune_code_{vintage}"].notna().all()
        assert report["measures"]["villages"][f"commune_{vintage}"]["none"] == 0
        communes = real_store.frame(f"communes_{vintage}").set_index("commune_code")
        sample = layer.sample(300, random_state=vintage)
        inside = sample["commune_method"].str.contains(f"{vintage}: inside")
        polys = communes.geometry.loc[sample.loc[inside, f"commune_code_{vintage}"]].to_numpy()
        assert shapely.covers(polys, sample.loc[inside].geometry.to_numpy()).all()
        # the others are within the tolerance (2 km) of the commune they were given
        rest = sample[~inside]
        if len(rest):
            d = shapely.distance(
                communes.geometry.loc[rest[f"commune_code_{vintage}"]].to_crs("EPSG:3405").to_numpy(),
                rest.geometry.to_crs("EPSG:3405").to_numpy(),
            )
            assert (d <= 2000.5).all()


# --------------------------------------------------------------------------- partner units


def test_cambodian_provinces_face_vietnam(real_pack, real_store, report):
    facts = (real_pack / "border_facts.md").read_text(encoding="utf-8")
    n_vn, n_kh = map(int, re.search(r"touches (\d+) VN and (\d+) KH provinces", facts).groups())
    assert (n_vn, n_kh) == (10, 9)
    khm = real_store.frame("khm_provinces")
    for vintage in (2025, 2009):
        seg = real_store.frame(f"border_segments_{vintage}")
        kh = seg[seg["partner_iso3"] == "KHM"]
        assert kh["partner_unit_code"].str.startswith("KH-").all()
        assert set(kh["partner_unit_code"]) <= set(khm["iso_code"])
        assert len(_facing(seg, "KHM", "partner_unit_code")) == n_kh
        assert set(report["measures"][f"facing_{vintage}"]["KHM"]["partner_units"]) == {
            f"{c} {n}" for c, n in kh.groupby(["partner_unit_code", "partner_unit_name"]).groups
        }
    seg09 = real_store.frame("border_segments_2009")
    assert len(_facing(seg09, "KHM", "province_code")) == n_vn  # pre-2025 provinces
    # 2025 provinces: the merged units face Cambodia from 8 provinces (Kon Tum + Quảng Ngãi ... merged)
    seg25 = real_store.frame("border_segments_2025")
    assert len(_facing(seg25, "KHM", "province_code")) == 8
    # the Vietnamese names written from layers/partner_names.toml
    names = dict(zip(khm["iso_code"], khm["name_vi"]))
    assert names["KH-20"] == "Svay Rieng" and names["KH-10"] == "Kratié"


def test_chinese_counties_lie_in_their_province(real_store, report):
    counties = real_store.frame("cn_counties").set_index("adcode")
    provinces = real_store.frame("china_provinces").set_index("code")
    for vintage in (2025, 2009):
        seg = real_store.frame(f"border_segments_{vintage}")
        cn = seg[seg["partner_iso3"] == "CHN"]
        assert cn["partner_district_code"].notna().all()
        # the county decides the province: every segment's county belongs to its province
        assert (counties.loc[cn["partner_district_code"], "province_code"].to_numpy() == cn["partner_unit_code"]).all()
        assert len(_facing(seg, "CHN", "partner_district_code")) == 15
        assert len(report["measures"][f"facing_{vintage}"]["CHN"]["partner_districts"]) == 15
    # and independently of the codes: each county facing Vietnam lies in its province's polygon
    facing = counties.loc[sorted(set(seg["partner_district_code"].dropna()) & set(counties.index))]
    facing = facing[facing["province_code"].notna()]
    pts = shapely.point_on_surface(facing.geometry.to_numpy())
    polys = provinces.geometry.loc[facing["province_code"]].to_numpy()
    assert shapely.within(pts, polys).all()
    assert facing.loc["532625", "name_vi"] == "Mã Quan" and facing.loc["532532", "name_vi"] == "Hà Khẩu"
    assert facing.loc["532624", "name_vi"] == "Ma Lật Pha"


def test_rivers_and_lakes_are_context_layers(real_store, report):
    c = report["counts"]
    assert (c["rivers_wdbii"], c["rivers_ne10m"], c["lakes_ne10m"]) == (350, 82, 4)
    ne = real_store.frame("rivers_ne10m")
    assert "Mekong" in set(ne["name"].dropna())


# --------------------------------------------------------------------------- terrain


def _dem_values(real_pack, geom):
    """The cells of the DEM inside `geom`, read here with rasterio.mask (not the build's code):
    no data left out, below 0 m read as 0 m (the build's documented rule)."""
    with rasterio.open(real_pack / "dem_etopo5.tif") as ds:
        out, _ = rasterio.mask.mask(ds, [geom], crop=True, filled=False)
        vals = out[0].compressed().astype(float)
        vals = vals[vals != ds.nodata]
    return np.maximum(vals, 0.0)


def test_commune_elevation_agrees_with_the_dem(real_pack, real_store):
    c25 = real_store.frame("communes_2025")
    big = c25.sort_values("elev_cells", ascending=False).iloc[0]
    vals = _dem_values(real_pack, big.geometry)
    assert len(vals) == big["elev_cells"] > 5
    assert big["elev_mean_m"] == pytest.approx(vals.mean(), abs=0.06)
    assert (big["elev_min_m"], big["elev_max_m"]) == (int(vals.min()), int(vals.max()))
    assert big["elev_above_1000m_pct"] == pytest.approx(100 * (vals > 1000).mean(), abs=0.06)
    assert big["elev_method"] == "cells inside" and "ETOPO5" in big["elev_source"] and "~9 km" in big["elev_source"]
    # a commune smaller than a cell takes the cell under its centroid
    small = c25[c25["elev_method"].str.startswith("centroid")].iloc[0]
    assert len(_dem_values(real_pack, small.geometry)) == 0
    with rasterio.open(real_pack / "dem_etopo5.tif") as ds:
        c = small.geometry.centroid
        (v,) = next(ds.sample([(c.x, c.y)]))
    assert small["elev_mean_m"] == max(float(v), 0.0) and small["elev_cells"] == 1


def test_villages_elevation_per_commune(real_store):
    villages = real_store.frame("villages")
    c09 = real_store.frame("communes_2009").set_index("commune_code")
    per = villages.dropna(subset=["dem_m"]).groupby("commune_code_2009")["dem_m"]
    code = per.size().idxmax()
    assert c09.loc[code, "village_elev_median_m"] == pytest.approx(float(per.get_group(code).median()))
    assert c09.loc[code, "village_elev_max_m"] == per.get_group(code).max()
    top = villages[(villages["commune_code_2009"] == code) & (villages["dem_m"] == per.get_group(code).max())]
    assert c09.loc[code, "village_highest"] in set(top["name"])


# --------------------------------------------------------------------------- a pack without them

BBOX = (103.3, 20.4, 105.2, 21.7)  # Sơn La's border with Laos


def _mini_pack(src: Path, dst: Path, *, with_new: bool) -> Path:
    dst.mkdir(parents=True)
    box = shapely.box(*BBOX)
    for path in src.glob("*.geojson"):
        if not with_new and path.name in NEW_FILES:
            continue
        gdf = pyogrio.read_dataframe(path)
        if path.name != "partner_dcw_countries_and_china_provinces.geojson":
            gdf = gdf[gdf.intersects(box)]
            if path.name.startswith("border_lines"):
                gdf = gdf.assign(geometry=gdf.geometry.clip_by_rect(*BBOX))
        pyogrio.write_dataframe(gpd.GeoDataFrame(gdf, crs="EPSG:4326"), dst / path.name, driver="GeoJSON")
    for name in ("gates_curated.csv", "markers_published.csv", "MANIFEST.md"):
        shutil.copy(src / name, dst / name)
    if with_new:
        shutil.copy(src / "dem_etopo5.tif", dst / "dem_etopo5.tif")
    return dst


def test_a_pack_without_the_new_files_builds_and_says_what_is_absent(real_pack, tmp_path):
    pack = _mini_pack(real_pack, tmp_path / "pack", with_new=False)
    res = build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    r = res.report
    assert {"villages", "khm_provinces", "cn_counties", "rivers_wdbii", "rivers_ne10m", "lakes_ne10m"} <= set(
        r["absent"]
    )
    assert r["absent_sources"] == {"dem_etopo5": "dem_etopo5.tif"}
    assert any("no DEM in the pack" in n for n in r["derive_notes"])
    assert "villages" not in res.counts and res.counts["border_communes_2025"] > 5
    c25 = pyogrio.read_dataframe(res.store, layer="communes_2025", read_geometry=False)
    assert c25["elev_mean_m"].isna().all() and c25["village_elev_max_m"].isna().all()


def test_the_same_cut_with_the_new_files_fills_them(real_pack, tmp_path):
    pack = _mini_pack(real_pack, tmp_path / "pack", with_new=True)
    res = build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    r = res.report
    # the cut holds no Cambodian province: that optional file has no features and is left out
    assert r["absent"].get("khm_provinces") == "partner_khm_provinces.geojson (no features)"
    assert res.counts["villages"] > 100 and not r["absent_sources"]
    c25 = pyogrio.read_dataframe(res.store, layer="communes_2025", read_geometry=False)
    assert c25["elev_mean_m"].notna().all()
