"""The answer pages of the spatial questions (/queries/...?f=html) in headless Chromium: the
features are drawn on the map (Leaflet paths), a table row zooms the map to its feature, and no
request leaves the machine. Screenshots go to test-output/ to be looked at."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from browser_tools import OUT, _internet, _network, _wait

pytestmark = pytest.mark.realpack

READY = "return !!(window.geoborderAnswer && document.querySelectorAll('.leaflet-overlay-pane path').length)"


def _open(driver, base: str, path: str, params: dict) -> None:
    _network(driver)  # forget what earlier pages asked
    driver.get(f"{base}{path}?{urlencode(params)}")
    _wait(driver, READY)


def _paths(driver) -> dict[str, int]:
    """SVG paths drawn on the map, by the stroke colour Leaflet gave them."""
    return driver.execute_script(
        "var out = {}; document.querySelectorAll('.leaflet-overlay-pane path').forEach(function (p) {"
        " var c = p.getAttribute('stroke'); out[c] = (out[c] || 0) + 1; }); return out;"
    )


def _view(driver) -> dict:
    return driver.execute_script(
        "var m = window.geoborderAnswer.map, b = m.getBounds();"
        "return {zoom: m.getZoom(), south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast()};"
    )


def _click_row_and_check_zoom(driver, row_index: int) -> dict:
    """Click the row; the map zooms in to that row's feature (its bounds inside the view)."""
    before = _view(driver)
    row = driver.find_elements("css selector", "#gb-answer-table tbody tr")[row_index]
    key = row.get_attribute("data-k")
    row.click()
    _wait(driver, f"return window.geoborderAnswer.map.getZoom() > {before['zoom']}")
    after = _view(driver)
    fb = driver.execute_script(
        "var l = window.geoborderAnswer.layers[arguments[0]];"
        "var b = l.getBounds ? l.getBounds() : L.latLngBounds([l.getLatLng(), l.getLatLng()]);"
        "return {south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast()};",
        key,
    )
    assert after["zoom"] > before["zoom"]
    assert after["south"] <= fb["south"] and fb["north"] <= after["north"]
    assert after["west"] <= fb["west"] and fb["east"] <= after["east"]
    assert "gb-sel" in row.get_attribute("class")
    # the feature's popup, once faded in (for the screenshot)
    _wait(driver, "var p = document.querySelector('.leaflet-popup'); return p && getComputedStyle(p).opacity === '1'")
    return after


def test_touching_houaphan_page_draws_and_zooms(browser, live_url):
    _open(browser, live_url, "/queries/touching", {"unit": "Hủa Phăn", "within": "14", "f": "html"})
    assert browser.find_element("id", "gb-title").text == "Các xã giáp Hủa Phăn (thuộc Sơn La)"
    rows = browser.find_elements("css selector", "#gb-answer-table tbody tr")
    drawn = _paths(browser)
    # one commune polygon per row, in the communes' colour, and the border line for context
    assert drawn.get("#2171b5") == len(rows) > 0, drawn
    assert drawn.get("#d7191c", 0) >= 1, drawn
    browser.save_screenshot(str(OUT / "answer_touching_houaphan.png"))
    _click_row_and_check_zoom(browser, 0)
    browser.save_screenshot(str(OUT / "answer_touching_houaphan_row.png"))
    _, requested = _network(browser)
    assert requested and not _internet(requested, live_url)


def test_touching_sorts_by_shared_length(browser, live_url):
    _open(browser, live_url, "/queries/touching", {"unit": "Houaphan", "within": "14", "f": "html", "lang": "en"})
    heads = browser.find_elements("css selector", "#gb-answer-table thead th")
    col = next(i for i, h in enumerate(heads) if h.text.startswith("Shared"))
    heads[col].click()  # ascending
    heads[col].click()  # descending
    values = browser.execute_script(
        "var c = arguments[0]; return Array.from(document.querySelectorAll('#gb-answer-table tbody tr'))"
        ".map(function (r) { return parseFloat(r.cells[c].dataset.s); });",
        col,
    )
    assert len(values) > 1 and values == sorted(values, reverse=True)
    assert heads[col].get_attribute("aria-sort") == "descending"


def test_border_zone_son_la_page_draws_every_kind(browser, live_url):
    _open(browser, live_url, "/queries/border-zone", {"distance_km": 10, "partner": "LA-HO", "f": "html"})
    rows = browser.find_elements("css selector", "#gb-answer-table tbody tr")
    kinds = {r.get_attribute("data-kind") for r in rows}
    assert {"commune", "village", "road"} <= kinds
    drawn = _paths(browser)
    # villages and settlements are circle markers with a white stroke; communes and roads coloured
    assert drawn.get("#2171b5", 0) == sum(1 for r in rows if r.get_attribute("data-kind") == "commune")
    assert drawn.get("#6a3d0a", 0) >= 1 and drawn.get("#ffffff", 0) >= 1, drawn
    browser.save_screenshot(str(OUT / "answer_border_zone_houaphan.png"))
    village = next(i for i, r in enumerate(rows) if r.get_attribute("data-kind") == "village")
    _click_row_and_check_zoom(browser, village)
    browser.save_screenshot(str(OUT / "answer_border_zone_village.png"))
    assert browser.find_element("css selector", ".leaflet-popup-content").text
    _, requested = _network(browser)
    assert requested and not _internet(requested, live_url)


def test_error_page_in_english_has_a_way_back(browser, live_url):
    _network(browser)
    browser.get(f"{live_url}/queries/touching?{urlencode({'unit': 'Houaphanx', 'f': 'html', 'lang': 'en'})}")
    assert "not found" in browser.find_element("id", "gb-error-message").text
    assert browser.find_element("id", "gb-maps").get_attribute("href").endswith("/maps?lang=en")
    browser.save_screenshot(str(OUT / "answer_error_en.png"))
    _, requested = _network(browser)
    assert not _internet(requested, live_url)
