"""`geoborder fetch` end to end without internet: made-up sources on a loopback HTTP server.

The server (tests/unit/madeup_sources.py) answers like the geoBoundaries API and an OSM extract server,
honours Range requests, and can cut a response short, corrupt it once or fail with 404 / 500.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from madeup_sources import MADEUP_UNITS, Server, madeup_world

from geoborder.build.pipeline import build, format_report
from geoborder.cli import main as cli
from geoborder.core.files import sha256_file
from geoborder.sources.fetch.options import FetchOptions
from geoborder.sources.fetch.pack import fetch_pack
from geoborder.sources.importer import import_file

PBF = "/osm/vietnam-latest.osm.pbf"


@pytest.fixture()
def server(tmp_path):
    srv = Server().start()
    madeup_world(srv, tmp_path)
    yield srv
    srv.stop()


def _opts(srv: Server, **kw) -> FetchOptions:
    return FetchOptions(geoboundaries_url=f"{srv.base}/gb", osm_url=f"{srv.base}/osm", **kw)


def _fetch(srv, tmp_path, name="pack", **kw):
    logs: list[str] = []
    res = fetch_pack(tmp_path / name, cache=tmp_path / "cache", opts=_opts(srv), emit=logs.append, progress=False, **kw)
    return res, logs


# --------------------------------------------------------------------------- the pack


def test_fetch_writes_the_contract_files_it_can_and_says_what_is_missing(server, tmp_path):
    res, _ = _fetch(server, tmp_path)
    pack = res.pack
    assert res.ok, res.failures
    doc = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    files = {f["file"]: f for f in doc["files"]}
    # every file: URL, licence, attribution, date and the sha256 of the file as written
    for f in doc["files"]:
        assert f["urls"] and f["licence"] and f["attribution"] and f["date"]
        assert f["sha256"] == sha256_file(pack / f["file"])
    assert files["partner_lao_provinces.geojson"]["licence"].endswith("(CC BY 4.0)")
    assert files["roads_national.geojson"]["licence"] == "ODbL 1.0"
    # each download with its sha256 as served
    served = {d["url"]: d["sha256"] for d in doc["downloads"]}
    assert served[f"{server.base}{PBF}"] == server.sha256(PBF)

    # contract form: the columns the catalog reads
    lao = pyogrio.read_dataframe(pack / "partner_lao_provinces.geojson")
    assert set(lao["shapeISO"]) == {"LA-HO", "LA-LP"}
    dist = pyogrio.read_dataframe(pack / "partner_lao_districts.geojson")
    assert dict(zip(dist["shapeName"], dist["prov_iso"])) == {"Sop Bao": "LA-HO", "Viengkham": "LA-LP"}
    dcw = pyogrio.read_dataframe(pack / "partner_dcw_countries_and_china_provinces.geojson")
    assert sorted(dcw["code"]) == ["CN.GX", "CN.YN", "KH", "LA", "VN"]
    lines = pyogrio.read_dataframe(pack / "border_lines_osm.geojson")
    assert list(lines["pair"]) == ["VNM-LAO"]  # way 100 (shared with Laos); way 101 is maritime
    assert lines.geometry[0].length == pytest.approx(0.4, abs=1e-6)  # 20.6 to 21.0 N on lon 103.95
    assert shapely.get_coordinates(lines.geometry[0])[:, 0] == pytest.approx([103.95] * 3)
    roads = pyogrio.read_dataframe(pack / "roads_national.geojson")
    assert sorted(roads["loai_duong"]) == ["Quốc lộ", "Đường sắt", "Đường xã"]  # the footway is left out
    assert sorted(roads["gid"]) == [200, 201, 203]  # one copy each, though three extracts hold them
    assert (roads["chieu_dai"] > 1000).all()
    places = pyogrio.read_dataframe(pack / "places_geonames.geojson").set_index("geonameid")
    assert places.loc["osm:node/300", "name"] == "Bản Mường Lèo" and places.loc["osm:node/300", "cc"] == "VN"
    assert places.loc["osm:node/303", "cc"] == "LA" and places.loc["osm:node/300", "population"] == 850
    assert "osm:node/304" not in places.index  # an unnamed hamlet
    gates = pd.read_csv(pack / "gates_curated.csv", dtype=str, keep_default_na=False)
    assert list(gates["name_vi"]) == ["Cửa khẩu Chiềng Khương"]  # the Lao-side checkpoint is not ours
    g = gates.iloc[0]
    assert (g["partner_country_iso3"], g["partner_admin1"], g["vn_province"], g["vn_commune"]) == (
        "LAO",
        "Houaphan",
        "Sơn La",
        "Mường Lạn",
    )
    assert g["class"].startswith("unknown")
    markers = pd.read_csv(pack / "markers_published.csv", dtype=str, keep_default_na=False)
    assert list(markers["marker"]) == ["231", "232"] and set(markers["border"]) == {"VN-LA"}

    # what open sources cannot give is listed, with the layers that need it
    missing = {m["file"]: m for m in doc["missing"]}
    assert set(missing) == {
        "vn_communes_2025.geojson",
        "vn_commune_centres_2025.geojson",
        "vn_provinces_2025.geojson",
        "vn_communes_2009.geojson",
        "vn_districts_2009.geojson",
        "vn_provinces_2009.geojson",
        "border_lines_wdbii.geojson",
        # issue 14: optional layers open sources here do not give (the DEM: with fetch --dem)
        "partner_khm_provinces.geojson",
        "partner_cn_counties.geojson",
        "places_villages_geonames.geojson",
        "rivers_wdbii.geojson",
        "rivers_ne10m.geojson",
        "lakes_ne10m.geojson",
        "dem_etopo5.tif",
        "dem_glo30.tif",
        "dem_own.tif",
    }
    assert missing["vn_communes_2025.geojson"]["layers"] == ["communes_2025"]
    # optional: the build leaves their layers out and cuts the border by the geoBoundaries communes
    assert all(m["optional"] for m in missing.values())
    assert "no codes" in missing["vn_communes_2025.geojson"]["why"]
    md = (pack / "MANIFEST.md").read_text(encoding="utf-8")
    assert "## Missing" in md and "vn_communes_2025.geojson" in md and "geoborder import" in md
    # the geoBoundaries Vietnamese units are there, as extras, names only
    adm3 = pyogrio.read_dataframe(pack / "gb_vnm_adm3.geojson")
    assert sorted(adm3["shapeName"]) == sorted(n for n, _, _ in MADEUP_UNITS[("VNM", 3)])
    assert files["gb_vnm_adm3.geojson"]["contract"]  # read by the build: layer communes_gb
    assert not files["gb_chn_adm3.geojson"]["contract"]


def _madeup_vn_admin(tmp: Path) -> dict[str, Path]:
    """A province's own unit files (made-up codes and boxes matching the made-up sources)."""
    boxes = {n: b for n, _, b in MADEUP_UNITS[("VNM", 3)]}
    codes25 = {"Mường Lèo": "90001", "Mường Lạn": "90002", "Chiềng Khương": "90003"}
    codes09 = {"Mường Lèo": 3030101, "Mường Lạn": 3030102, "Chiềng Khương": 3030201}
    dist = {
        "Mường Lèo": (30301, "Huyện Sốp Cộp"),
        "Mường Lạn": (30301, "Huyện Sốp Cộp"),
        "Chiềng Khương": (30302, "Huyện Mộc Châu"),
    }
    polys = {n: shapely.box(*b) for n, b in boxes.items()}
    out = {}

    def write(name, rows, geoms):
        p = tmp / f"{name}_madeup.geojson"
        pyogrio.write_dataframe(gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326"), p, driver="GeoJSON")
        out[name] = p

    names = list(polys)
    write(
        "communes_2025",
        {
            "commune_code": [codes25[n] for n in names],
            "name": names,
            "unit_type": ["Xã"] * 3,
            "province_code": ["14"] * 3,
            "province_name": ["Sơn La"] * 3,
            "population": [9000, 8000, 12000],
        },
        [polys[n] for n in names],
    )
    write(
        "commune_seats_2025",
        {"commune_code": [codes25[n] for n in names], "name": names},
        [polys[n].centroid for n in names],
    )
    write("provinces_2025", {"province_code": ["14"], "name": ["Sơn La"]}, [shapely.union_all(list(polys.values()))])
    write(
        "communes_2009",
        {
            "commune_id": [codes09[n] for n in names],
            "commune_vn": [f"Xã {n}" for n in names],
            "district_id": [dist[n][0] for n in names],
            "district_vn": [dist[n][1] for n in names],
            "province_id": [303] * 3,
            "province_vn": ["Sơn La"] * 3,
        },
        [polys[n] for n in names],
    )
    write(
        "districts_2009",
        {
            "district_id": [30301, 30302],
            "district_vn": ["Huyện Sốp Cộp", "Huyện Mộc Châu"],
            "province_id": [303, 303],
            "province_vn": ["Sơn La", "Sơn La"],
        },
        [shapely.union_all([polys["Mường Lèo"], polys["Mường Lạn"]]), polys["Chiềng Khương"]],
    )
    write(
        "provinces_2009", {"province_id": [303], "province_vn": ["Sơn La"]}, [shapely.union_all(list(polys.values()))]
    )
    return out


def test_fetched_pack_plus_own_units_builds_and_serves(server, tmp_path):
    res, _ = _fetch(server, tmp_path)
    pack = res.pack
    for layer, path in _madeup_vn_admin(tmp_path).items():
        import_file(path, layer, pack)
    doc = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    # every missing file is optional: the WDBII line and the issue-14 layers (villages, Cambodian
    # provinces, Chinese counties, rivers, lakes, the DEM) that fetch does not make
    assert {(m["file"], m["optional"]) for m in doc["missing"]} == {
        (f, True)
        for f in (
            "border_lines_wdbii.geojson",
            "partner_khm_provinces.geojson",
            "partner_cn_counties.geojson",
            "places_villages_geonames.geojson",
            "rivers_wdbii.geojson",
            "rivers_ne10m.geojson",
            "lakes_ne10m.geojson",
            "dem_etopo5.tif",
            "dem_glo30.tif",  # with fetch --dem
            "dem_own.tif",  # with import --layer dem
        )
    }

    store = tmp_path / "s.gpkg"
    result = build(pack, store, emit=lambda m: None)
    c = result.counts
    assert c["border_lines"] == 1 and c["roads"] == 3 and c["places"] == 4 and c["gates"] == 1
    assert c["markers"] == 2 and c["lao_provinces"] == 2 and c["china_provinces"] == 2
    segs = pyogrio.read_dataframe(store, layer="border_segments_2025")
    assert set(segs["commune_name"]) == {"Mường Lèo", "Mường Lạn"}
    assert set(segs["partner_unit_code"]) == {"LA-HO"}
    assert segs["length_km"].sum() == pytest.approx(44.4, rel=0.02)  # 0.4° of latitude
    gates = pyogrio.read_dataframe(store, layer="gates")
    assert gates["location_quality"][0] == "published" and gates["commune_code_2025"][0] == "90002"

    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.store.open import open_store

    with TestClient(create_app(store=open_store(store))) as client:
        r = client.get("/layers")
        assert r.status_code == 200
        body = r.text
        assert "gates" in body and "ODbL" in body
        r = client.get("/collections/gates/items", params={"f": "json"})
        assert r.status_code == 200 and "Chiềng Khương" in r.text


def test_fetched_pack_builds_on_its_own_and_serves(server, tmp_path):
    """Open data only, nothing imported: the border is cut by the geoBoundaries communes (names, no
    GSO codes) under layer ids of their own; the coded-unit layers are left out, and said so."""
    res, _ = _fetch(server, tmp_path)
    pack = res.pack
    # a gate known by its place only: nothing to derive its position from without coded communes
    gates_csv = pack / "gates_curated.csv"
    gates_in = pd.read_csv(gates_csv, dtype=str, keep_default_na=False)
    extra = dict.fromkeys(gates_in.columns, "")
    extra.update(
        {
            "name_vi": "Cửa khẩu Madeup",
            "class": "secondary",
            "partner_country_iso3": "LAO",
            "vn_province": "Sơn La",
            "vn_commune": "Mường Lèo",
        }
    )
    pd.concat([gates_in, pd.DataFrame([extra])]).to_csv(gates_csv, index=False)

    logs: list[str] = []
    store = tmp_path / "fetched.gpkg"
    result = build(pack, store, emit=logs.append)
    c, report = result.counts, result.report
    assert c == {
        "communes_gb": 3,
        "districts_gb": 2,
        "provinces_gb": 1,
        "border_lines": 1,
        "lao_provinces": 2,
        "lao_districts": 2,
        "china_provinces": 2,
        "countries": 3,
        "places": 4,
        "roads": 3,
        "gates": 1,
        "markers": 2,
        "border_segments_gb": 2,
        "border_communes_gb": 2,
        "gates_unplaced": 1,
        "markers_unplaced": 0,
    }
    assert set(report["absent"]) == {
        "communes_2025",
        "communes_2009",
        "provinces_2025",
        "provinces_2009",
        "districts_2009",
        "commune_seats_2025",
        "border_lines_wdbii",
        # issue 14: optional layers a fetched pack does not have (yet)
        "villages",
        "khm_provinces",
        "cn_counties",
        "rivers_wdbii",
        "rivers_ne10m",
        "lakes_ne10m",
    }
    assert any("vn_communes_2009.geojson absent, skipped" in m for m in logs)
    text = format_report(report)
    assert "communes_2025: optional source vn_communes_2025.geojson not in the pack" in text
    assert "not derived" in text and "border_segments_2009" in text

    segs = pyogrio.read_dataframe(store, layer="border_segments_gb")
    assert set(segs["commune_name"]) == {"Mường Lèo", "Mường Lạn"}
    assert set(segs["district_name"]) == {"Sốp Cộp"} and set(segs["province_name"]) == {"Sơn La"}
    assert set(segs["partner_unit_code"]) == {"LA-HO"} and set(segs["partner_district_name"]) == {"Sop Bao"}
    assert segs["length_km"].sum() == pytest.approx(44.4, rel=0.02)  # 0.4° of latitude, in km
    assert segs["segment_id"].is_unique and segs["shape_id"].str.startswith("VNM-ADM3-").all()
    bc = pyogrio.read_dataframe(store, layer="border_communes_gb")
    assert sorted(bc["name"]) == ["Mường Lèo", "Mường Lạn"]
    assert bc["border_length_km"].sum() == pytest.approx(44.4, rel=0.02)
    cgb = pyogrio.read_dataframe(store, layer="communes_gb").set_index("name")
    assert cgb.loc["Chiềng Khương", "district_name"] == "Mộc Châu"
    # gates: the published position is kept and joined to the geoBoundaries commune (name, no code)
    gates = pyogrio.read_dataframe(store, layer="gates")
    g = gates.iloc[0]
    assert g["location_quality"] == "published" and g["commune_name_2009"] == "Mường Lạn"
    assert g["commune_code_2009"] is None and g["commune_code_2025"] is None
    unplaced = pyogrio.read_dataframe(store, layer="gates_unplaced", read_geometry=False)
    assert list(unplaced["name_vi"]) == ["Cửa khẩu Madeup"]
    assert list(unplaced["unplaced_reason"]) == ["no coded pre-2025 communes in this pack"]
    # deterministic: the same pack builds the same layers
    again = build(pack, tmp_path / "again.gpkg", emit=lambda m: None)
    assert again.counts == c and again.fingerprint == result.fingerprint
    for lid in ("border_segments_gb", "border_communes_gb", "gates"):
        a = pyogrio.read_dataframe(store, layer=lid)
        b = pyogrio.read_dataframe(tmp_path / "again.gpkg", layer=lid)
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))

    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.indicators.open import open_indicators
    from geoborder.store.open import open_store

    db = open_indicators(tmp_path / "indicators.sqlite")
    with TestClient(create_app(store=open_store(store), indicators=db)) as client:
        r = client.get("/layers", params={"f": "json"})
        assert r.status_code == 200 and "border_communes_gb" in r.text and "communes_2025" not in r.text
        assert "no GSO codes" in r.text
        r = client.get("/collections", params={"f": "json"})
        assert r.status_code == 200 and "border_segments_gb" in r.text
        r = client.get("/collections/border_communes_gb/items", params={"f": "json"})
        assert r.status_code == 200
        feats = r.json()["features"]
        assert sorted(f["properties"]["name"] for f in feats) == ["Mường Lèo", "Mường Lạn"]
        # a layer this store does not hold: 404 saying so, never a 500
        r = client.get("/collections/communes_2025/items", params={"f": "json"})
        assert r.status_code == 404 and "not in this store" in r.text
        for vintage in (2025, 2009):
            r = client.get("/queries/touching", params={"unit": "LAO", "vintage": vintage})
            assert r.status_code in (400, 404) and "not in this store" in r.text, (vintage, r.text)
        r = client.get("/maps")
        assert r.status_code == 200 and "communes_2025" in r.text and "gb-missing-layers" in r.text
        r = client.get("/maps/density")
        assert r.status_code == 404 and "not in this store" in r.text


