"""A saved named area as a map's area (issue 17): the Lào Cai – Hà Giang adjacent-area cluster
saved through /reports/areas with the upload key, then the map page, the legend, a tile, the CSV
and the table of that area show exactly the communes the saved area holds (on both vintages).
The map is of a computed indicator (density, from the store): no value is made up."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from PIL import Image

from api.main import create_app
from geoborder.core.text import fold
from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.saved_areas import find_saved_area
from geoborder.maps.areas import area_choices

OUT = Path(__file__).resolve().parents[2] / "test-output"  # the screenshots, as the browser tests'

NAME = "khu vực giáp ranh Si Ma Cai – Bắc Hà – Xín Mần"
DISTRICTS = {"si ma cai", "bac ha", "xin man"}


def _cluster_codes(store) -> list[str]:
    """The pre-2025 communes of the three districts, read from the store (not through the reports)."""
    c = store.frame("communes_2009")
    key = c["district_name"].astype(str).map(lambda n: fold(n).removeprefix("huyen "))
    return sorted(c.loc[key.isin(DISTRICTS), "commune_code"].astype(str))


@pytest.fixture(scope="module")
def env(real_store, tmp_path_factory):
    db = IndicatorDB(tmp_path_factory.mktemp("saved_maps") / "indicators.sqlite")
    key = db.add_key("ban-chi-dao-lao-cai")
    codes = _cluster_codes(real_store)
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        r = c.post(
            "/reports/areas", data={"name": NAME, "area": "communes:" + ",".join(codes)}, headers={"X-API-Key": key}
        )
        assert r.status_code == 201, r.text
        yield c, db, codes


def test_the_saved_area_holds_the_three_districts(env, real_store):
    _, db, codes = env
    a = find_saved_area(db, "khu vuc giap ranh si ma cai")
    assert a is not None and a.name == NAME
    assert list(a.codes(2009)) == codes and len(codes) > 16  # every commune of the three districts
    provinces = set(
        real_store.frame("communes_2025").set_index("commune_code").loc[list(a.codes(2025)), "province_name"]
    )
    assert len(a.codes(2025)) > 0 and all("Lào Cai" in p or "Tuyên Quang" in p for p in provinces), provinces


@pytest.mark.parametrize("vintage", [2025, 2009])
def test_legend_csv_and_table_are_the_area_communes(env, vintage):
    api, db, _ = env
    want = set(find_saved_area(db, NAME).codes(vintage))
    q = {"indicator": "density", "vintage": vintage, "area": NAME}
    lg = api.get("/maps/legend", params=q)
    assert lg.status_code == 200, lg.text
    assert lg.json()["communes"] == len(want) and lg.json()["area_title"] == NAME
    r = api.get("/maps/data.csv", params=q)
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {row["commune_code"] for row in rows} == want
    t = api.get("/maps/table.json", params=q)
    assert t.status_code == 200, t.text
    assert {str(row["code"]) for row in t.json()["rows"]} == want
    # the same area by a name without diacritics
    assert api.get("/maps/legend", params={**q, "area": "KHU VUC GIAP RANH SI MA CAI"}).json()["communes"] == len(want)


def test_map_page_of_the_saved_area(env):
    api, _, _ = env
    r = api.get("/maps/density", params={"area": NAME})
    assert r.status_code == 200, r.text
    assert NAME in r.text


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n)
    return x, y


def test_tile_paints_the_area_communes_and_nothing_else(env, real_store):
    """Painted pixels lie within 3 px of the area's communes; the area's inside is painted."""
    from pyproj import Transformer
    from rasterio.features import rasterize
    from rasterio.transform import from_bounds

    api, db, _ = env
    want = set(find_saved_area(db, NAME).codes(2025))
    c = real_store.frame("communes_2025")
    inside = c[c["commune_code"].astype(str).isin(want)]
    shape = shapely.union_all(np.asarray(inside.geometry.values, dtype=object))
    z = 9
    x, y = _tile_of(shape.centroid.x, shape.centroid.y, z)
    r = api.get(f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png", params={"indicator": "density", "area": NAME})
    assert r.status_code == 200, r.text
    OUT.mkdir(exist_ok=True)  # a fresh clone has none
    Image.open(io.BytesIO(r.content)).save(OUT / "saved_area_tile.png")
    alpha = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))[:, :, 3] > 0
    half = 20037508.342789244
    size = 2 * half / 2**z
    x0, y1 = -half + x * size, half - y * size
    merc = shapely.transform(
        shape, lambda p: np.column_stack(Transformer.from_crs(4326, 3857, always_xy=True).transform(p[:, 0], p[:, 1]))
    )
    px = size / 256
    tr = from_bounds(x0, y1 - size, x0 + size, y1, 256, 256)
    near = rasterize([(merc.buffer(3 * px), 1)], out_shape=(256, 256), transform=tr, fill=0).astype(bool)
    core = rasterize([(merc.buffer(-3 * px), 1)], out_shape=(256, 256), transform=tr, fill=0).astype(bool)
    assert core.sum() > 1000  # the tile holds a good part of the area
    assert not (alpha & ~near).any(), "painted outside the saved area"
    assert alpha[core].all(), "part of the saved area left unpainted"


def test_unknown_area_names_the_saved_areas(env):
    api, _, _ = env
    r = api.get("/maps/legend", params={"indicator": "density", "area": "khu vực không có"})
    assert r.status_code == 400
    assert NAME in r.json()["description"]


def test_area_choices_list_the_saved_areas_after_the_provinces(env, real_store):
    _, db, _ = env
    choices = area_choices(real_store, db, 2025)
    keys = [k for k, _ in choices]
    assert keys[:3] == ["all", "border", "border_communes"] and keys[-1] == NAME
    assert all(k.isdigit() for k in keys[3:-1]) and len(keys) == 3 + 34 + 1


def test_export_and_cli_map_of_the_saved_area(env, real_store, tmp_path):
    from click.testing import CliRunner

    from geoborder.cli.main import main as cli

    api, db, _ = env
    r = api.get("/maps/density/export", params={"format": "png", "area": NAME})
    assert r.status_code == 200, r.text
    assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert "khu_vuc_giap_ranh_si_ma_cai" in r.headers["content-disposition"]
    if not hasattr(real_store, "path"):
        pytest.skip("the CLI opens a store by path")
    out = tmp_path / "cluster.png"
    args = ["map", "density", "--area", "khu vuc giap ranh si ma cai", "--out", str(out)]
    res = CliRunner().invoke(cli, [*args, "--store", str(real_store.path), "--db", str(db.path)])
    assert res.exit_code == 0, res.output
    assert NAME in res.output and out.read_bytes()[:4] == b"\x89PNG"
    res = CliRunner().invoke(
        cli,
        [
            "map",
            "density",
            "--area",
            "nowhere",
            "--out",
            str(out),
            "--store",
            str(real_store.path),
            "--db",
            str(db.path),
        ],
    )
    assert res.exit_code == 2 and NAME in res.output
