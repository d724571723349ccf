"""A saved area picked in the map picker, in headless Chromium (issues 15 and 17): the planners'
Si Ma Cai – Bắc Hà – Xín Mần cluster saved through POST /reports/areas with the upload key, then
chosen in /maps (its own "Khu vực đã lưu" group), the form opens its map, whose area switcher has
it selected and goes back to a province; a change map chosen in the picker (the made-up Sơn La
review, 2017-2024 on the pre-2025 units). Screenshots in test-output/."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote, unquote

import httpx
import pytest
from browser_tools import OUT, TILES_DONE, _wait, serve

from geoborder.core.text import fold
from geoborder.indicators.db import IndicatorDB

PRE = Path(__file__).resolve().parents[1] / "fixtures" / "indicators_madeup_sonla_review_2017_2024_pre2025.csv"
NAME = "khu vực giáp ranh Si Ma Cai – Bắc Hà – Xín Mần"
DISTRICTS = {"si ma cai", "bac ha", "xin man"}


@pytest.fixture(scope="module")
def live_url(real_store, tmp_path_factory):
    """The app on the real store with an indicator database that keeps saved areas, under uvicorn
    on 127.0.0.1:<random port> (as conftest.py's live_url, which has no such database); the
    area saved through the API with the upload key."""

    from api.main import create_app
    from geoborder.indicators.importing import import_file

    db = IndicatorDB(tmp_path_factory.mktemp("picker_browser") / "indicators.sqlite")
    key = db.add_key("ban-chi-dao-lao-cai")
    # the made-up Sơn La review (2017-2024 on the pre-2025 units): years to make a change map of
    import_file(real_store, db, PRE.read_bytes(), PRE.name, vintage=2009)
    app = create_app(store=real_store, indicators=db)
    with serve(app) as url:
        c = real_store.frame("communes_2009")
        in_cluster = c["district_name"].astype(str).map(lambda n: fold(n).removeprefix("huyen ")).isin(DISTRICTS)
        codes = sorted(c.loc[in_cluster, "commune_code"].astype(str))
        r = httpx.post(
            f"{url}/reports/areas",
            data={"name": NAME, "area": "communes:" + ",".join(codes)},
            headers={"X-API-Key": key},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        yield url


def test_pick_the_saved_area_and_open_its_map(browser, live_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    OUT.mkdir(exist_ok=True)
    browser.set_window_size(1280, 900)
    browser.get(f"{live_url}/maps?lang=vi")
    area = Select(browser.find_element(By.ID, "area"))
    group = browser.find_element(By.ID, "saved-areas")
    assert group.get_attribute("label") == "Khu vực đã lưu"
    assert [o.get_attribute("value") for o in group.find_elements(By.TAG_NAME, "option")] == [NAME]
    area.select_by_value(NAME)
    # still offered on the other units (a saved area holds communes of both)
    Select(browser.find_element(By.ID, "vintage")).select_by_value("2009")
    assert area.first_selected_option.get_attribute("value") == NAME
    Select(browser.find_element(By.ID, "vintage")).select_by_value("2025")
    assert area.first_selected_option.get_attribute("value") == NAME
    compare = browser.find_element(By.ID, "compare").get_attribute("href")
    assert "/maps/density/compare?" in compare and f"area={quote(NAME)}".replace("%20", "+") in compare.replace(
        "%20", "+"
    )
    browser.save_screenshot(str(OUT / "map_picker_saved_area.png"))

    browser.find_element(By.CSS_SELECTOR, "#picker button[type=submit]").click()
    _wait(browser, "return location.pathname === '/maps/density' && document.getElementById('gb-area') !== null")
    n = _wait(browser, TILES_DONE)
    assert n >= 1
    time.sleep(0.5)
    q = unquote(browser.current_url.split("?", 1)[1].replace("+", " "))
    assert f"area={NAME}" in q
    assert browser.title.endswith(NAME)
    switcher = Select(browser.find_element(By.ID, "gb-area"))
    assert switcher.first_selected_option.get_attribute("value") == NAME
    legend = browser.find_element(By.ID, "gb-panel").text
    assert NAME in legend
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    browser.save_screenshot(str(OUT / "map_page_saved_area.png"))

    # the switcher goes to a province: the map of Lào Cai (2025 code 15), on its own bounds
    code = next(
        o.get_attribute("value") for o in switcher.options if o.text.startswith("Lào Cai") and o.get_attribute("value")
    )
    switcher.select_by_value(code)
    _wait(browser, f"return new URLSearchParams(location.search).get('area') === '{code}'")
    _wait(browser, TILES_DONE)
    assert Select(browser.find_element(By.ID, "gb-area")).first_selected_option.get_attribute("value") == code


def test_the_english_picker_names_the_group(browser, live_url):
    from selenium.webdriver.common.by import By

    browser.get(f"{live_url}/maps?lang=en&area={quote(NAME)}")
    group = browser.find_element(By.ID, "saved-areas")
    assert group.get_attribute("label") == "Saved areas"
    assert browser.execute_script("return document.getElementById('area').value") == NAME
    browser.save_screenshot(str(OUT / "map_picker_saved_area_en.png"))


def test_pick_a_change_map(browser, live_url):
    """The picker's "Thay đổi từ năm" offers the years before the one shown; choosing one opens
    the change map of Sơn La (303, the made-up review's province; its legend says from which
    year to which)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{live_url}/maps?lang=vi&indicator=poverty_rate&vintage=2009&area=303")
    since = Select(browser.find_element(By.ID, "from"))
    years = [o.get_attribute("value") for o in since.options if o.get_attribute("value")]
    latest = browser.execute_script(
        "return document.getElementById('indicator').selectedOptions[0].getAttribute('data-years-2009')"
    ).split(",")[-1]
    assert years and all(int(y) < int(latest) for y in years) and "2017" in years
    assert browser.find_element(By.ID, "measure").get_attribute("disabled") == "true"
    since.select_by_value("2017")
    assert browser.find_element(By.ID, "measure").get_attribute("disabled") is None
    browser.save_screenshot(str(OUT / "map_picker_change_map.png"))
    browser.find_element(By.CSS_SELECTOR, "#picker button[type=submit]").click()
    _wait(browser, "return location.pathname === '/maps/poverty_rate' && document.getElementById('gb-legend') !== null")
    _wait(browser, TILES_DONE)
    time.sleep(0.5)
    q = unquote(browser.current_url.split("?", 1)[1].replace("+", " "))
    assert "from=2017" in q and "measure=difference" in q and "area=303" in q
    assert f"2017 → {latest}" in browser.find_element(By.ID, "gb-legend").text
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    browser.save_screenshot(str(OUT / "map_page_change_from_picker.png"))
