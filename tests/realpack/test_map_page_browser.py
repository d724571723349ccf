"""The map page for planners in a real browser (issue 15): find a commune without diacritics, the
table, the address that reproduces the view, the picker that keeps Sơn La across vintages, an
error page for people, and a phone screen where every link is clickable. Headless Chromium +
Selenium as tests/realpack/test_maps_browser.py; screenshots under test-output/."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest
from browser_tools import OUT, TILES_DONE, _internet, _network, _wait

PAGE = "/maps/density?vintage=2025&area=14&classes=quantiles&k=5"


def _severe(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_find_a_commune_table_and_the_address(browser, live_url, real_store):
    browser.set_window_size(1280, 900)
    browser.get_log("performance")
    browser.get_log("browser")
    browser.get(live_url + PAGE)
    _wait(browser, TILES_DONE)
    # search without diacritics: "muong leo" finds Mường Lèo, Enter zooms to it and shows its figures
    box = browser.find_element("id", "gb-search")
    box.click()
    box.send_keys("muong leo")
    first = _wait(
        browser, "var li = document.querySelector('#gb-results li[role=option]'); return li ? li.innerText : '';"
    )
    assert "Mường Lèo" in first
    box.send_keys("\n")
    popup = _wait(browser, "var p = document.querySelector('.gb-popup'); return p ? p.innerText : '';")
    assert "Mường Lèo" in popup and "Mật độ dân số" in popup
    _wait(
        browser,
        "return window.geoborderMap.getZoom() >= 10 && document.querySelectorAll('path[stroke=\"#00e5ff\"]').length;",
    )
    _wait(browser, TILES_DONE)
    time.sleep(0.5)
    browser.save_screenshot(str(OUT / "map_page_search_muong_leo_vi.png"))

    # the address now holds the view; opening it gives the same view
    url = browser.current_url
    q = parse_qs(urlparse(url).query)
    assert {"lat", "lon", "zoom", "layers", "area", "vintage", "k", "classes"} <= set(q), q
    centre = browser.execute_script(
        "var c = window.geoborderMap.getCenter(); return [c.lat, c.lng, window.geoborderMap.getZoom()];"
    )
    assert int(q["zoom"][0]) == centre[2] >= 10
    # switch a layer off: the address says so
    browser.execute_script(
        "var m = window.geoborderMap; m.eachLayer(function (l) { if (l._url && l._url.indexOf('/collections/roads/') >= 0) m.removeLayer(l); });"
    )
    browser.execute_script("window.geoborderMap.fire('overlayremove', {name: 'Quốc lộ, tỉnh lộ, đường sắt'});")
    url = browser.current_url
    assert "roads" not in parse_qs(urlparse(url).query)["layers"][0].split(",")
    browser.get(url)
    _wait(browser, TILES_DONE)
    again = browser.execute_script(
        "var c = window.geoborderMap.getCenter(); return [c.lat, c.lng, window.geoborderMap.getZoom()];"
    )
    assert again[2] == centre[2]
    assert abs(again[0] - centre[0]) < 1e-3 and abs(again[1] - centre[1]) < 1e-3
    roads_on = browser.execute_script(
        "var on = false; window.geoborderMap.eachLayer(function (l) { if (l._url && l._url.indexOf('/collections/roads/') >= 0) on = true; }); return on;"
    )
    assert roads_on is False

    # the table: every commune of the map, sortable by value
    browser.find_element("id", "gb-table-open").click()
    n = _wait(browser, "return document.querySelectorAll('#gb-table tbody tr').length;")
    communes = real_store.frame("communes_2025")
    assert n == int((communes["province_code"].astype(str) == "14").sum())
    browser.find_element("css selector", '#gb-table th[data-key="value"] button').click()
    values = browser.execute_script(
        "return Array.from(document.querySelectorAll('#gb-table tbody tr td:nth-child(4)')).map(td => td.innerText);"
    )
    nums = [float(v.replace(".", "").replace(",", ".")) for v in values if v[0].isdigit()]
    assert nums == sorted(nums, reverse=True) and len(nums) > 10
    browser.find_element("id", "gb-table-filter").send_keys("chieng")
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#gb-table tbody tr td:nth-child(2)')).map(td => td.innerText);"
    )
    assert shown and all("Chiềng" in s for s in shown)
    time.sleep(0.3)
    browser.save_screenshot(str(OUT / "map_page_table_vi.png"))

    status, requested = _network(browser)
    assert _internet(requested, live_url) == []
    assert any("/maps/table.json?" in u for u in requested)
    assert _severe(browser) == []


def test_the_picker_keeps_son_la_across_vintages(browser, live_url):
    browser.set_window_size(1280, 900)
    browser.get(f"{live_url}/maps?indicator=population&vintage=2025&area=14&k=4")
    assert browser.execute_script("return document.getElementById('area').value") == "14"
    assert browser.execute_script("return document.getElementById('indicator').value") == "population"
    assert browser.execute_script("return document.getElementById('k').value") == "4"
    browser.execute_script(
        "var v = document.getElementById('vintage'); v.value = '2009'; v.dispatchEvent(new Event('change', {bubbles: true}));"
    )
    assert browser.execute_script("return document.getElementById('area').value") == "303"
    browser.save_screenshot(str(OUT / "map_picker_son_la_2009_vi.png"))


def test_an_error_page_for_people(browser, live_url):
    browser.set_window_size(1024, 768)
    browser.get(f"{live_url}/maps/density?area=99&k=4")
    assert "Vùng «99» không có" in browser.find_element("id", "gb-error-message").text
    browser.save_screenshot(str(OUT / "map_error_area_vi.png"))
    browser.find_element("id", "gb-back").click()
    _wait(browser, "return document.getElementById('picker') ? 1 : 0;")
    assert browser.execute_script("return document.getElementById('k').value") == "4"


@pytest.mark.parametrize("size", [(390, 844), (1024, 768)])
def test_every_link_is_clickable_on_a_phone_and_a_projector(browser, live_url, size):
    browser.set_window_size(*size)
    browser.get(live_url + PAGE)
    _wait(browser, TILES_DONE)
    time.sleep(0.5)
    covered = browser.execute_script(
        """
        var out = [];
        document.querySelectorAll('a[href], button, select, input').forEach(function (a) {
          if (a.closest('[hidden]') || a.closest('.leaflet-control-layers-list') || a.offsetParent === null) return;
          var r = a.getBoundingClientRect();
          if (r.width === 0 || r.height === 0) return;
          var x = r.left + r.width / 2, y = r.top + r.height / 2;
          if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) { out.push(['off screen', a.id || a.textContent]); return; }
          var e = document.elementFromPoint(x, y);
          if (!(e === a || a.contains(e))) out.push([a.id || a.textContent, e ? (e.id || e.className || e.tagName) : null]);
        });
        return out;
        """
    )
    browser.save_screenshot(str(OUT / f"map_page_{size[0]}x{size[1]}_vi.png"))
    assert covered == [], covered