# --------------------------------------------------------------------------- downloads


def test_interrupted_download_resumes_with_range(server, tmp_path):
    server.cut_once.add(PBF)
    res, logs = _fetch(server, tmp_path)
    assert res.ok
    gets = server.gets(PBF)
    assert gets[0] is None and gets[1] is not None  # the second request carries Range
    start = int(gets[1].split("=")[1].rstrip("-"))
    assert start == len(server.files[PBF]) // 2
    assert any("resuming at byte" in m for m in logs)
    cached = json.loads((tmp_path / "cache" / "index.json").read_text())[f"{server.base}{PBF}"]
    assert cached["sha256"] == server.sha256(PBF)
    assert sha256_file(tmp_path / "cache" / cached["file"]) == server.sha256(PBF)
    assert (res.pack / "roads_national.geojson").exists()


def test_cached_downloads_are_reused_and_a_corrupted_one_is_refused_and_refetched(server, tmp_path):
    _fetch(server, tmp_path)
    n = len(server.gets(PBF))
    res, logs = _fetch(server, tmp_path)
    assert len(server.gets(PBF)) == n and any("cached" in m for m in logs)  # no new download
    # the cached extract gets corrupted on disk: its sha256 no longer matches the record
    rec = json.loads((tmp_path / "cache" / "index.json").read_text())[f"{server.base}{PBF}"]
    path = tmp_path / "cache" / rec["file"]
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    res, logs = _fetch(server, tmp_path)
    assert res.ok and any("fails its checksum" in m for m in logs)
    assert len(server.gets(PBF)) == n + 1
    assert sha256_file(path) == server.sha256(PBF)


