"""Issue 13, "answers users can trust": maps, legends and indicators on the real store.

- a legend that says the classes it has, each bounded by its members, in both languages, and
  tiles in exactly the legend's colours (item 8);
- the lookup says a commune is outside the map's area, not "no data"; the short contacts of
  /queries/touching carry names (item 10);
- natural breaks on the 11,163 pre-2025 communes: the same legend every time, and the tiles in
  its colours; /indicators/links cached with an ETag (item 18);
- counts and booleans are integers in /indicators/{name}/values (item 6c).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from rasterio.io import MemoryFile

from api.main import create_app
from geoborder.indicators.db import IndicatorDB
from geoborder.maps import choropleth as C

SON_LA_2009 = "303"
COLLAPSED = f"indicator=border_length_km&vintage=2009&area={SON_LA_2009}"


def _png_rgba(body: bytes) -> np.ndarray:
    with MemoryFile(body) as mem, mem.open() as ds:
        return np.moveaxis(ds.read(), 0, -1)


def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def _tiles_over(bbox, z: int) -> list[tuple[int, int, int]]:
    def xy(lon, lat):
        n = 2**z
        x = int((lon + 180) / 360 * n)
        r = math.radians(lat)
        y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
        return x, y

    (x0, y0), (x1, y1) = xy(bbox[0], bbox[3]), xy(bbox[2], bbox[1])
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def _tile_colours(client, query: str, bbox, z: int) -> set[tuple[int, int, int]]:
    seen: set = set()
    for z_, x, y in _tiles_over(bbox, z):
        r = client.get(f"/tiles/WebMercatorQuad/{z_}/{x}/{y}.png?{query}")
        assert r.status_code == 200
        rgba = _png_rgba(r.content).reshape(-1, 4)
        seen |= {tuple(int(v) for v in c[:3]) for c in np.unique(rgba[rgba[:, 3] == 255], axis=0)}
    return seen


# --------------------------------------------------------------------------- item 8


def test_a_collapsed_legend_says_the_classes_it_has(client):
    """Sơn La's 204 pre-2025 communes: 187 have no border, so 5 quantiles collapse to 2 classes."""
    legend = client.get(f"/maps/legend?{COLLAPSED}").json()
    classes = [e for e in legend["legend"] if e["class"] >= 0]
    assert legend["k"] == len(classes) == 2 and legend["k_requested"] == 5
    fc = client.get(f"/maps/data.geojson?{COLLAPSED}").json()
    assert fc["geoborder:map"]["k"] == 2 and fc["geoborder:map"]["k_requested"] == 5
    for e in classes:
        members = [f["properties"]["value"] for f in fc["features"] if f["properties"]["class"] == e["class"]]
        assert (e["lower"], e["upper"], e["count"]) == (min(members), max(members), len(members))
        assert {f["properties"]["color"] for f in fc["features"] if f["properties"]["class"] == e["class"]} == {
            e["color"]
        }
    # no class from 0 that no member reaches: the bordering communes have more than 2 km
    assert classes[0]["upper"] == 0.0 and classes[1]["lower"] > 2.0
    assert [e["label"] for e in classes] == ["0,00", f"{classes[1]['lower']:.2f} – 49,7".replace(".", ",")]
    en = [e["label"] for e in client.get(f"/maps/legend?{COLLAPSED}&lang=en").json()["legend"] if e["class"] >= 0]
    assert en == ["0.00", f"{classes[1]['lower']:.2f} – 49.7"]


@pytest.mark.parametrize(
    "lang, text",
    [("vi", "k = 2 (chọn 5 lớp; số liệu chỉ tách được 2)"), ("en", "k = 2 (5 asked; the values make only 2)")],
)
def test_the_page_says_the_k_it_has_in_both_languages(client, lang, text):
    html = client.get(f"/maps/border_length_km?vintage=2009&area={SON_LA_2009}&lang={lang}").text
    assert text in html and "k = 5" not in html


def test_the_tiles_are_in_the_legend_colours(client):
    legend = client.get(f"/maps/legend?{COLLAPSED}").json()
    allowed = {_hex(e["color"]) for e in legend["legend"]}
    seen = _tile_colours(client, COLLAPSED, legend["bbox"], 7)  # no outlines below zoom 8
    assert seen and seen <= allowed
    assert {_hex(e["color"]) for e in legend["legend"] if e["class"] >= 0} <= seen


# --------------------------------------------------------------------------- item 10


def _point_in(real_store, vintage: int, province_code: str) -> tuple[dict, shapely.Point]:
    c = real_store.frame(f"communes_{vintage}")
    one = c[c["province_code"] == province_code].iloc[0]
    return one, shapely.point_on_surface(one.geometry)


@pytest.mark.parametrize("lang, outside", [("vi", "Ngoài vùng bản đồ"), ("en", "Outside the map's area")])
def test_the_lookup_says_outside_the_area_not_no_data(client, real_store, lang, outside):
    one, p = _point_in(real_store, 2025, "11")  # a commune of Điện Biên on the map of Sơn La
    d = client.get(f"/maps/lookup?indicator=density&area=14&lon={p.x}&lat={p.y}&lang={lang}").json()["commune"]
    assert d["commune_code"] == one["commune_code"] and d["in_area"] is False
    assert d["value_text"] == outside and d["value"] is None and d["class"] is None
    no_data = C.LABELS[lang]["no_data"]
    assert no_data not in d["value_text"] and all(no_data not in text for _, text in d["fields"])
    assert any(outside in text for _, text in d["fields"])
    # inside the area the same lookup still gives the value and its class
    _, q = _point_in(real_store, 2025, "14")
    inside = client.get(f"/maps/lookup?indicator=density&area=14&lon={q.x}&lat={q.y}&lang={lang}").json()["commune"]
    assert inside["in_area"] is True and inside["value"] is not None and outside not in inside["value_text"]


