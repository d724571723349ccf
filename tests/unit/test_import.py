"""`geoborder import`: a province's own files into a pack, in WGS84 with Unicode names.

The shapefiles are built here with made-up positions (values say `madeup`): a marker list of the
kind a provincial office keeps, in VN-2000 / TM-3 104-00 (Sơn La), attribute text in TCVN3 or VNI
bytes, without .prj.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer

from geoborder.cli import main as cli
from geoborder.core.errors import DataImportError
from geoborder.sources import legacy_encodings as le
from geoborder.sources.importer import import_file

NAMES = ["Mường Lèo", "Sơn La", "Chiềng Khương", "Điện Biên"]
# the same names as the bytes a TCVN3 (ABC) and a VNI-Windows font stores
TCVN3 = {
    "Mường Lèo": b"M\xad\xeang L\xcco",
    "Sơn La": b"S\xacn La",
    "Chiềng Khương": b"Chi\xd2ng Kh\xad\xacng",
    "Điện Biên": b"\xa7i\xd6n Bi\xaan",
}
VNI = {
    "Mường Lèo": b"M\xf6\xf4\xf8ng Le\xf8o",
    "Sơn La": b"S\xf4n La",
    "Chiềng Khương": b"Chie\xe0ng Kh\xf6\xf4ng",
    "Điện Biên": b"\xd1ie\xe4n Bie\xe2n",
}
# made-up marker positions near the Sơn La - Houaphan border (lon, lat)
MADEUP_LONLAT = [(103.95, 20.90), (103.96, 20.80), (103.97, 20.70), (103.98, 20.65)]


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("name", NAMES)
def test_tables_decode_known_names(name):
    assert le.decode_tcvn3(TCVN3[name]) == name
    assert le.decode_vni(VNI[name]) == name


def test_tcvn3_table_matches_glibc():
    """Every byte of the table decodes as glibc's TCVN5712-1 converter does (VN1 superset)."""
    if shutil.which("iconv") is None:
        pytest.skip("no iconv on this machine")
    probe = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=b"\xad", capture_output=True)
    if probe.returncode != 0:
        pytest.skip("this iconv has no TCVN5712-1")
    for b, ch in le.TCVN3_TABLE.items():
        out = subprocess.run(
            ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=bytes([b]), capture_output=True
        ).stdout.decode("utf-8")
        assert out == ch, hex(b)


@pytest.mark.parametrize("table,expected", [(TCVN3, "tcvn3"), (VNI, "vni")])
def test_detect_a_column_of_names(table, expected):
    as_read = [raw.decode("latin-1") for raw in table.values()]  # what GDAL shows for a legacy DBF
    det = le.detect(as_read)
    assert det.encoding == expected
    assert [le.convert(v, det.encoding) for v in as_read] == list(table)


def test_detect_leaves_unicode_and_recovers_utf8_read_as_latin1():
    assert le.detect(NAMES).encoding == "unicode"
    assert le.detect(["Xa Mat", "Hekou"]).encoding == "ascii"
    as_read = [n.encode("utf-8").decode("latin-1") for n in NAMES]
    det = le.detect(as_read)
    assert det.encoding == "utf-8" and [le.convert(v, "utf-8") for v in as_read] == NAMES


# --------------------------------------------------------------------------- shapefiles


def _marker_shapefile(
    tmp: Path, names_bytes: list[bytes], epsg: int | None, *, zipped: bool, keep_prj: bool = False
) -> Path:
    """A point shapefile whose DBF text is exactly `names_bytes` (legacy font bytes)."""
    to = Transformer.from_crs(4326, epsg or 4326, always_xy=True)
    pts = [shapely.Point(*to.transform(x, y)) for x, y in MADEUP_LONLAT[: len(names_bytes)]]
    gdf = gpd.GeoDataFrame(
        {
            "SO_HIEU": [f"{230 + i}" for i in range(len(names_bytes))],
            "TEN_XA": [b.decode("latin-1") for b in names_bytes],  # bytes 1:1 as Latin-1 text
            "GHI_CHU": ["madeup" for _ in names_bytes],
        },
        geometry=pts,
        crs=f"EPSG:{epsg}" if epsg else None,
    )
    d = tmp / "shp_madeup"
    d.mkdir(exist_ok=True)
    shp = d / "moc_madeup.shp"
    pyogrio.write_dataframe(gdf, shp, driver="ESRI Shapefile", encoding="latin1")
    for ext in ([] if keep_prj else [".prj"]) + [".cpg"]:
        shp.with_suffix(ext).unlink(missing_ok=True)  # provincial files often have neither
    if not zipped:
        return shp
    z = tmp / "moc_madeup.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in d.iterdir():
            zf.write(p, p.name)
    return z