def test_a_download_that_does_not_match_the_known_sha256_is_refused_and_refetched(server, tmp_path):
    server.corrupt_once.add(PBF)
    pins = {f"{server.base}{PBF}": server.sha256(PBF)}  # e.g. from an earlier pack.json (--pin)
    res, logs = _fetch(server, tmp_path, pins=pins)
    assert res.ok
    assert any("checksum mismatch" in m and "refused" in m for m in logs)
    assert len(server.gets(PBF)) == 2
    doc = json.loads((res.pack / "pack.json").read_text(encoding="utf-8"))
    assert {d["url"]: d["sha256"] for d in doc["downloads"]}[f"{server.base}{PBF}"] == server.sha256(PBF)


def test_failing_sources_are_reported_by_name_and_the_others_complete(server, tmp_path):
    server.status["/gb/gbOpen/LAO/ADM2/"] = 500
    server.status["/osm/cambodia-latest.osm.pbf"] = 404
    res, logs = _fetch(server, tmp_path)
    failed = {f["source"]: f["error"] for f in res.failures}
    assert set(failed) == {"geoBoundaries LAO ADM2", "OpenStreetMap KHM extract"}
    assert "HTTP 500" in failed["geoBoundaries LAO ADM2"] and "HTTP 404" in failed["OpenStreetMap KHM extract"]
    pack = res.pack
    for f in (
        "partner_lao_provinces.geojson",
        "border_lines_osm.geojson",
        "roads_national.geojson",
        "gates_curated.csv",
        "gb_chn_adm3.geojson",
    ):
        assert (pack / f).exists(), f
    assert not (pack / "partner_lao_districts.geojson").exists()
    doc = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    assert {f["source"] for f in doc["failures"]} == set(failed)
    assert "partner_lao_districts.geojson" in {m["file"] for m in doc["missing"]}
    md = (pack / "MANIFEST.md").read_text(encoding="utf-8")
    assert "geoBoundaries LAO ADM2" in md and "OpenStreetMap KHM extract" in md


