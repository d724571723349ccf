"""Compare in a real browser (issue 15): the change map between two years, two maps side by side
with linked pan and zoom (two years; the pre-2025 and the 2025 units), and the tile refresh: over
8 fresh loads of the national and the Sơn La pages, every choropleth tile left in the page is of
the map's final zoom. Headless Chromium + Selenium (conftest.py); screenshots under test-output/.

The two years of values are the made-up Sơn La review fixture (pre-2025 units) imported into a
throwaway indicator database; the population of the 2009 and the 2025 units is the real store's."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from browser_tools import OUT, TILES_DONE, _internet, _network, _wait, serve

FIX = Path(__file__).resolve().parents[1] / "fixtures"
PRE = FIX / "indicators_madeup_sonla_review_2017_2024_pre2025.csv"
CHANGE = "/maps/poverty_rate?vintage=2009&area=303&year=2024&from=2017&measure=difference"
SIDE = "/maps/poverty_rate/compare?vintage=2009&area=303&year=2024&with_year=2017"
UNITS = "/maps/population/compare?vintage=2025&area=14"


@pytest.fixture(scope="module")
def madeup_url(real_store, tmp_path_factory):
    """The app on the real store with the made-up review imported, under uvicorn on 127.0.0.1."""

    from api.main import create_app
    from geoborder.indicators.db import IndicatorDB
    from geoborder.indicators.importing import import_file

    db = IndicatorDB(tmp_path_factory.mktemp("compare") / "indicators.sqlite")
    import_file(real_store, db, PRE.read_bytes(), PRE.name, vintage=2009)
    app = create_app(store=real_store, indicators=db)
    with serve(app) as url:
        yield url


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url) as r:
        return json.loads(r.read())


def _tiles_of(driver, n: int) -> int:
    """Choropleth tiles loaded in the n-th map of the page (0 or 1), 0 while some are loading."""
    return driver.execute_script(
        """
        var el = window.geoborderMaps[arguments[0]].getContainer();
        var imgs = Array.from(el.querySelectorAll('img.leaflet-tile')).filter(function (i) { return i.src.indexOf('.png?indicator=') >= 0; });
        return imgs.length > 0 && imgs.every(function (i) { return i.complete && i.classList.contains('leaflet-tile-loaded'); }) ? imgs.length : 0;
        """,
        n,
    )


def _view(driver, n: int) -> list:
    return driver.execute_script(
        "var m = window.geoborderMaps[arguments[0]], c = m.getCenter(); return [c.lat, c.lng, m.getZoom()];", n
    )


def test_the_change_map_draws_with_its_legend_popup_and_table(browser, madeup_url):
    browser.set_window_size(1280, 900)
    browser.get_log("performance")
    browser.get(madeup_url + CHANGE)
    _wait(browser, TILES_DONE)
    legend = browser.find_element("id", "gb-legend").text
    assert "điểm %" in legend and "2017 → 2024" in legend and "Thay đổi tỷ lệ hộ nghèo" in legend
    # the legend's swatches are the map's classes (API), diverging: a fall in poverty is blue
    api = _get_json(madeup_url + CHANGE.replace("/maps/poverty_rate?", "/maps/legend?indicator=poverty_rate&"))
    swatches = browser.execute_script(
        "return Array.from(document.querySelectorAll('#gb-legend .gb-sw')).map(function (s) { return getComputedStyle(s).backgroundColor; });"
    )
    assert len(swatches) == sum(1 for e in api["legend"] if e["class"] >= 0 or e["count"] > 0)
    # a commune with values in both years: its popup shows both years and the change
    rows = _get_json(madeup_url + CHANGE.replace("/maps/poverty_rate?", "/maps/table.json?indicator=poverty_rate&"))
    row = next(r for r in rows["rows"] if r["value"] is not None)
    browser.execute_script(
        "window.geoborderMap.fire('click', {latlng: L.latLng(arguments[0], arguments[1])});",
        row["point"][1],
        row["point"][0],
    )
    popup = _wait(browser, "var p = document.querySelector('.gb-popup'); return p ? p.innerText : '';")
    assert "Tỷ lệ hộ nghèo 2017" in popup and "Tỷ lệ hộ nghèo 2024" in popup
    assert row["value_from_text"] in popup and row["value_to_text"] in popup and row["value_text"] in popup
    # the table shows both years' columns
    browser.find_element("id", "gb-table-open").click()
    _wait(browser, "return document.querySelectorAll('#gb-table tbody tr').length;")
    heads = [th.text for th in browser.find_elements("css selector", "#gb-table th")]
    assert "2017" in heads and "2024" in heads and "Thay đổi" in heads
    time.sleep(0.3)
    browser.save_screenshot(str(OUT / "map_change_poverty_rate_2017_2024_vi.png"))
    browser.find_element("id", "gb-table-close").click()
    # the address keeps the change map; the measure switcher gives the % change
    q = parse_qs(urlparse(browser.current_url).query)
    assert q["from"] == ["2017"] and q["measure"] == ["difference"] and q["year"] == ["2024"]
    browser.execute_script(
        "var s = document.getElementById('gb-measure'); s.value = 'percent'; s.dispatchEvent(new Event('change'));"
    )
    _wait(browser, "return location.search.indexOf('measure=percent') >= 0 && document.readyState === 'complete';")
    _wait(browser, TILES_DONE)
    assert "%" in browser.find_element("id", "gb-legend").text and "% thay đổi" in browser.title
    status, requested = _network(browser)
    assert _internet(requested, madeup_url) == []
    assert all(s < 400 for u, s in status.items() if u.startswith(madeup_url)), status


def _px(zoom: int) -> float:
    """Two screen pixels in degrees at `zoom`: the maps' views agree to Leaflet's whole pixels."""
    return 2 * 360 / (256 * 2**zoom)


def _same_view(a: list, b: list) -> bool:
    return a[2] == b[2] and a[:2] == pytest.approx(b[:2], abs=_px(a[2]))


def _both_drawn(browser) -> None:
    """Wait until both maps of the page have every choropleth tile of their view loaded."""
    _wait(browser, "return window.geoborderMaps && window.geoborderMaps.length === 2;")
    for n in (0, 1):
        deadline = time.monotonic() + 45
        while not _tiles_of(browser, n):
            if time.monotonic() > deadline:
                pytest.fail(f"the tiles of map {n} did not load")
            time.sleep(0.2)


def _linked(browser) -> None:
    """Both maps draw; moving either one moves the other, and the other's echo does not move it back."""
    _both_drawn(browser)
    assert _same_view(_view(browser, 0), _view(browser, 1))
    # move the first map: the second follows, and the first stays where it was put
    browser.execute_script("window.geoborderMaps[0].setView([21.33, 103.91], 10, {animate: false});")
    time.sleep(0.3)
    a, b = _view(browser, 0), _view(browser, 1)
    assert a == pytest.approx([21.33, 103.91, 10], abs=1e-4)
    assert _same_view(a, b)
    # zoom and pan the second map: the first follows
    browser.execute_script(
        "var m = window.geoborderMaps[1]; m.setZoom(9, {animate: false}); m.panBy([120, -60], {animate: false});"
    )
    time.sleep(0.3)
    a, b = _view(browser, 0), _view(browser, 1)
    assert b[2] == 9 and _same_view(a, b)
    assert b[:2] != pytest.approx([21.33, 103.91], abs=1e-3)  # it really moved
    # the address keeps the view
    q = parse_qs(urlparse(browser.current_url).query)
    assert int(q["zoom"][0]) == 9 and float(q["lat"][0]) == pytest.approx(a[0], abs=1e-4)