def test_zipped_tcvn3_shapefile_in_vn2000_without_prj(tmp_path):
    src = _marker_shapefile(tmp_path, [TCVN3[n] for n in NAMES], 9206, zipped=True)
    raw = (tmp_path / "shp_madeup" / "moc_madeup.dbf").read_bytes()
    assert TCVN3["Mường Lèo"] in raw  # the DBF really holds TCVN3 bytes
    pack = tmp_path / "pack"
    rep = import_file(
        src,
        "markers",
        pack,
        crs="EPSG:9206",
        constants={"border": "VN-LA", "vn_province": "Sơn La", "source": "madeup provincial list"},
    )
    df = pd.read_csv(pack / "markers_published.csv", dtype=str, keep_default_na=False)
    assert list(df["vn_commune"]) == NAMES  # TEN_XA (commune name) mapped to vn_commune
    assert rep.encoding.encoding == "tcvn3" and rep.converted["TEN_XA"] == 4
    assert list(df["marker"]) == ["230", "231", "232", "233"]
    # back in WGS84 where the made-up points were (1e-6 deg ~ 0.1 m)
    for (x, y), lon, lat in zip(MADEUP_LONLAT, df["lon"], df["lat"]):
        assert abs(float(lon) - x) < 1e-6 and abs(float(lat) - y) < 1e-6
    assert "EPSG:9206" in rep.crs and "--crs" in rep.crs_how
    assert any("no .prj" in n for n in rep.notes)
    text = "\n".join(rep.lines())
    assert "TCVN3" in text and "Mường Lèo" in text  # the report shows what was converted
    man = (pack / "pack.json").read_text(encoding="utf-8")
    assert "markers_published.csv" in man and "TCVN3" in man


def test_vni_shapefile_and_province_picks_the_tm3_zone(tmp_path):
    src = _marker_shapefile(tmp_path, [VNI[n] for n in NAMES], 9206, zipped=False)
    pack = tmp_path / "pack"
    rep = import_file(
        src,
        "markers",
        pack,
        province="Sơn La",
        constants={"border": "VN-LA", "vn_province": "Sơn La", "source": "madeup"},
    )
    df = pd.read_csv(pack / "markers_published.csv", dtype=str)
    assert list(df["vn_commune"]) == NAMES and rep.encoding.encoding == "vni"
    assert abs(float(df["lon"][0]) - MADEUP_LONLAT[0][0]) < 1e-6
    assert "104" in rep.crs_how and "Sơn La" in rep.crs_how


def test_no_crs_and_ambiguous_coordinates_is_refused(tmp_path):
    src = _marker_shapefile(tmp_path, [TCVN3["Sơn La"]], 9206, zipped=True)
    with pytest.raises(DataImportError, match="--crs") as err:
        import_file(
            src,
            "markers",
            tmp_path / "pack",
            constants={"border": "VN-LA", "vn_province": "Sơn La", "source": "madeup"},
        )
    assert "EPSG:9206" in str(err.value) and err.value.file.endswith("moc_madeup.zip")
    assert not (tmp_path / "pack" / "markers_published.csv").exists()
    res = CliRunner().invoke(
        cli.main,
        [
            "import",
            str(src),
            "--layer",
            "markers",
            "--to",
            str(tmp_path / "p2"),
            "--set",
            "border=VN-LA",
            "--set",
            "vn_province=Sơn La",
            "--set",
            "source=madeup",
        ],
    )
    assert res.exit_code == 2 and "--crs" in res.output and "Traceback" not in res.output


def test_declared_prj_is_used(tmp_path):
    src = _marker_shapefile(tmp_path, [TCVN3["Sơn La"]], 9206, zipped=False, keep_prj=True)
    rep = import_file(
        src, "markers", tmp_path / "pack", constants={"border": "VN-LA", "vn_province": "Sơn La", "source": "madeup"}
    )
    assert rep.crs_how == "declared in the file"


def test_missing_required_column_names_it(tmp_path):
    src = _marker_shapefile(tmp_path, [TCVN3["Sơn La"]], 9206, zipped=False, keep_prj=True)
    with pytest.raises(DataImportError, match="--map border=COLUMN") as err:
        import_file(src, "markers", tmp_path / "pack", constants={"vn_province": "Sơn La", "source": "x"})
    assert err.value.column == "border" and "SO_HIEU" in str(err.value)


# --------------------------------------------------------------------------- other formats