def test_cli_fetch_with_urls_from_settings(server, tmp_path, monkeypatch):
    monkeypatch.setenv("GEOBORDER_FETCH_GEOBOUNDARIES_URL", f"{server.base}/gb")
    monkeypatch.setenv("GEOBORDER_FETCH_OSM_URL", f"{server.base}/osm")
    monkeypatch.setenv("GEOBORDER_FETCH_CACHE", str(tmp_path / "cache"))
    res = CliRunner().invoke(cli.main, ["fetch", "--to", str(tmp_path / "pack"), "--osm", "VNM", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "missing (optional) vn_communes_2025.geojson" in res.output and "geoborder import" in res.output
    server.status["/gb/gbOpen/CHN/ADM3/"] = 404
    res = CliRunner().invoke(cli.main, ["fetch", "--to", str(tmp_path / "pack"), "--osm", "VNM", "--no-progress"])
    assert res.exit_code == 1 and "geoBoundaries CHN ADM3" in res.output and "Traceback" not in res.output


def _fresh_machine(tmp_path, monkeypatch, geoboundaries_url: str, osm_url: str) -> list:
    """No ../shared/data, no var/pack, no store, no GEOBORDER_PACK; uvicorn.run records its call."""
    import uvicorn

    from geoborder.core import settings

    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path / "checkout")
    monkeypatch.setattr(settings, "FETCHED_PACK", tmp_path / "checkout" / "var" / "pack")
    monkeypatch.delenv("GEOBORDER_PACK", raising=False)
    monkeypatch.setenv("GEOBORDER_STORE", str(tmp_path / "checkout" / "var" / "geoborder.gpkg"))
    monkeypatch.setenv("GEOBORDER_FETCH_GEOBOUNDARIES_URL", geoboundaries_url)
    monkeypatch.setenv("GEOBORDER_FETCH_OSM_URL", osm_url)
    monkeypatch.setenv("GEOBORDER_FETCH_CACHE", str(tmp_path / "checkout" / "var" / "cache"))
    served: list = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append((app, kw)))
    return served


