"""Bad input gets a clear error naming file, layer, field and row, and loses nothing.

Each test starts from a small real-shaped pack: the real pack cut to the Sơn La border area at
test time (nothing from ../shared/data is copied into the repository), then breaks one thing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from geoborder.build.pipeline import build, is_stale
from geoborder.cli import main as cli
from geoborder.core.errors import BuildError

BBOX = (103.3, 20.4, 105.2, 21.7)  # Sơn La's border with Houaphanh and Luang Prabang


def _subset_pack(src: Path, dst: Path) -> Path:
    import geopandas as gpd
    import pandas as pd
    import shapely

    dst.mkdir(parents=True, exist_ok=True)
    box = shapely.box(*BBOX)
    for path in src.glob("*.geojson"):
        gdf = pyogrio.read_dataframe(path)
        if path.name == "partner_dcw_countries_and_china_provinces.geojson":
            keep = gdf  # five features, the build selects by code
        else:
            keep = gdf[gdf.intersects(box)]
            if path.name.startswith("border_lines"):
                keep = keep.assign(geometry=keep.geometry.clip_by_rect(*BBOX))
        pyogrio.write_dataframe(gpd.GeoDataFrame(keep, crs=gdf.crs), dst / path.name, driver="GeoJSON")
    for name in ("gates_curated.csv", "markers_published.csv"):
        df = pd.read_csv(src / name, dtype=str, keep_default_na=False)
        df[df["vn_province"].isin(["Sơn La", "Điện Biên"])].to_csv(dst / name, index=False)
    shutil.copy(src / "MANIFEST.md", dst / "MANIFEST.md")
    return dst


@pytest.fixture(scope="module")
def mini_pack(real_pack, tmp_path_factory) -> Path:
    return _subset_pack(real_pack, tmp_path_factory.mktemp("minipack") / "pack")


@pytest.fixture()
def pack(mini_pack, tmp_path) -> Path:
    """A fresh copy of the mini pack that a test may break."""
    return Path(shutil.copytree(mini_pack, tmp_path / "pack"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _edit_geojson(path: Path, fn):
    doc = json.loads(path.read_text(encoding="utf-8"))
    fn(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_mini_pack_builds(pack, tmp_path):
    res = build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    assert res.counts["border_communes_2025"] > 5
    assert not is_stale(pack, tmp_path / "s.gpkg")


def test_missing_column_names_file_layer_and_field(pack, tmp_path):
    def drop(doc):
        for f in doc["features"]:
            f["properties"].pop("commune_code")

    _edit_geojson(pack / "vn_communes_2025.geojson", drop)
    with pytest.raises(BuildError) as err:
        build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    e = err.value
    assert e.file.endswith("vn_communes_2025.geojson") and e.layer == "communes_2025" and e.field == "commune_code"
    assert "missing column" in str(e)


def test_unreadable_file(pack, tmp_path):
    (pack / "vn_provinces_2009.geojson").write_bytes(b"\x00\x01 this is not GeoJSON")
    with pytest.raises(BuildError) as err:
        build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    assert err.value.file.endswith("vn_provinces_2009.geojson") and err.value.layer == "provinces_2009"
    assert "cannot read" in str(err.value)


def test_missing_file(pack, tmp_path):
    (pack / "roads_national.geojson").unlink()
    with pytest.raises(BuildError, match="file not found in the pack") as err:
        build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    assert err.value.layer == "roads"


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_projected_coordinates_without_crs_are_refused(pack, tmp_path):
    gdf = pyogrio.read_dataframe(pack / "vn_districts_2009.geojson").to_crs("EPSG:3405")
    path = pack / "vn_districts_2009.geojson"
    pyogrio.write_dataframe(gdf.set_crs(None, allow_override=True), path, driver="GeoJSON")
    with pytest.raises(BuildError, match="wrong CRS") as err:
        build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    assert err.value.layer == "districts_2009" and err.value.field == "geometry"


@pytest.mark.filterwarnings("ignore:File .* has GPKG application_id")
def test_declared_crs_is_reprojected(pack, tmp_path):
    import shapely

    path = pack / "places_geonames.geojson"
    gdf = pyogrio.read_dataframe(path)
    path.unlink()
    pyogrio.write_dataframe(gdf.to_crs("EPSG:3405"), pack / "places_geonames.gpkg", driver="GPKG")
    # the catalog names the .geojson; a pack keeps file names, so put the GPKG under that name
    (pack / "places_geonames.gpkg").rename(path)
    res = build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    out = pyogrio.read_dataframe(res.store, layer="places")
    a = gdf.set_index("geonameid").geometry
    b = out.set_index("geonameid").geometry
    assert len(b) == len(a)
    # back in lon/lat where it started (degrees; 1e-6 deg is about 0.1 m)
    assert shapely.distance(a.loc[b.index].values, b.values).max() < 1e-6


def test_empty_geometry_names_the_row(pack, tmp_path):
    def empty(doc):
        doc["features"][2]["geometry"] = None

    _edit_geojson(pack / "vn_communes_2009.geojson", empty)
    with pytest.raises(BuildError, match="empty geometry") as err:
        build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    assert err.value.row == 3 and err.value.layer == "communes_2009"


def test_bad_csv_value_names_line_and_column(pack, tmp_path):
    path = pack / "gates_curated.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("lat")] = "21,5N"  # a comma breaks the row: quote it as a real editor would
    lines[1] = ",".join(row[: header.index("lat")] + ['"21.5 N"'] + row[header.index("lat") + 2 :])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BuildError, match="not a number") as err:
        build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    assert err.value.field == "lat" and err.value.row == 2 and err.value.layer == "gates"


def test_csv_not_utf8(pack, tmp_path):
    path = pack / "markers_published.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1258", errors="replace"))
    with pytest.raises(BuildError, match="not UTF-8") as err:
        build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    assert err.value.layer == "markers" and err.value.row >= 2


def test_bad_code_names_row(pack, tmp_path):
    def bad(doc):
        doc["features"][0]["properties"]["province_code"] = "1A"

    _edit_geojson(pack / "vn_communes_2025.geojson", bad)
    with pytest.raises(BuildError, match="not a code") as err:
        build(pack, tmp_path / "s.gpkg", emit=lambda m: None)
    assert err.value.row == 1 and err.value.field == "province_code"


def test_failed_build_leaves_previous_store_untouched(pack, tmp_path):
    store = tmp_path / "s.gpkg"
    build(pack, store, emit=lambda m: None)
    before = _sha(store)
    (pack / "vn_communes_2025.geojson").write_text("{ broken", encoding="utf-8")
    with pytest.raises(BuildError):
        build(pack, store, emit=lambda m: None)
    assert _sha(store) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".gpkg") == ["s.gpkg"]  # no temp left
    assert is_stale(pack, store)  # the pack changed, the store did not


def test_cli_reports_errors_without_traceback(pack, tmp_path):
    (pack / "vn_communes_2025.geojson").write_text("{ broken", encoding="utf-8")
    res = CliRunner().invoke(cli.main, ["build", "--pack", str(pack), "--store", str(tmp_path / "s.gpkg")])
    assert res.exit_code == 2
    assert "vn_communes_2025.geojson" in res.output and "communes_2025" in res.output
    assert "Traceback" not in res.output


def test_cli_without_any_pack_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr("geoborder.core.settings.default_pack", lambda: None)
    monkeypatch.delenv("GEOBORDER_PACK", raising=False)
    monkeypatch.setenv("GEOBORDER_STORE", str(tmp_path / "none.gpkg"))
    res = CliRunner().invoke(cli.main, ["run"])
    assert res.exit_code == 2
    # offline (this machine reaches no open-data server): one line saying what to do, no traceback
    assert res.output.count("\n") == 1 and "Traceback" not in res.output
    assert "GEOBORDER_PACK" in res.output and "make run" in res.output


def test_build_is_deterministic(pack, tmp_path):
    a = build(pack, tmp_path / "a.gpkg", emit=lambda m: None).store
    b = build(pack, tmp_path / "b.gpkg", emit=lambda m: None).store
    for layer in pyogrio.list_layers(a)[:, 0]:
        da = pyogrio.read_dataframe(a, layer=layer)
        db = pyogrio.read_dataframe(b, layer=layer)
        if layer == "geoborder_build":
            da, db = (d[d["key"] == "fingerprint"] for d in (da, db))
        if layer == "geoborder_layers":
            da, db = (d.drop(columns="built_at") for d in (da, db))
        assert da.drop(columns="geometry", errors="ignore").equals(db.drop(columns="geometry", errors="ignore")), layer
        if "geometry" in da:
            assert da.geometry.to_wkb().equals(db.geometry.to_wkb()), layer


@pytest.mark.parametrize(
    "file, layer",
    [("vn_communes_2009.geojson", "communes_2009"), ("vn_commune_centres_2025.geojson", "commune_seats_2025")],
)
def test_an_absent_optional_unit_file_is_left_out_with_a_note(pack, tmp_path, file, layer):
    """The Vietnamese unit layers are optional (an open-data pack has none); a present but broken
    one is still an error (test_unreadable_file). Without communes_2009 nothing pre-2025 is derived
    and gates keep only their published positions."""
    from geoborder.build.pipeline import format_report

    (pack / file).unlink()
    logs: list[str] = []
    res = build(pack, tmp_path / "s.gpkg", emit=logs.append)
    assert res.report["absent"][layer] == file
    assert any(f"{layer}: optional source {file} absent, skipped" in m for m in logs)
    assert f"{layer}: optional source {file} not in the pack, layer left out" in format_report(res.report)
    layers = set(pyogrio.list_layers(res.store)[:, 0])
    assert layer not in layers and res.counts["border_communes_2025"] > 5
    if layer == "communes_2009":
        assert not {"border_segments_2009", "border_communes_2009", "border_segments_gb"} & layers
        assert any("border_segments_2009" in n for n in res.report["derive_notes"])
        assert res.report["measures"]["gates_derived"] == 0
        assert res.counts["gates"] == res.report["measures"]["gates_published"]
        unplaced = pyogrio.read_dataframe(res.store, layer="gates_unplaced", read_geometry=False)
        assert (unplaced["unplaced_reason"] == "no coded pre-2025 communes in this pack").any()
    else:  # no seats: derived gates are anchored on a point inside their commune instead
        assert res.counts["border_communes_2009"] > 5 and res.report["measures"]["gates_derived"] > 0
    meta = pyogrio.read_dataframe(res.store, layer="geoborder_layers", read_geometry=False)
    assert layer not in set(meta["layer_id"])