def test_csv_with_lonlat_and_geojson_and_kml(tmp_path):
    csv = tmp_path / "gates_madeup.csv"
    csv.write_text(
        "ten,tinh,nuoc,loai,kinh_do,vi_do\nChiềng Khương,Sơn La,LAO,main (madeup),103.96,20.75\n", encoding="utf-8"
    )
    rep = import_file(csv, "gates", tmp_path / "pack", column_map={"partner_iso3": "nuoc", "class_note": "loai"})
    df = pd.read_csv(tmp_path / "pack" / "gates_curated.csv", dtype=str)
    assert df["name_vi"][0] == "Chiềng Khương" and df["partner_country_iso3"][0] == "LAO"
    assert df["class"][0] == "main (madeup)" and float(df["lon"][0]) == 103.96
    assert rep.crs_how.startswith("detected: lon/lat")

    g = gpd.GeoDataFrame(
        {"ten": ["Bản Mường Lèo"], "geonameid": ["madeup-1"], "cc": ["VN"]},
        geometry=[shapely.Point(104.05, 20.9)],
        crs="EPSG:4326",
    )
    for driver, name in (
        ("GeoJSON", "places_madeup.geojson"),
        ("KML", "places_madeup.kml"),
        ("GPKG", "places_madeup.gpkg"),
    ):
        p = tmp_path / name
        pyogrio.write_dataframe(g, p, driver=driver)
        import_file(
            p, "places", tmp_path / f"pack_{driver}", column_map={"name": "ten"} if driver != "KML" else {"name": "ten"}
        )
        out = pyogrio.read_dataframe(tmp_path / f"pack_{driver}" / "places_geonames.geojson")
        assert out["name"][0] == "Bản Mường Lèo", driver
        assert abs(out.geometry[0].x - 104.05) < 1e-9


def test_cli_import_reports_conversion(tmp_path):
    src = _marker_shapefile(tmp_path, [TCVN3[n] for n in NAMES], 9206, zipped=True)
    res = CliRunner().invoke(
        cli.main,
        [
            "import",
            str(src),
            "--layer",
            "markers",
            "--to",
            str(tmp_path / "pack"),
            "--crs",
            "EPSG:9206",
            "--set",
            "border=VN-LA",
            "--set",
            "vn_province=Sơn La",
            "--set",
            "source=madeup",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "converted from TCVN3" in res.output and "TEN_XA: 4 values converted" in res.output


def test_csv_in_tcvn3_bytes(tmp_path):
    csv = tmp_path / "markers_tcvn3_madeup.csv"
    rows = [b"so_moc,xa,tinh,x,y"] + [
        b"%d,%s,S\xacn La,%f,%f" % (230 + i, TCVN3[n], x, y) for i, (n, (x, y)) in enumerate(zip(NAMES, MADEUP_LONLAT))
    ]
    csv.write_bytes(b"\n".join(rows) + b"\n")
    rep = import_file(csv, "markers", tmp_path / "pack", constants={"border": "VN-LA", "source": "madeup"})
    df = pd.read_csv(tmp_path / "pack" / "markers_published.csv", dtype=str)
    assert list(df["vn_commune"]) == NAMES and set(df["vn_province"]) == {"Sơn La"}
    assert rep.encoding.encoding == "tcvn3" and rep.converted == {"xa": 4, "tinh": 4}


def test_append_adds_rows_and_pack_json_records_the_import(tmp_path):
    pack = tmp_path / "pack"
    consts = {"border": "VN-LA", "vn_province": "Sơn La", "source": "madeup"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _marker_shapefile(tmp_path / "a", [TCVN3[n] for n in NAMES[:2]], 9206, zipped=False)
    b = _marker_shapefile(tmp_path / "b", [VNI[n] for n in NAMES[2:]], 9206, zipped=False)
    import_file(a, "markers", pack, crs="EPSG:9206", constants=consts)
    rep = import_file(b, "markers", pack, crs="EPSG:9206", constants=consts, append=True)
    df = pd.read_csv(pack / "markers_published.csv", dtype=str)
    assert list(df["vn_commune"]) == NAMES  # TCVN3 rows, then VNI rows, all Unicode
    assert any("appended to the 2 rows" in n for n in rep.notes)
    doc = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    rec = {f["file"]: f for f in doc["files"]}["markers_published.csv"]
    assert rec["source"] == "imported from moc_madeup.shp" and any("VNI" in n for n in rec["notes"])


def test_unwritable_pack_is_a_clear_error(tmp_path):
    src = _marker_shapefile(tmp_path, [TCVN3["Sơn La"]], 9206, zipped=False, keep_prj=True)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(DataImportError, match="cannot write"):
        import_file(src, "markers", blocker, constants={"border": "VN-LA", "vn_province": "Sơn La", "source": "madeup"})