def test_run_on_a_fresh_machine_fetches_the_open_data_builds_and_serves(server, tmp_path, monkeypatch):
    served = _fresh_machine(tmp_path, monkeypatch, f"{server.base}/gb", f"{server.base}/osm")
    res = CliRunner().invoke(cli.main, ["run", "--port", "8123"])
    assert res.exit_code == 0, res.output
    assert "fetching the open-data pack" in res.output and "building the store" in res.output
    pack = tmp_path / "checkout" / "var" / "pack"
    doc = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    assert not doc["failures"] and "roads_national.geojson" in {f["file"] for f in doc["files"]}
    assert len(server.gets(PBF)) == 1
    store = tmp_path / "checkout" / "var" / "geoborder.gpkg"
    segs = pyogrio.read_dataframe(store, layer="border_segments_gb")
    assert set(segs["commune_name"]) == {"Mường Lèo", "Mường Lạn"}
    # served once, on the store just built (the server's own settings are not this test's business)
    assert len(served) == 1
    app, kw = served[0]
    assert app == "api.main:app_from_env" and kw["factory"] is True
    assert (kw["host"], kw["port"], kw["workers"]) == ("127.0.0.1", 8123, 1)
    assert os.environ["GEOBORDER_STORE"] == str(store)
    # the next run finds the fetched pack and the store built from it: nothing is fetched again
    res = CliRunner().invoke(cli.main, ["run"])
    assert res.exit_code == 0, res.output
    assert "fetching" not in res.output and f"store {store} is up to date with {pack}" in res.output
    assert len(server.gets(PBF)) == 1 and len(served) == 2


