"""The map page for planners (issue 15): errors for people, the page's address, the switchers,
the table / search rows and the CSV and XLSX downloads of exactly what is on the map."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.main import create_app


@pytest.fixture(scope="module")
def page_client(small):  # the four synthetic communes of tests/api/conftest.py
    from geoborder.indicators.db import IndicatorDB

    db = IndicatorDB(__import__("tempfile").mkdtemp() + "/indicators.sqlite")
    with TestClient(create_app(store=small, indicators=db)) as c:
        yield c


def _message(html: str) -> str:
    return re.search(r'id="gb-error-message">([^<]*)<', html).group(1)


@pytest.mark.parametrize(
    "url, vi, en",
    [
        ("/maps/density?area=99", "Vùng «99» không có", "The area “99” is not"),
        ("/maps/density?k=0", "số lớp phải từ 2 đến 9", "the number of classes is 2 to 9"),
        ("/maps/happiness", "Không có chỉ tiêu «happiness»", "There is no indicator “happiness”"),
        ("/maps/poverty_rate?area=14", "«Tỷ lệ hộ nghèo» chưa có số liệu", "has no values on these units yet"),
        ("/maps/density?year=1990", "năm «1990»", "year “1990”"),
        ("/maps/density?classes=jenks", "Cách phân lớp «jenks»", "no classification “jenks”"),
        ("/maps/density?vintage=2009", "không có lớp «communes_2009»", "has no layer “communes_2009”"),
        ("/maps/density?layers=rivers,foo", "không hợp lệ (layers)", "not valid (layers)"),
    ],
)
def test_a_wrong_choice_is_a_page_for_people_in_the_pages_language(page_client, url, vi, en):
    r = page_client.get(url)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in r.text and vi in _message(r.text), _message(r.text)
    back = re.search(r'id="gb-back" href="([^"]+)"', r.text).group(1).replace("&amp;", "&")
    assert back.startswith("/maps?") and "lang=vi" in back
    assert page_client.get(back).status_code == 200  # the way back works
    r_en = page_client.get(url + ("&" if "?" in url else "?") + "lang=en")
    assert '<html lang="en">' in r_en.text and en in _message(r_en.text), _message(r_en.text)
    assert r_en.status_code == r.status_code
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)


def test_the_way_back_keeps_the_choices(page_client):
    r = page_client.get("/maps/density?area=99&k=4&classes=equal_interval")
    back = re.search(r'id="gb-back" href="([^"]+)"', r.text).group(1).replace("&amp;", "&")
    q = dict(x.split("=") for x in back.split("?")[1].split("&"))
    assert q == {"area": "99", "k": "4", "classes": "equal_interval", "indicator": "density", "lang": "vi"}


def test_the_json_endpoints_still_answer_json(page_client):
    r = page_client.get("/maps/legend?indicator=density&area=99")
    assert r.status_code == 400 and "area" in r.json()["description"]


def test_the_picker_takes_the_pages_parameters(page_client):
    html = page_client.get("/maps?indicator=density&vintage=2025&area=14&k=4&classes=natural_breaks&lang=en").text
    chosen = json.loads(re.search(r"var chosen = (\{.*?\}), noData", html).group(1))
    assert chosen == {
        "indicator": "density",
        "vintage": "2025",
        "area": "14",
        "year": None,
        "classes": "natural_breaks",
        "k": "4",
    }
    # indicators without values at the end of the list, marked
    names = re.findall(r'<option value="([a-z_0-9]+)" data-years-2025="([^"]*)"', html)
    with_data = [bool(y) for _, y in names]
    assert with_data == sorted(with_data, reverse=True) and with_data[0] and not with_data[-1]
    assert "no data imported" in html
    # the map page's own "pick another map" link carries its choices
    page = page_client.get("/maps/density?area=14&k=4").text
    picker = re.search(r'id="gb-picker" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert picker.startswith("/maps?") and "area=14" in picker and "k=4" in picker and "indicator=density" in picker


def test_the_page_has_the_switchers_search_table_and_downloads(page_client):
    html = page_client.get("/maps/density?area=14").text
    switcher = re.search(r'<select id="gb-indicator">(.*?)</select>', html, re.S).group(1)
    opts = re.findall(r'<option value="([a-z_][a-z_0-9]*)"( selected)?( disabled)?>([^<]*)</option>', switcher)
    assert ("density", " selected", "", "Mật độ dân số (người/km²)") in opts
    disabled = [o for o in opts if o[2]]
    assert disabled and all("chưa có số liệu" in o[3] for o in disabled)  # reported, nothing imported
    first_disabled = opts.index(disabled[0])
    assert all(o[2] for o in opts[first_disabled:])  # at the end of the list
    assert 'id="gb-year"' in html and 'id="gb-search"' in html and 'id="gb-table"' in html
    assert 'aria-live="polite"' in html
    for i in ("gb-download", "gb-download-csv", "gb-download-xlsx"):
        href = re.search(rf'id="{i}" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert page_client.get(href).status_code == 200
    # the page still carries no commune names: the table and search read /maps/table.json
    assert "Mường Lạn" not in html


def test_the_address_sets_the_layers_shown(page_client):
    default = page_client.get("/maps/density?area=14").text
    only = page_client.get("/maps/density?area=14&layers=values,border&lat=21.05&lon=103.6&zoom=11").text
    # folium adds a layer shown at first with .addTo(map); one not shown is only in the control
    assert default.count(".addTo(map_") > only.count(".addTo(map_")
    assert '"layer_keys"' in only
    for bad in ("zoom=40", "lat=95", "lon=200"):
        r = page_client.get(f"/maps/density?area=14&{bad}")
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html"), bad


def test_csv_and_xlsx_are_the_geojsons_rows(page_client):
    q = "indicator=density&area=14&classes=quantiles&k=3"
    fc = page_client.get(f"/maps/data.geojson?{q}").json()
    props = pd.DataFrame([f["properties"] for f in fc["features"]])
    r = page_client.get(f"/maps/data.csv?{q}")
    assert r.headers["content-type"].startswith("text/csv") and r.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in r.headers["content-disposition"]
    csv = pd.read_csv(io.BytesIO(r.content), dtype={"commune_code": str, "province_code": str})
    assert list(csv.columns) == list(props.columns)
    assert list(csv["name"]) == ["Mường Lèo", "Mường Lạn", "Chiềng Khương"]
    pd.testing.assert_frame_equal(csv, props, check_dtype=False)
    x = page_client.get(f"/maps/data.xlsx?{q}")
    assert x.content[:2] == b"PK"
    xl = pd.read_excel(io.BytesIO(x.content), sheet_name=0, dtype={"commune_code": str, "province_code": str})
    pd.testing.assert_frame_equal(xl, props, check_dtype=False)
    # rank: 1 = the highest value, no rank without a value
    by = props.set_index("commune_code")
    assert by.loc["00002", "rank"] == 1 and by.loc["00001", "rank"] == 2 and pd.isna(by.loc["00003", "rank"])
    assert by.loc["00001", "border_length_km"] == 12.5 and by.loc["00001", "partner_units"] == "LA-HO Houaphan"


def test_the_table_rows_find_a_commune_without_diacritics(page_client):
    d = page_client.get("/maps/table.json?indicator=density&area=14&lang=en").json()
    rows = {r["code"]: r for r in d["rows"]}
    assert set(rows) == {"00001", "00002", "00003"}
    assert rows["00001"]["key"] == "muong leo" and rows["00001"]["title"] == "Xã Mường Lèo"
    assert rows["00001"]["bbox"] == [103.5, 21.0, 103.6, 21.1]
    assert rows["00001"]["value_text"] == "10.0" and rows["00003"]["value_text"] == "No data"
    assert d["headings"]["rank"] == "Rank"
