"""The context of a map page without internet (issues 14 and 15): partner units named in the
page's language (Hủa Phăn on a Vietnamese page, Houaphan on an English one), Cambodian provinces
among them, partner polygons whole (not cut to the map's box), the Vietnamese provinces around
the map outlined and named, Vietnam's outline on the border-communes map, rivers and lakes (also
in the vector tiles), villages asked for by the view, and legend text that passes WCAG AA."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.maps import colours
from geoborder.store.memory import MemoryStore
from web import map_labels, map_tools
from web import maps as web_maps
from web.map_style import GATE_COLORS, GATE_OUTLINE, GATE_RING

SON_LA = [shapely.box(103.50, 21.0, 103.60, 21.1), shapely.box(103.60, 21.0, 103.70, 21.1)]
# Houaphan reaches far east of the map's box: a clipped copy would end at the box's edge
HOUAPHAN = shapely.box(103.0, 20.0, 105.5, 21.0)


def _frame(d: dict, geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(d, geometry=geoms, crs=4326)


@pytest.fixture(scope="module")
def context_client():
    communes = _frame(
        {
            "commune_code": ["00001", "00002"],
            "name": ["Mường Lèo", "Sốp Cộp"],
            "unit_type": ["Xã", "Xã"],
            "province_code": ["14", "14"],
            "province_name": ["Sơn La", "Sơn La"],
            "area_km2": [100.0, 100.0],
            "population": [1000.0, 5000.0],
        },
        SON_LA,
    )
    border = communes.iloc[[0]].copy()
    border["border_length_km"] = [12.5]
    border["partner_countries"] = ["LAO"]
    border["partner_units"] = ["LA-HO Houaphan"]
    border["partner_lengths"] = ['{"LA-HO": 12.5}']
    layers = {
        "communes_2025": communes,
        "border_communes_2025": border,
        "provinces_2025": _frame(
            {"province_code": ["14", "11"], "name": ["Sơn La", "Điện Biên"]},
            [shapely.box(103.5, 21.0, 103.7, 21.1), shapely.box(103.2, 21.0, 103.5, 21.3)],
        ),
        "countries": _frame(
            {"code": ["VN", "LA", "KH"], "name_en": ["Viet Nam", "Lao PDR", "Cambodia"],
             "name_vi": ["Việt Nam", "Lào", "Campuchia"], "iso3": ["VNM", "LAO", "KHM"]},
            [shapely.box(103.2, 21.0, 104.0, 22.0), shapely.box(102.0, 19.0, 105.5, 21.0),
             shapely.box(103.6, 20.3, 104.2, 20.6)],
        ),  # fmt: skip
        "lao_provinces": _frame(
            {"iso_code": ["LA-HO"], "name": ["Houaphan"], "shape_id": ["x"]}, [HOUAPHAN]
        ),
        "khm_provinces": _frame(
            {"iso_code": ["KH-16"], "name": ["Ratanakiri"], "name_vi": ["Ratanakiri (vi)"], "shape_id": ["k"]},
            [shapely.box(103.6, 20.3, 104.2, 20.6)],
        ),
        "cn_counties": _frame(
            {"adcode": ["532625"], "name": ["Maguan"], "name_en": ["Maguan"], "name_vi": ["Mã Quan"]},
            [shapely.box(103.55, 21.1, 103.75, 21.3)],
        ),
        "rivers_ne10m": _frame(
            {"name": ["Da"], "name_en": ["Da"], "scalerank": [5]},
            [shapely.LineString([(103.4, 21.02), (103.9, 21.08)])],
        ),
        "rivers_wdbii": _frame({"wdbii_level": [5], "class": ["minor river"]}, [shapely.LineString([(103.55, 21.0), (103.58, 21.1)])]),
        "lakes_ne10m": _frame({"name": ["Hồ Sơn La"], "featurecla": ["Lake"]}, [shapely.box(103.62, 21.04, 103.64, 21.06)]),
        "villages": _frame(
            {"geonameid": ["1", "2"], "name": ["Bản Lóng Sập", "Bản Xa"], "commune_code_2025": ["00001", "00002"]},
            [shapely.Point(103.55, 21.05), shapely.Point(103.9, 21.9)],
        ),
        "places": _frame(
            {"geonameid": ["9"], "name": ["Sơn La town"], "cc": ["VN"], "fcode": ["PPLA"], "population": [100000]},
            [shapely.Point(103.65, 21.05)],
        ),
        "roads": _frame(
            {"road_id": [1], "name": ["QL6"], "road_type": ["Quốc lộ"], "is_railway": [False]},
            [shapely.LineString([(103.5, 21.0), (103.7, 21.1)])],
        ),
        "border_lines": _frame({"pair": ["VNM-LAO"]}, [shapely.LineString([(103.5, 21.0), (103.7, 21.0)])]),
        "gates": _frame(
            {"gate_id": ["g1"], "name_vi": ["Lóng Sập"], "gate_class": ["international"], "partner_gate": ["Pa Hang"], "commune_code_2025": ["00001"]},
            [shapely.Point(103.56, 21.02)],
        ),
    }  # fmt: skip
    with TestClient(create_app(store=MemoryStore(layers, version="context-1"))) as c:
        yield c


def _labels(html: str) -> list[list]:
    m = re.search(r"var all = (\[.*?\])\.map\(entry\);", html, re.S)
    assert m, "the page has no labels"
    return json.loads(m.group(1))


def _geojson(html: str, layer: str) -> list[dict]:
    out = []
    for m in re.finditer(r"geo_json_\w+_add\((\{.*?\})\);", html, re.S):
        fc = json.loads(m.group(1))
        out += [f for f in fc["features"] if f["properties"].get("layer") == layer or layer == "*"]
    return out


def test_partner_units_are_named_in_the_pages_language(context_client):
    vi = context_client.get("/maps/density?area=14").text
    en = context_client.get("/maps/density?area=14&lang=en").text
    vi_names = {t for t, *_ in _labels(vi)}
    en_names = {t for t, *_ in _labels(en)}
    # the spelling of layers/partner_names.toml on a Vietnamese page, the store's on an English one
    assert {"Hủa Phăn", "Mã Quan", "Ratanakiri (vi)", "Lào", "Campuchia"} <= vi_names
    assert {"Houaphan", "Maguan", "Ratanakiri", "Lao PDR", "Cambodia"} <= en_names
    assert not {"Hủa Phăn", "Mã Quan", "Campuchia"} & en_names
    assert "Houaphan" not in vi_names
    # the partner layers' polygons carry the same names (their tooltips)
    assert {f["properties"]["name"] for f in _geojson(vi, "khm_provinces")} == {"Ratanakiri (vi)"}
    assert {f["properties"]["name"] for f in _geojson(en, "lao_provinces")} == {"Houaphan"}


def test_partner_polygons_are_whole_not_cut_to_the_maps_box(context_client):
    html = context_client.get("/maps/density?area=14").text
    (houaphan,) = _geojson(html, "lao_provinces")
    bounds = shapely.geometry.shape(houaphan["geometry"]).bounds
    assert bounds == pytest.approx(HOUAPHAN.bounds, abs=1e-3)  # 105.5 east: beyond the box's 104.3


def test_provinces_around_the_map_outlined_and_named(context_client):
    html = context_client.get("/maps/density?area=14").text
    labels = {(t, k) for t, _, _, k, _ in _labels(html)}
    assert {("Sơn La", "province"), ("Điện Biên", "province")} <= labels
    assert "/collections/provinces_2025/map/tiles/WebMercatorQuad/{z}/{x}/{y}.png" in html
    assert ("Sơn La town", "city") in labels
    assert not any(k == "commune" for _, k in labels)  # commune names come from the table rows
    # Vietnam's outline: on the border-communes map
    assert '"name": "VNM"' in context_client.get("/maps/density?area=border_communes").text
    assert '"name": "VNM"' not in html


def test_rivers_and_lakes_on_the_page_and_in_the_vector_tiles(context_client):
    html = context_client.get("/maps/density?area=14").text
    names = [f["properties"].get("name") for f in _geojson(html, "*")]
    assert "Da" in names and "Hồ Sơn La" in names
    assert ["Da", "river"] in [[t, k] for t, _, _, k, _ in _labels(html)]
    # in the vector tiles: the tile of zoom 10 over Sơn La holds the river with its name
    x = int((103.6 + 180) / 360 * 2**10)
    lat = np.radians(21.05)
    y = int((1 - np.log(np.tan(lat) + 1 / np.cos(lat)) / np.pi) / 2 * 2**10)
    r = context_client.get(f"/collections/rivers_ne10m/tiles/WebMercatorQuad/10/{x}/{y}")
    assert r.status_code == 200
    tile = mapbox_vector_tile.decode(r.content)
    feats = [f for layer in tile.values() for f in layer["features"]]
    assert any(f["properties"].get("name") == "Da" for f in feats)


def test_the_layers_of_the_address_include_the_context(context_client):
    off = context_client.get("/maps/density?area=14&layers=values,border").text
    on = context_client.get("/maps/density?area=14").text
    assert on.count(".addTo(map_") > off.count(".addTo(map_")
    assert context_client.get("/maps/density?area=14&layers=rivers,labels,provinces").status_code == 200


def test_villages_are_asked_for_by_the_view(context_client):
    html = context_client.get("/maps/density?area=14").text
    url = json.loads(re.search(r"U = (\{.*?\}), K =", html).group(1))["villages"]
    assert url.startswith("/collections/villages/items?")
    assert "Bản Lóng Sập" not in html  # no village is in the page itself
    fc = context_client.get(url + "&bbox=103.5,21.0,103.6,21.1").json()
    assert [f["properties"]["name"] for f in fc["features"]] == ["Bản Lóng Sập"]


def test_a_label_kind_is_known():
    assert map_labels.label("Hủa Phăn", 104.0, 20.4, "partner", rank=3.2)[3:] == ["partner", 3.2]
    with pytest.raises(ValueError):
        map_labels.label("x", 0, 0, "planet")


# --------------------------------------------------------------------------- colours


def test_contrast_ratio_is_wcags():
    assert colours.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert colours.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert colours.over("#ffffff", 0.93, "#000000") == "#ededed"


def _css_colours(css: str) -> list[tuple[str, str]]:
    """(selector, colour) of every `color:` declaration of a style sheet (not background-color)."""
    out = []
    for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        for col in re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", body):
            out.append((" ".join(sel.split()), col))
    return out


def test_legend_and_panel_text_passes_aa_on_any_map():
    # the panels are white at 93 % over the map: the worst backdrop is black under them
    panel = colours.over("#ffffff", 0.93, "#000000")
    sheets = web_maps._CSS + map_tools.CSS
    found = [(s, c) for s, c in _css_colours(sheets) if "print" not in s]
    assert any(".gb-n" in s for s, _ in found) and any(".gb-sub" in s for s, _ in found)
    low = [
        (s, c, round(colours.contrast_ratio(c, panel), 2)) for s, c in found if colours.contrast_ratio(c, panel) < 4.5
    ]
    assert not low, low
    # the names on the map are drawn on a white halo
    names = _css_colours(map_labels.CSS)
    assert len(names) >= 8
    low = [(s, c) for s, c in names if colours.contrast_ratio(c, "#ffffff") < 4.5]
    assert not low, low


@pytest.mark.parametrize("better", [True, False])
@pytest.mark.parametrize("k", [2, 5, 9])
def test_gate_markers_stand_out_on_every_class(better, k):
    # WCAG 1.4.11 (3:1 for graphics): the outline on the lightest class, the ring on the darkest
    cs = colours.class_colors(k, higher_is_better=better)
    assert colours.contrast_ratio(GATE_OUTLINE, cs[0]) >= 3
    assert colours.contrast_ratio(GATE_RING, cs[-1]) >= 3
    assert set(GATE_COLORS) == {"international", "main", "secondary"}


def test_the_gates_have_their_ring_on_the_page(context_client):
    html = context_client.get("/maps/density?area=14").text
    assert f'"color": "{GATE_RING}"' in html and f'"color": "{GATE_OUTLINE}"' in html