def test_run_on_a_fresh_machine_offline_says_in_one_line_what_to_do(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on: connection refused
        s.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{s.getsockname()[1]}"
    served = _fresh_machine(tmp_path, monkeypatch, f"{refused}/gb", f"{refused}/osm")
    res = CliRunner().invoke(cli.main, ["run"])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    assert "cannot reach 127.0.0.1" in lines[0] and "make run" in lines[0] and "GEOBORDER_PACK" in lines[0]
    assert "Traceback" not in res.output and not served
    assert not (tmp_path / "checkout" / "var" / "pack").exists()


def test_default_pack_falls_back_to_the_fetched_pack(tmp_path, monkeypatch):
    from geoborder.core import settings

    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path / "checkout")
    monkeypatch.setattr(settings, "FETCHED_PACK", tmp_path / "checkout" / "var" / "pack")
    assert settings.default_pack() is None
    settings.FETCHED_PACK.mkdir(parents=True)
    (settings.FETCHED_PACK / "pack.json").write_text("{}")
    assert settings.default_pack() == settings.FETCHED_PACK
    shared = tmp_path / "shared" / "data"
    shared.mkdir(parents=True)
    (shared / "MANIFEST.md").write_text("x")
    assert settings.default_pack() == shared  # ../shared/data first


def test_a_second_run_with_the_api_down_uses_the_cached_answers(server, tmp_path):
    _fetch(server, tmp_path)
    for iso3, level in MADEUP_UNITS:
        server.status[f"/gb/gbOpen/{iso3}/ADM{level}/"] = 503
    res, logs = _fetch(server, tmp_path, name="pack2")
    assert res.ok and any("using the answer cached at" in m for m in logs)
    assert (res.pack / "partner_lao_provinces.geojson").exists()


