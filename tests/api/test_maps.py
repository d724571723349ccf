"""Choropleth maps: classification, legend, "no data", the map page (small, offline, bilingual),
the lookup endpoint and the GeoJSON download of exactly what is on the map."""

from __future__ import annotations

import re
import warnings

import mapclassify
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.core.errors import InvalidParameter
from geoborder.maps import choropleth as C

# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize("n, k", [(150, 3), (200, 5), (300, 7), (120, 9)])
def test_natural_breaks_equal_mapclassify_fisher_jenks(n, k):
    y = np.round(np.random.default_rng(n).lognormal(5, 1, n), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = mapclassify.FisherJenks(y, k=k).bins
    assert np.allclose(C.fisher_jenks_bins(y, k), want)


def test_missing_values_are_no_data_not_zero():
    values = np.array([0.0, 1.0, 2.0, np.nan, 10.0, 20.0, np.nan])
    cls, yb = C.classify(values, "quantiles", 3)
    assert list(yb[[3, 6]]) == [-1, -1]  # no data
    assert yb[0] == 0  # a real zero is in the lowest class
    assert cls.no_data == 2 and sum(cls.counts) == 5
    assert cls.minimum == 0.0 and cls.bins[-1] == 20.0
    legend = C.legend(cls, C.indicator("density"), "vi")
    assert legend[-1] == {
        "class": -1,
        "color": C.NO_DATA_COLOR,
        "lower": None,
        "upper": None,
        "label": "Không có số liệu",
        "count": 2,
    }
    assert C.legend(cls, C.indicator("density"), "en")[-1]["label"] == "No data"


def test_methods_and_k():
    y = np.arange(1.0, 101.0)
    for method in C.METHODS:
        cls, yb = C.classify(y, method, 4)
        assert cls.n_classes == 4 and len(cls.colors) == 4 and sum(cls.counts) == 100
        assert (np.diff(yb) >= 0).all()  # classes follow the values
    eq, _ = C.classify(y, "equal_interval", 4)
    assert np.allclose(eq.bins, [25.75, 50.5, 75.25, 100.0])
    q, _ = C.classify(y, "quantiles", 4)
    assert q.counts == (25, 25, 25, 25)
    with pytest.raises(InvalidParameter, match="k"):
        C.classify(y, "quantiles", 12)
    with pytest.raises(InvalidParameter, match="classes"):
        C.classify(y, "jenks", 4)
    # ties: fewer distinct values than classes give fewer classes, never an error
    few, _ = C.classify(np.array([0.0, 0.0, 0.0, 5.0]), "quantiles", 5)
    assert 1 <= few.n_classes <= 2


def test_numbers_are_written_the_local_way():
    assert C.fmt_number(12345.6, "vi") == "12.346" and C.fmt_number(12345.6, "en") == "12,346"
    assert C.fmt_number(82.61, "vi") == "82,6" and C.fmt_number(82.61, "en") == "82.6"
    assert C.fmt_number(float("nan"), "vi") == "Không có số liệu"


# --------------------------------------------------------------------------- a bare app


@pytest.fixture(scope="module")
def indicators_db(tmp_path_factory):
    """An indicator database of its own (empty: reported indicators have no values yet)."""
    from geoborder.indicators.db import IndicatorDB

    return IndicatorDB(tmp_path_factory.mktemp("indicators") / "indicators.sqlite")


@pytest.fixture(scope="module")
def bare(small, indicators_db):
    with TestClient(create_app(store=small, indicators=indicators_db)) as c:
        yield c


def test_map_page_is_small_offline_and_in_vietnamese(bare):
    r = bare.get("/maps/density?area=14&classes=equal_interval&k=3")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="vi">' in html
    assert "Mật độ dân số" in html and "người/km²" in html and "Không có số liệu" in html
    assert "Tải GeoJSON" in html and "/maps/data.geojson?indicator=density" in html
    # tiles, not geometry: the communes' coordinates are not in the page
    assert "/tiles/WebMercatorQuad/{z}/{x}/{y}.png?indicator=density\\u0026vintage=2025\\u0026area=14" in html
    assert "103.6, 21.1" not in html and "Mường Lạn" not in html
    # every script and stylesheet is served by the app
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/vendor/leaflet/leaflet.css" in html
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert bare.get(url).status_code == 200, url
    # the gate is drawn, coloured by its class
    assert "Chiềng Khương — Cửa khẩu chính" in html and "#2171b5" in html
    en = bare.get("/maps/density?area=14&lang=en").text
    assert '<html lang="en">' in en and "Population density" in en and "people/km²" in en and "No data" in en


def test_lookup_gives_name_province_value_year_and_border(bare):
    q = "indicator=density&area=14&classes=equal_interval&k=3"
    d = bare.get(f"/maps/lookup?{q}&lon=103.55&lat=21.05").json()["commune"]
    assert d["name"] == "Mường Lèo" and d["province_name"] == "Sơn La" and d["year"] == 2025
    assert d["value"] == pytest.approx(10.0) and d["unit"] == "người/km²" and d["value_text"] == "10,0 người/km²"
    assert d["border"]["partner_units"] == "LA-HO Houaphan"
    assert ["Giáp với", "LA-HO Houaphan"] in d["fields"]
    nodata = bare.get(f"/maps/lookup?{q}&lon=103.75&lat=21.05&lang=en").json()["commune"]
    assert nodata["value"] is None and nodata["class"] == -1 and nodata["class_label"] == "No data"
    outside_area = bare.get(f"/maps/lookup?{q}&lon=104.55&lat=21.05").json()["commune"]
    assert outside_area["name"] == "Tô Hiệu" and outside_area["in_area"] is False and outside_area["value"] is None
    nowhere = bare.get(f"/maps/lookup?{q}&lon=90&lat=10")
    assert nowhere.status_code == 200 and nowhere.json()["commune"] is None
    assert bare.get(f"/maps/lookup?{q}&lon=200&lat=10").status_code == 400


def test_download_is_exactly_the_map(bare):
    q = "indicator=density&area=14&classes=equal_interval&k=3"
    r = bare.get(f"/maps/data.geojson?{q}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert "attachment" in r.headers["content-disposition"]
    fc = r.json()
    props = {f["properties"]["commune_code"]: f["properties"] for f in fc["features"]}
    assert set(props) == {"00001", "00002", "00003"}  # Sơn La only
    assert props["00003"]["value"] is None and props["00003"]["class"] is None  # no data, not 0
    assert props["00003"]["class_label"] == "Không có số liệu"
    assert props["00001"]["value"] == pytest.approx(10.0) and props["00002"]["value"] == pytest.approx(50.0)
    # 10 and 50 in 3 equal intervals: the middle one is empty, so the map has 2 classes (issue 13)
    assert props["00001"]["class"] == 0 and props["00002"]["class"] == 1
    assert fc["geoborder:map"]["k"] == 2 and fc["geoborder:map"]["k_requested"] == 3
    assert fc["geoborder:map"]["legend"] == bare.get(f"/maps/legend?{q}").json()["legend"]
    geom = shapely.geometry.shape(fc["features"][0]["geometry"])
    assert geom.equals(shapely.box(103.50, 21.0, 103.60, 21.1))


def test_the_png_tile_shows_no_data_grey(bare, small):
    from rasterio.io import MemoryFile

    from geoborder.core import tilegrid as G

    t = G.tms().tile(103.75, 21.05, 9)
    r = bare.get(f"/tiles/WebMercatorQuad/9/{t.x}/{t.y}.png?indicator=density&area=14&classes=equal_interval&k=3")
    with MemoryFile(r.content) as mem, mem.open() as ds:
        rgba = np.moveaxis(ds.read(), 0, -1)
    from test_tiles import _hex, _pixel

    row, col = _pixel(103.75, 21.05, 9, t.x, t.y)
    assert tuple(rgba[row, col]) == _hex(C.NO_DATA_COLOR)
    row, col = _pixel(103.55, 21.05, 9, t.x, t.y)
    ch = C.choropleth(small, None, C.MapSpec("density", 2025, "14", None, "equal_interval", 3))
    assert tuple(rgba[row, col]) == _hex(ch.classification.colors[0])


def test_picker_lists_indicators_vintages_and_provinces(bare):
    html = bare.get("/maps").text
    assert "Mật độ dân số" in html and 'value="14"' in html and "Sơn La" in html and "Điện Biên" in html
    assert "natural_breaks" in html and "Tải GeoJSON" in html
    assert "Population density" in bare.get("/maps?lang=en").text


def test_bad_map_parameters(bare):
    for url, word in [
        ("/maps/happiness", "happiness"),
        ("/maps/density?area=99", "area"),
        ("/maps/density?vintage=2025&year=2024", "2024"),
        ("/maps/density?k=0", "k"),
        ("/maps/legend?indicator=density&classes=x", "classes"),
        ("/maps/data.geojson?indicator=phone_signal_pct", "phone_signal_pct"),
    ]:
        r = bare.get(url)
        assert r.status_code == 400, (url, r.text)
        if url.startswith(("/maps/legend", "/maps/data")):
            assert word in r.json()["description"], (url, r.text)
        else:  # a map page: an HTML page for people (tests/api/test_map_page.py), the detail kept
            assert r.headers["content-type"].startswith("text/html") and word in r.text, (url, r.text)


def _import(db, rows, name="t.csv"):
    import hashlib

    import pandas as pd

    values = pd.DataFrame(
        [
            {"indicator": "poverty_rate", "commune_code": c, "year": y, "value": v, "line": i + 2, "matched_by": "code"}
            for i, (c, y, v) in enumerate(rows)
        ]
    )
    return db.write_import(
        file_name=name,
        sha256=hashlib.sha256(repr(rows).encode()).hexdigest(),
        who="test",
        vintage=2025,
        layout="long",
        values=values,
        report={},
    )


def test_reported_indicator_years_and_new_imports(bare, indicators_db):
    """Values of a reported indicator come from the indicator database: the latest year by
    default, a year without values is a 400 naming the years that have some, and a new import
    is on the map at once (the cache is keyed by the imports)."""
    _import(indicators_db, [("00001", 2023, 10.0), ("00001", 2024, 12.0), ("00002", 2024, 30.0)])
    q = "indicator=poverty_rate&area=14&classes=equal_interval&k=2"
    latest = {f["id"]: f["properties"] for f in bare.get(f"/maps/data.geojson?{q}").json()["features"]}
    assert latest["00001"]["year"] == 2024 and latest["00001"]["value"] == 12.0
    assert latest["00002"]["value"] == 30.0 and latest["00003"]["value"] is None
    y2023 = {f["id"]: f["properties"] for f in bare.get(f"/maps/data.geojson?{q}&year=2023").json()["features"]}
    assert y2023["00001"]["value"] == 10.0 and y2023["00002"]["value"] is None
    r = bare.get("/maps/poverty_rate?area=14&year=2019")
    assert r.status_code == 400 and "2019" in r.text and "2024" in r.text  # an HTML page with the detail
    assert bare.get("/maps/poverty_rate?area=14").status_code == 200
    page = bare.get("/maps/poverty_rate?area=14").text
    assert "Tỷ lệ hộ nghèo" in page and "2024" in page
    _import(indicators_db, [("00002", 2024, 35.0)], name="fix.csv")
    d = bare.get(f"/maps/lookup?{q}&lon=103.65&lat=21.05").json()["commune"]
    assert d["value"] == 35.0


# --------------------------------------------------------------------------- the real pack


def test_national_page_does_not_carry_the_communes(client, real_store):
    r = client.get("/maps/density?vintage=2025&area=all")
    assert r.status_code == 200
    html = r.text
    assert len(r.content) < 350_000
    communes = real_store.frame("communes_2025")
    assert "commune_code" not in html
    sample = communes.sample(40, random_state=1)
    # no commune's name is in the page (all information comes from tiles and the lookup)
    assert not [n for n in sample["name"] if f'"{n}"' in html]
    legend = client.get("/maps/legend?indicator=density&vintage=2025&area=all").json()
    assert legend["communes"] == 3321 and sum(e["count"] for e in legend["legend"]) == 3321


def test_son_la_download_matches_the_communes(client, real_store):
    r = client.get("/maps/data.geojson?indicator=density&vintage=2025&area=14&classes=natural_breaks&k=5")
    fc = r.json()
    communes = real_store.frame("communes_2025")
    sl = communes[communes["province_code"] == "14"].set_index("commune_code")
    assert {f["id"] for f in fc["features"]} == set(sl.index) and len(sl) == 75
    for f in fc["features"]:
        p = f["properties"]
        want = sl.loc[p["commune_code"], "population"] / sl.loc[p["commune_code"], "area_km2"]
        assert p["value"] == pytest.approx(want) and p["year"] == 2025 and p["vintage"] == 2025
    counts = np.bincount([f["properties"]["class"] for f in fc["features"]], minlength=5)
    assert list(counts) == [e["count"] for e in fc["geoborder:map"]["legend"][:5]]


def test_pre_2025_units_map_of_son_la(client, real_store):
    legend = client.get("/maps/legend?indicator=population&vintage=2009&area=303").json()
    assert legend["area_title"] == "Sơn La" and legend["year"] == 2009
    assert legend["communes"] == int((real_store.frame("communes_2009")["province_code"] == "303").sum())
    c09 = real_store.frame("communes_2009")
    one = c09[c09["province_code"] == "303"].iloc[0]
    p = shapely.point_on_surface(one.geometry)
    d = client.get(f"/maps/lookup?indicator=population&vintage=2009&area=303&lon={p.x}&lat={p.y}").json()["commune"]
    assert d["commune_code"] == one["commune_code"] and d["province_name"] == "Sơn La"
    assert d["year"] == 2009 and d["value"] == pytest.approx(one["population"])
    assert client.get("/maps/population?vintage=2009&area=14").status_code == 400  # a 2025 code


def test_border_provinces_area(client, real_store):
    legend = client.get("/maps/legend?indicator=border_length_km&area=border").json()
    border = real_store.frame("border_communes_2025")
    communes = real_store.frame("communes_2025")
    assert legend["communes"] == int(communes["province_code"].isin(set(border["province_code"])).sum())
    strip = client.get("/maps/legend?indicator=border_length_km&area=border_communes").json()
    assert strip["communes"] == len(border)
