"""Saved areas in the map picker and on the map page's area switcher (issues 15 and 17).

An area saved through POST /reports/areas with the upload key is offered by the picker (/maps)
in both languages, after the provinces and on both unit vintages; the map page's area switcher
lists it too, selected on its own map; a new save or a deletion shows at once (the picker is made
per request, the held map page is keyed by the areas it offers). The picker also offers the
change map (from, measure) and the compare page."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import quote, unquote

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.indicators.db import IndicatorDB
from geoborder.maps.areas import area_choices

NAME = "khu vực giáp ranh Si Ma Cai – Bắc Hà – Xín Mần"
OTHER = "cụm xã Mường Lát"


def _codes(store, vintage: int, n: int, start: int = 0) -> list[str]:
    return sorted(store.frame(f"communes_{vintage}")["commune_code"].astype(str))[start : start + n]


@pytest.fixture(scope="module")
def env(real_store, tmp_path_factory):
    db = IndicatorDB(tmp_path_factory.mktemp("picker_areas") / "indicators.sqlite")
    key = db.add_key("ban-chi-dao-lao-cai")
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        c.get("/maps")  # the picker before the save: nothing held keeps the area out afterwards
        c.get("/maps/density", params={"area": "14"})
        area = "communes:" + ",".join(_codes(real_store, 2009, 12))
        r = c.post("/reports/areas", data={"name": NAME, "area": area}, headers={"X-API-Key": key})
        assert r.status_code == 201, r.text
        yield c, db, key


def _saved_group(html: str) -> list[str]:
    m = re.search(r'<optgroup id="saved-areas" label="([^"]*)">(.*?)</optgroup>', html, re.S)
    assert m, "no saved-areas group in the picker"
    return [unescape(v) for v in re.findall(r'<option value="([^"]*)" data-saved="1">', m.group(2))]


@pytest.mark.parametrize(("lang", "label"), [("vi", "Khu vực đã lưu"), ("en", "Saved areas")])
def test_picker_lists_the_saved_area_in_both_languages(env, lang, label):
    api, _, _ = env
    r = api.get("/maps", params={"lang": lang})
    assert r.status_code == 200, r.text
    assert _saved_group(r.text) == [NAME]
    assert f'label="{label}"' in r.text
    # after the provinces of each vintage, and outside them (shown on both units)
    groups = [m.start() for m in re.finditer(r"<optgroup [^>]*data-vintage=", r.text)]
    assert len(groups) == 2 and r.text.index('id="saved-areas"') > groups[-1]


def test_picker_preselects_the_saved_area_and_a_change_map(env):
    api, _, _ = env
    r = api.get("/maps", params={"area": NAME, "indicator": "density", "from": "2019", "measure": "percent"})
    assert r.status_code == 200, r.text
    chosen = json.loads(re.search(r"var chosen = (\{.*?\}),", r.text).group(1))
    assert chosen["area"] == NAME and chosen["from"] == "2019" and chosen["measure"] == "percent"
    # the change map's choices and the compare page are offered
    for element in ('id="from" name="from"', 'id="measure" name="measure"', 'id="compare"'):
        assert element in r.text


def test_choosing_the_saved_area_opens_its_map(env, real_store):
    """What the picker's form navigates to (/maps/density?area=<percent-encoded name>): the
    map of the saved area, whose area switcher has the area selected."""
    api, db, _ = env
    r = api.get(f"/maps/density?vintage=2025&area={quote(NAME)}&lang=vi")
    assert r.status_code == 200, r.text
    title = unescape(re.search(r"<title>(.*?)</title>", r.text, re.S).group(1))
    assert title.endswith(f" — {NAME}"), title
    switcher = re.search(r'<select id="gb-area">(.*?)</select>', r.text, re.S).group(1)
    selected = re.findall(r'<option value="([^"]*)" selected>', switcher)
    assert [unescape(s) for s in selected] == [NAME]
    saved = re.search(r'<optgroup label="Khu vực đã lưu" data-group="saved">(.*?)</optgroup>', switcher, re.S)
    assert saved and [unescape(v) for v in re.findall(r'value="([^"]*)"', saved.group(1))] == [NAME]
    # the provinces of the page's units are in their own group, before the saved areas
    provinces = re.search(r'data-group="province">(.*?)</optgroup>', switcher, re.S).group(1)
    assert len(re.findall("<option", provinces)) == len(area_choices(real_store, db, 2025)) - 3 - 1
    # the English page names its groups in English
    en = api.get("/maps/density", params={"area": NAME, "lang": "en", "vintage": 2009}).text
    assert 'label="Saved areas" data-group="saved"' in en and 'label="Provinces" data-group="province"' in en


def test_the_national_page_offers_the_saved_area_and_the_new_one_at_once(env, real_store):
    api, db, key = env
    page = api.get("/maps/density", params={"area": "14"}).text  # held before the save (fixture)
    assert NAME in unescape(page)
    area = "communes:" + ",".join(_codes(real_store, 2009, 5, start=40))
    r = api.post("/reports/areas", data={"name": OTHER, "area": area}, headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
    try:
        assert set(_saved_group(api.get("/maps").text)) == {NAME, OTHER}
        assert OTHER in unescape(api.get("/maps/density", params={"area": "14"}).text)
        opened = api.get(f"/maps/density?area={quote(OTHER)}")
        assert opened.status_code == 200 and OTHER in unescape(opened.text)
    finally:
        d = api.delete(f"/reports/areas/{quote(OTHER)}", headers={"X-API-Key": key})
        assert d.status_code in (200, 204), d.text
    assert _saved_group(api.get("/maps").text) == [NAME]
    assert OTHER not in unescape(api.get("/maps/density", params={"area": "14"}).text)


def test_map_page_links_the_picker_with_its_change_choices(env):
    """The page's "pick another map" link passes the area (percent-encoded) back to the picker."""
    api, _, _ = env
    r = api.get("/maps/density", params={"area": NAME})
    link = unescape(re.search(r'id="gb-picker" href="([^"]*)"', r.text).group(1))
    assert link.startswith("/maps?") and f"area={quote(NAME, safe='')}".lower() in link.lower().replace("+", "%20")
    assert unquote(link.split("area=", 1)[1].split("&", 1)[0].replace("+", " ")) == NAME
    back = api.get(link)
    assert back.status_code == 200 and _saved_group(back.text) == [NAME]