def test_simplified_file_missing_falls_back_to_the_full_resolution_one(server, tmp_path):
    server.status["/data/geoBoundaries-LAO-ADM1_simplified.geojson"] = 404
    res, logs = _fetch(server, tmp_path)
    assert res.ok and any("trying gjDownloadURL" in m for m in logs)
    doc = json.loads((res.pack / "pack.json").read_text(encoding="utf-8"))
    f = {x["file"]: x for x in doc["files"]}["partner_lao_provinces.geojson"]
    assert f["urls"] == [f"{server.base}/data/geoBoundaries-LAO-ADM1.geojson"]


def test_without_the_partner_relation_the_border_is_split_by_the_nearest_partner_unit(server, tmp_path):
    """An extract cut at the border may hold Vietnam's admin_level=2 relation but not Laos'."""
    import re

    import osmium
    from madeup_sources import OSM_XML

    xml = re.sub(r'<relation id="1001".*?</relation>', "", OSM_XML.read_text(encoding="utf-8"), flags=re.S)
    src = tmp_path / "osm_no_lao_relation_madeup.osm"
    src.write_text(xml, encoding="utf-8")
    pbf = tmp_path / "osm_no_lao_relation_madeup.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as w:
        for obj in osmium.FileProcessor(str(src)):
            w.add(obj)
    for name in ("vietnam", "laos", "cambodia"):
        server.files[f"/osm/{name}-latest.osm.pbf"] = pbf.read_bytes()
    res, _ = _fetch(server, tmp_path)
    lines = pyogrio.read_dataframe(res.pack / "border_lines_osm.geojson")
    assert list(lines["pair"]) == ["VNM-LAO"] and list(lines["assigned_by"]) == ["nearest partner unit"]
    assert lines.geometry[0].length == pytest.approx(0.4, abs=1e-6)  # the maritime way is not in it
