"""Change maps and two maps side by side (issue 15) on the real store, with a made-up Sơn La review
(pre-2025 units, 2017-2024) imported into a throwaway indicator database.

The fixture is changed in the test before its import (a commune's 2017 row dropped, a base of 0,
a year of zeros) and written under a name saying "madeup"; every number checked is computed here
again from that table with pandas (difference, % change), never written down."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.main import create_app
from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.importing import import_file

FIX = Path(__file__).parent.parent / "fixtures"
PRE = FIX / "indicators_madeup_sonla_review_2017_2024_pre2025.csv"
SON_LA = {"vintage": 2009, "area": "303"}


@pytest.fixture(scope="module")
def env(real_store, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    table = pd.read_csv(PRE, dtype={"commune_code": str})
    codes = sorted(table["commune_code"].unique())
    gone = codes[0]  # no 2017 row: no change for this commune
    table = table[~((table["commune_code"] == gone) & (table["year"] == 2017))].copy()
    zero = codes[1]  # no poor household in 2017: no % change
    table.loc[(table["commune_code"] == zero) & (table["year"] == 2017), "poor_households"] = 0
    table.loc[table["year"] == 2018, "phone_signal_pct"] = 0.0  # every base 0: no % change at all
    path = tmp / "indicators_madeup_sonla_review_gaps.csv"
    table.to_csv(path, index=False)
    db = IndicatorDB(tmp / "indicators.sqlite")
    import_file(real_store, db, path.read_bytes(), path.name, vintage=2009)
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        yield c, table, gone, zero


def _expected(table: pd.DataFrame, name: str, a: int, b: int, measure: str) -> pd.Series:
    wide = table.pivot_table(index="commune_code", columns="year", values=name, aggfunc="last")
    va, vb = wide.get(a), wide.get(b)
    if measure == "difference":
        return (vb - va).dropna()
    pct = (vb - va) / va.abs() * 100
    return pct[va != 0].dropna()


def _features(api, q: dict) -> pd.DataFrame:
    r = api.get("/maps/data.geojson", params=q)
    assert r.status_code == 200, r.text
    return pd.DataFrame([f["properties"] for f in r.json()["features"]]).set_index("commune_code")


@pytest.mark.parametrize(
    ("name", "measure"),
    [("poverty_rate", "difference"), ("poor_households", "difference"), ("poor_households", "percent")],
)
def test_the_change_is_the_difference_of_the_two_years(env, name, measure):
    api, table, gone, zero = env
    q = {**SON_LA, "indicator": name, "from": 2017, "year": 2024, "measure": measure}
    got = _features(api, q)
    want = _expected(table, name, 2017, 2024, measure)
    assert len(want) > 10
    shown = got["value"].dropna()
    assert sorted(shown.index) == sorted(want.index)  # only communes with both years (and a base != 0)
    assert np.allclose(shown.loc[want.index].astype(float), want, atol=1e-9)
    # both years' values travel with the change
    wide = table.pivot_table(index="commune_code", columns="year", values=name, aggfunc="last")
    assert np.allclose(got.loc[want.index, "value_from"].astype(float), wide.loc[want.index, 2017])
    assert np.allclose(got.loc[want.index, "value_to"].astype(float), wide.loc[want.index, 2024])
    # a year missing is no data, never filled in; so is a % change of a base of 0
    assert pd.isna(got.loc[gone, "value"]) and pd.isna(got.loc[gone, "value_from"])
    assert got.loc[gone, "class"] is None or pd.isna(got.loc[gone, "class"])
    if measure == "percent" and name == "poor_households":
        assert pd.isna(got.loc[zero, "value"]) and got.loc[zero, "value_from"] == 0
    # the communes of Sơn La without the review are no data
    legend = api.get("/maps/legend", params=q).json()
    assert legend["legend"][-1]["count"] == legend["communes"] - len(want)
    # the CSV has the same rows
    csv = pd.read_csv(io.BytesIO(api.get("/maps/data.csv", params=q).content), dtype={"commune_code": str})
    csv = csv.set_index("commune_code")
    assert np.allclose(csv.loc[want.index, "value"], want)


@pytest.mark.parametrize(("name", "good_is"), [("poverty_rate", "fall"), ("clean_water_pct", "rise")])
def test_the_legend_diverges_symmetric_around_0_the_better_side_blue(env, name, good_is):
    api, table, *_ = env
    q = {**SON_LA, "indicator": name, "from": 2017, "year": 2024, "k": 7}
    legend = api.get("/maps/legend", params=q).json()
    breaks = legend["change"]["breaks"]
    assert breaks == pytest.approx([-b for b in reversed(breaks)])  # symmetric around 0
    assert 0 in breaks and len(breaks) % 2 == 1
    assert legend["unit"] == "điểm %" and legend["change"]["indicator_unit"] == "%"
    assert "2017 → 2024" in legend["title"]
    en = api.get("/maps/legend", params={**q, "lang": "en"}).json()
    assert en["unit"] == "percentage points"
    classes = [e for e in legend["legend"] if e["class"] >= 0]
    assert classes and all(e["lower"] * e["upper"] >= 0 for e in classes)  # no class spans 0
    for e in classes:  # each class lies within two neighbouring limits
        i = int(np.searchsorted(breaks, e["upper"], side="left"))
        lo = breaks[max(i - 1, 0)]
        assert lo - 1e-9 <= e["lower"] <= e["upper"] <= breaks[i] + 1e-9
    want = _expected(table, name, 2017, 2024, "difference")
    better = want < 0 if good_is == "fall" else want > 0
    assert better.any()
    for e in classes:
        rgb = tuple(int(e["color"][i : i + 2], 16) for i in (1, 3, 5))
        is_better = (e["upper"] < 0) if good_is == "fall" else (e["lower"] > 0)
        if is_better:
            assert rgb[2] > rgb[0], e  # the better side is blue
        elif e["lower"] != 0 or e["upper"] != 0:
            assert rgb[0] > rgb[2], e  # the worse side is red


def test_the_tiles_lookup_table_and_export_of_a_change_map(env):
    api, table, *_ = env
    q = {**SON_LA, "indicator": "poverty_rate", "from": 2017, "year": 2024}
    legend = api.get("/maps/legend", params=q).json()
    colours = {e["color"] for e in legend["legend"]}
    rows = api.get("/maps/table.json", params=q).json()
    row = next(r for r in rows["rows"] if r["value"] is not None)
    # the tile under a commune with a change is drawn in the change map's colours
    lon, lat = row["point"]
    z = 9
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n)
    r = api.get(f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png", params=q)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    seen = {f"#{r:02x}{g:02x}{b:02x}" for r, g, b, a in np.unique(img.reshape(-1, 4), axis=0) if a == 255}
    assert row["color"] in seen and seen & colours
    one_year = api.get(f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png", params={**SON_LA, "indicator": "poverty_rate"})
    assert one_year.content != r.content
    # the lookup says both years and the change, as the independent table says
    d = api.get("/maps/lookup", params={**q, "lon": lon, "lat": lat}).json()["commune"]
    wide = table.pivot_table(index="commune_code", columns="year", values="poverty_rate", aggfunc="last")
    code = d["commune_code"]
    assert d["change"]["value_from"] == pytest.approx(wide.loc[code, 2017])
    assert d["change"]["value_to"] == pytest.approx(wide.loc[code, 2024])
    assert d["value"] == pytest.approx(wide.loc[code, 2024] - wide.loc[code, 2017])
    labels = [f[0] for f in d["fields"]]
    assert "Tỷ lệ hộ nghèo 2017" in labels and "Tỷ lệ hộ nghèo 2024" in labels and "Thay đổi" in labels
    # XLSX and the printed sheet take the change map too
    x = api.get("/maps/data.xlsx", params=q)
    assert x.status_code == 200 and x.content[:2] == b"PK"
    page_q = {k: v for k, v in q.items() if k != "indicator"}
    pdf = api.get("/maps/poverty_rate/export", params={**page_q, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout
        assert "Thay đổi tỷ lệ hộ nghèo" in text.decode() and "điểm %" in text.decode()
    # the page: its legend, both years' switchers, the way to the side-by-side page
    html = api.get("/maps/poverty_rate", params=page_q).text
    assert "2017 → 2024" in html and 'id="gb-from"' in html and 'id="gb-compare"' in html
    assert re.search(r'<option value="2017" selected>2017</option>', html)


def test_a_percent_change_whose_bases_are_all_0_is_said(env):
    api, *_ = env
    q = {**SON_LA, "indicator": "poor_households", "from": 2017, "year": 2024, "measure": "percent"}
    note = api.get("/maps/legend", params=q).json()["change"]
    assert note["zero_base"] == 1 and "1 xã" in note["note"] and "bằng 0" in note["note"]
    r = api.get("/maps/legend", params={**SON_LA, "indicator": "phone_signal_pct", "from": 2018, "measure": "percent"})
    assert r.status_code == 400 and "= 0" in r.json()["description"] and "measure=difference" in r.json()["description"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"from": 2024, "year": 2024}, "two different years"),
        ({"from": 2020, "year": 2024}, "no values of poverty_rate on 2009 units for 2020"),
        ({"from": 2024, "year": 2017}, "give the earlier year"),
        ({"from": 2017, "year": 2020}, "for 2020"),
        ({"measure": "percent"}, "needs `from`"),
        ({"from": 2017, "measure": "ratio"}, "measure"),
    ],
)
def test_bad_change_choices_are_a_clear_400(env, params, words):
    api, *_ = env
    r = api.get("/maps/legend", params={**SON_LA, "indicator": "poverty_rate", **params})
    assert r.status_code == 400, r.text
    assert words in r.text
    # on the page: an HTML error page in the page's language
    page = api.get("/maps/poverty_rate", params={**SON_LA, **params})
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "Quay lại" in page.text


def test_a_computed_indicator_has_one_year_and_no_change(env):
    api, *_ = env
    r = api.get("/maps/legend", params={"indicator": "population", "area": "14", "from": 2009})
    assert r.status_code == 400 and "a change map needs two years" in r.json()["description"]
    r = api.get(
        "/maps/legend", params={**SON_LA, "indicator": "road_to_centre_hardened", "from": 2017, "measure": "percent"}
    )
    assert r.status_code == 400 and "yes/no" in r.json()["description"]


def test_two_maps_side_by_side(env):
    api, table, *_ = env
    r = api.get("/maps/poverty_rate/compare", params={**SON_LA, "year": 2024, "with_year": 2017})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert html.count('class="folium-map"') == 2 and "cdn" not in html.lower()
    assert "Leaflet.Sync" not in html and "setView(src.getCenter(), src.getZoom()" in html
    tiles = re.findall(r'"(/tiles/WebMercatorQuad/\{z\}/\{x\}/\{y\}\.png\?[^"]+)"', html)
    assert any("year=2017" in t for t in tiles) and any("year=2024" in t for t in tiles)
    # two years of the same communes share one set of classes: the same legend on both maps
    legends = []
    for year, other in ((2017, 2024), (2024, 2017)):
        q = {**SON_LA, "indicator": "poverty_rate", "year": year, "classes_with": other}
        assert f"classes_with={other}" in html.replace("&amp;", "&")
        legends.append(api.get("/maps/legend", params=q).json()["legend"])
    strip = [[(e["color"], e["label"], e["lower"], e["upper"]) for e in lg] for lg in legends]
    assert strip[0] == strip[1]
    wide = table.pivot_table(index="commune_code", columns="year", values="poverty_rate", aggfunc="last")
    both = pd.concat([wide[2017], wide[2024]]).dropna()
    assert legends[0][0]["lower"] == pytest.approx(both.min()) and legends[0][-2]["upper"] == pytest.approx(both.max())
    assert sum(e["count"] for e in legends[0][:-1]) == wide[2017].notna().sum()
    assert sum(e["count"] for e in legends[1][:-1]) == wide[2024].notna().sum()
    own = api.get("/maps/legend", params={**SON_LA, "indicator": "poverty_rate", "year": 2024}).json()["legend"]
    assert own[-2]["upper"] == pytest.approx(wide[2024].max())
    assert own[-2]["upper"] < legends[1][-2]["upper"]  # its own scale ends lower than the shared one
    # by default: the year before, on the same units
    html = api.get("/maps/poverty_rate/compare", params={**SON_LA, "year": 2024}).text
    assert "year=2023" in html
    # pre-2025 and 2025 units of the real population: Sơn La is 303 on the 2009 units, 14 on 2025
    html = api.get("/maps/population/compare", params={"area": "14"}).text
    assert "vintage=2009&amp;area=303" in html or "vintage=2009&area=303" in html
    for params, words in [
        ({"with_year": 2019}, "with_year"),
        ({"with_vintage": 2025}, "both maps would be"),
        ({"from": 2009}, "two maps of one year"),
        ({"with_vintage": 1999}, "with_vintage"),
    ]:
        r = api.get("/maps/population/compare", params={"area": "14", **params})
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html"), params
        assert words in r.text, (params, r.text[-400:])


def test_compare_on_a_store_without_pre_2025_units(small, tmp_path):
    """The four synthetic communes (2025 units only): comparing with the 2009 units is a clear 4xx."""
    with TestClient(create_app(store=small, indicators=IndicatorDB(tmp_path / "i.sqlite"))) as api:
        r = api.get("/maps/density/compare")
        assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("text/html")
        assert "communes_2009" in r.text
        r = api.get("/maps/density/compare", params={"with_vintage": 2025})
        assert r.status_code == 400 and "both maps would be" in r.text
        r = api.get("/maps/legend", params={"indicator": "density", "from": 2024})
        assert r.status_code == 400 and "a change map needs two years" in r.text