def test_two_years_side_by_side_pan_and_zoom_together(browser, madeup_url):
    browser.set_window_size(1280, 900)
    browser.get_log("performance")
    browser.get(madeup_url + SIDE)
    _linked(browser)
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('.gb-cmp-title')).map(function (t) { return t.innerText; });"
    )
    assert len(titles) == 2 and "2017" in titles[0] and "2024" in titles[1]  # the older on the left
    legends = browser.find_elements("css selector", ".gb-cmp-legend")
    assert len(legends) == 2 and all("%" in lg.text for lg in legends)
    # the view in the address is opened again as it was
    url = browser.current_url
    browser.get(url)
    _wait(browser, "return window.geoborderMaps && window.geoborderMaps.length === 2;")
    q = parse_qs(urlparse(url).query)
    assert _view(browser, 0)[2] == int(q["zoom"][0]) == _view(browser, 1)[2]
    _both_drawn(browser)
    time.sleep(0.6)
    browser.save_screenshot(str(OUT / "map_compare_poverty_rate_2017_2024_vi.png"))
    # a click on the right map opens that map's popup (its year's value)
    rows = _get_json(madeup_url + "/maps/table.json?indicator=poverty_rate&vintage=2009&area=303&year=2017")["rows"]
    row = next(r for r in rows if r["value"] is not None)
    browser.execute_script(
        "window.geoborderMaps[0].setView([arguments[0], arguments[1]], 10, {animate: false});"
        "window.geoborderMaps[1].fire('click', {latlng: L.latLng(arguments[0], arguments[1])});",
        row["point"][1],
        row["point"][0],
    )
    popup = _wait(
        browser,
        "var p = window.geoborderMaps[1].getContainer().querySelector('.gb-popup'); return p ? p.innerText : '';",
    )
    assert row["title"] in popup and "2024" in popup
    # the page in English keeps the view
    before = _view(browser, 0)
    browser.find_element("id", "gb-cmp-lang").click()
    _wait(
        browser,
        "return document.documentElement.lang === 'en' && window.geoborderMaps && window.geoborderMaps.length === 2;",
    )
    assert "Two maps compared" in browser.find_element("id", "gb-cmp-head").text
    assert _view(browser, 0)[2] == before[2]
    _both_drawn(browser)
    time.sleep(0.6)
    browser.save_screenshot(str(OUT / "map_compare_poverty_rate_2017_2024_en.png"))
    _, requested = _network(browser)
    assert _internet(requested, madeup_url) == []


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)])
def test_pre_2025_and_2025_units_side_by_side(browser, live_url, size):
    """Real values: the population of Sơn La on the 2009 units (census) and on the 2025 units."""
    browser.set_window_size(*size)
    browser.get_log("performance")
    browser.get(live_url + UNITS)
    _linked(browser)
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('.gb-cmp-title')).map(function (t) { return t.innerText; });"
    )
    assert "2009" in titles[0] and "2025" in titles[1]
    rects = browser.execute_script(
        "return window.geoborderMaps.map(function (m) { var r = m.getContainer().getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; });"
    )
    (l1, t1, w1, h1), (l2, t2, w2, h2) = rects
    if size[0] < 700:  # a phone: stacked, each the full width
        assert l1 == l2 == 0 and t2 >= t1 + h1 - 3 and w1 == w2 >= size[0] - 20
        assert t2 + h2 <= browser.execute_script("return innerHeight;") + 1
    else:  # side by side, each half the width
        assert t1 == t2 and l2 >= l1 + w1 - 3 and abs(w1 - w2) <= 2
    _both_drawn(browser)
    time.sleep(0.6)
    browser.save_screenshot(str(OUT / f"map_compare_population_units_{size[0]}x{size[1]}_vi.png"))
    # every link of the page is clickable (nothing covers it)
    covered = browser.execute_script(
        """
        var out = [];
        document.querySelectorAll('a[href]').forEach(function (a) {
          var r = a.getBoundingClientRect(); if (r.width === 0 || r.height === 0) return;
          var e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          if (!(e === a || a.contains(e))) out.push(a.id || a.textContent);
        });
        return out;
        """
    )
    assert covered == [], covered
    _, requested = _network(browser)
    assert _internet(requested, live_url) == []


