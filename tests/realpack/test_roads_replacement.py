"""A province's own roads replace the national road layer (issue 14): `geoborder import FILE
--layer roads` writes the pack's road file and records itself in pack.json; the build then makes
`roads` of it and names its source, and a roadless answer says which road layer it used.

The road file is made up (`madeup_local_roads.geojson`): three commune roads drawn around the real
position of one real village of Sơn La that is roadless against the national layer. `geoborder
fetch` writes the same pack file from an OpenStreetMap extract, recorded the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from geoborder import queries as q

pytestmark = pytest.mark.realpack

#: Bản Thẩm Tau (Phiêng Pằn, Sơn La): a GeoNames village of the real pack, not on the minute grid
VILLAGE = "10314760"


def _madeup_roads(lon: float, lat: float) -> dict:
    """Three made-up commune roads near (lon, lat), shaped like roads: a few bends each. Columns
    as a provincial file has them (ten_duong, loai, cap), mapped by the importer's aliases."""

    def line(points):
        return {"type": "LineString", "coordinates": [[round(lon + dx, 6), round(lat + dy, 6)] for dx, dy in points]}

    roads = [
        ("Đường bản Thẩm Tau (madeup)", [(-0.02, -0.011), (-0.009, -0.006), (-0.002, -0.0013), (0.006, 0.002)]),
        ("Đường nội bản (madeup)", [(0.006, 0.002), (0.011, 0.009), (0.013, 0.018)]),
        ("Đường ra nương (madeup)", [(-0.002, -0.0013), (-0.004, 0.007), (-0.012, 0.015), (-0.015, 0.024)]),
    ]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"ten_duong": name, "loai": "Đường xã", "cap": "Cấp Xã"},
                "geometry": line(pts),
            }
            for name, pts in roads
        ],
    }


@pytest.fixture(scope="module")
def local_roads_store(real_pack, real_store, tmp_path_factory):
    """The real pack with its road file replaced by the made-up local roads, built."""
    from geoborder.build.pipeline import build
    from geoborder.sources.importer import import_file
    from geoborder.store.open import open_store

    base = tmp_path_factory.mktemp("local_roads")
    pack = base / "pack"
    pack.mkdir()
    for f in Path(real_pack).iterdir():
        if f.name != "roads_national.geojson":  # the file the import writes
            (pack / f.name).symlink_to(f.resolve())
    v = real_store.frame("villages")
    g = v.geometry.iat[int(np.flatnonzero((v["geonameid"] == VILLAGE).to_numpy())[0])]
    src = base / "madeup_local_roads.geojson"
    src.write_text(json.dumps(_madeup_roads(g.x, g.y), ensure_ascii=False), encoding="utf-8")
    rep = import_file(src, "roads", pack)
    assert rep.rows == 3 and rep.columns == {"ten": "ten_duong", "loai_duong": "loai", "cap_duong": "cap"}
    build(pack, base / "store.gpkg", emit=lambda m: None)
    return open_store(base / "store.gpkg")


def _ids(fc) -> set:
    return {f["id"] for f in fc["features"]}


def test_national_layer_leaves_the_village_roadless(real_store):
    fc = q.roadless_villages(real_store, min_distance_m=2000, layer="villages")
    assert VILLAGE in _ids(fc)
    assert fc["caveats"]["road_layer"]["source_file"] == "roads_national.geojson"
    assert fc["caveats"]["road_layer"]["attribution"] == real_store.layer("roads").attribution


def test_local_roads_replace_the_national_layer(local_roads_store):
    s = local_roads_store
    roads = s.frame("roads")
    assert len(roads) == 3 and set(roads["road_class"]) == {"Cấp Xã"}
    info = s.layer("roads")
    assert "madeup_local_roads.geojson" in info.attribution and "(imported)" in info.source_vintage

    fc = q.roadless_villages(s, min_distance_m=2000)
    assert fc["query"]["layer"] == "villages"
    assert VILLAGE not in _ids(fc)  # roadless against the national layer, not against its own roads
    cav = fc["caveats"]
    assert cav["road_layer"]["attribution"] == info.attribution
    assert cav["road_layer"]["roads"] == 3 and cav["road_layer"]["road_classes"] == ["Cấp Xã"]
    assert cav["road_layer"]["scale"] == info.source_vintage
    # three roads in one commune say nothing about the rest of the border: far villages not judged
    nj = cav["not_judged"]
    assert nj["no_road_within_cap"] > 0
    assert nj["no_road_within_cap"] + cav["positions"]["listed"] + _near(s) == cav["positions"]["considered"]
    assert all(f["properties"]["distance_to_road_m"] <= nj["cap_m"] for f in fc["features"])

    # the village's profile measures the distance to its own roads
    code = s.frame("villages").set_index("geonameid").at[VILLAGE, "commune_code_2025"]
    mine = q.commune_profile(s, code)["features"][0]["properties"]["villages"]
    d = next(x["distance_to_road_m"] for x in mine if x["geonameid"] == VILLAGE)
    assert d < 300


def _near(store) -> int:
    """Villages within 2 km of a road of the store (the ones neither listed nor left out)."""
    fc = q.roadless_villages(store, min_distance_m=0)
    return sum(1 for f in fc["features"] if f["properties"]["distance_to_road_m"] <= 2000)