@pytest.mark.parametrize(
    "unit, vintage", [("Houaphanh", 2025), ("Trung Quốc", 2025), ("Sơn La", 2025), ("Mộc Châu", 2009)]
)
def test_short_contacts_carry_names(client, real_store, unit, vintage):
    r = client.get("/queries/touching", params={"unit": unit, "vintage": vintage, "min_shared_km": 3})
    assert r.status_code == 200, r.text
    excluded = r.json()["excluded_short_contacts"]
    assert excluded
    c = real_store.frame(f"communes_{vintage}").set_index("commune_code")
    for e in excluded:
        row = c.loc[e["commune_code"]]
        assert e["name"] == row["name"] and e["province_name"] == row["province_name"], e
        if vintage == 2009:
            assert e["district_name"] == row["district_name"]
        assert 0 < e["shared_length_km"] < 3


# --------------------------------------------------------------------------- item 18


def test_natural_breaks_on_the_pre_2025_communes_are_one_legend_and_its_tiles(client, real_store):
    q = "indicator=density&vintage=2009&area=all&classes=natural_breaks&k=6"
    first = client.get(f"/maps/legend?{q}").json()
    assert sum(e["count"] for e in first["legend"]) == first["communes"] == len(real_store.frame("communes_2009"))
    C.clear_cache()  # computed again: the same breaks (a fixed sample, no random draw)
    again = client.get(f"/maps/legend?{q}").json()
    assert again["legend"] == first["legend"] and first["k"] == 6
    ch = C.choropleth(real_store, None, C.MapSpec("density", 2009, "all", None, "natural_breaks", 6))
    assert [e["color"] for e in first["legend"] if e["class"] >= 0] == list(ch.classification.colors)
    r = client.get(f"/tiles/WebMercatorQuad/6/50/28.png?{q}")
    rgba = _png_rgba(r.content).reshape(-1, 4)
    seen = {tuple(int(v) for v in c[:3]) for c in np.unique(rgba[rgba[:, 3] == 255], axis=0)}
    assert seen and seen <= {_hex(e["color"]) for e in first["legend"]}


def test_reform_links_are_cached_with_an_etag(client):
    r = client.get("/indicators/links")
    assert r.status_code == 200 and r.headers.get("etag")
    body = r.json()
    assert body["count"] == len(body["units"]) == body["summary"]["units_2009"]
    again = client.get("/indicators/links", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    unlinked = client.get("/indicators/links", params={"status": "unlinked"})
    assert unlinked.headers["etag"] != r.headers["etag"]
    assert all(u["status"] == "unlinked" for u in unlinked.json()["units"])
    assert client.get("/indicators/links").content == r.content  # the same document


def test_reform_links_are_built_once_per_data_version(client, monkeypatch):
    from geoborder.indicators import values

    calls = []
    real = values.reform_link_rows
    monkeypatch.setattr(
        values, "reform_link_rows", lambda store, status=None: calls.append(status) or real(store, status)
    )
    values._LINK_DOCS.clear()
    first = client.get("/indicators/links", params={"status": "group"})
    again = client.get("/indicators/links", params={"status": "group"})  # no If-None-Match: a full answer
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert calls == ["group"]


# --------------------------------------------------------------------------- item 6c


@pytest.fixture
def api(real_store, tmp_path):
    db = IndicatorDB(tmp_path / "indicators.sqlite")
    key = db.add_key("thong-ke-son-la")
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        yield c, key


def _upload(c, key, data: bytes, **form):
    r = c.post(
        "/indicators/imports",
        files={"file": ("madeup.csv", data, "text/csv")},
        data={k: str(v) for k, v in form.items()},
        headers={"X-API-Key": key},
    )
    assert r.status_code == 201, r.text


def _values(c, name, **params) -> dict:
    r = c.get(f"/indicators/{name}/values", params=params)
    assert r.status_code == 200, r.text
    return {v["commune_code"]: v["value"] for v in r.json()["values"]}


def test_counts_and_booleans_are_integers(api):
    c, key = api
    _upload(
        c,
        key,
        b"commune_code,poor_households,road_to_centre_hardened,poverty_rate\n04045,204,1,12.0\n04240,188,0,7.5\n",
        year=2024,
    )
    hh = _values(c, "poor_households", year=2024)
    assert hh == {"04045": 204, "04240": 188} and all(type(v) is int for v in hh.values())
    road = _values(c, "road_to_centre_hardened", year=2024)
    assert road == {"04045": 1, "04240": 0} and all(type(v) is int for v in road.values())
    rate = _values(c, "poverty_rate", year=2024)
    assert rate == {"04045": 12.0, "04240": 7.5} and all(type(v) is float for v in rate.values())
    # a computed count: whole numbers as ints, a missing value null
    pop = _values(c, "population")
    assert pop and all(v is None or type(v) is int for v in pop.values())
    assert any(type(v) is int for v in pop.values())
    # pre-2025 values on 2025 communes through the crosswalk
    _upload(c, key, b"commune_code,poor_households\n3031645,188\n", vintage=2009, year=2019)
    on25 = _values(c, "poor_households", source_vintage=2009)
    assert on25["04240"] == 188 and type(on25["04240"]) is int