def test_the_map_page_links_to_the_comparison(browser, madeup_url):
    browser.set_window_size(1280, 900)
    browser.get(madeup_url + "/maps/poverty_rate?vintage=2009&area=303&year=2024")
    _wait(browser, TILES_DONE)
    browser.find_element("id", "gb-compare").click()
    _wait(
        browser,
        "return location.pathname.endsWith('/compare') && window.geoborderMaps && window.geoborderMaps.length === 2;",
    )
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('.gb-cmp-title')).map(function (t) { return t.innerText; });"
    )
    assert "2023" in titles[0] and "2024" in titles[1]  # the year before, beside the map's year


ZOOM_OF_TILES = """
  var map = window.geoborderMap, z = map.getZoom(), out = {zoom: z, others: [], visible_others: [], n: 0};
  document.querySelectorAll('img.leaflet-tile').forEach(function (i) {
    if (i.src.indexOf('.png?indicator=') < 0) return;
    out.n += 1;
    var tz = parseInt(i.src.match(/WebMercatorQuad\\/(\\d+)\\//)[1], 10);
    if (tz !== z) {
      out.others.push(tz);
      var s = getComputedStyle(i), c = getComputedStyle(i.parentNode);
      if (s.display !== 'none' && s.visibility !== 'hidden' && parseFloat(s.opacity) > 0 && c.display !== 'none') out.visible_others.push(tz);
    }
  });
  return out;
"""


@pytest.mark.parametrize("page", ["/maps/density?area=all", "/maps/density?area=14"])
def test_after_8_fresh_loads_every_tile_is_of_the_final_zoom(browser, live_url, page):
    browser.set_window_size(1280, 900)
    seen = []
    for i in range(8):
        browser.get("about:blank")
        browser.get(live_url + page)
        _wait(browser, TILES_DONE)
        time.sleep(0.6)  # Leaflet prunes the tiles of other zooms after its fade
        _wait(browser, TILES_DONE)
        r = browser.execute_script(ZOOM_OF_TILES)
        seen.append(r)
        assert r["n"] > 0
        assert r["others"] == [], f"load {i + 1} of 8: tiles of zoom {sorted(set(r['others']))} beside zoom {r['zoom']}"
        assert r["visible_others"] == []
    assert len({r["zoom"] for r in seen}) == 1, seen  # every load opens at the same final view
    name = re.sub(r"\W+", "_", page.strip("/"))
    browser.save_screenshot(str(OUT / f"map_tiles_after_8_loads_{name}.png"))


COVERED = """
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


def test_the_change_map_on_a_phone(browser, madeup_url):
    browser.set_window_size(390, 844)
    browser.get(madeup_url + CHANGE.replace("difference", "percent"))
    _wait(browser, TILES_DONE)
    time.sleep(0.5)
    assert browser.execute_script(COVERED) == []
    browser.find_element("id", "gb-panel-toggle").click()  # the panel opens: the compare choices are there
    assert (
        browser.find_element("id", "gb-from").is_displayed() and browser.find_element("id", "gb-measure").is_displayed()
    )
    assert browser.execute_script(COVERED) == []
    browser.save_screenshot(str(OUT / "map_change_390x844_vi.png"))
