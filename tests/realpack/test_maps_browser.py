"""The map pages in a real browser: headless Chromium (Debian chromium + chromium-driver) driven
by Selenium against the service running under uvicorn on a random loopback port (the fixtures
`browser` and `live_url` of tests/realpack/conftest.py).

Under CI (CI=true) a missing Chromium fails the test with the fix; elsewhere it is skipped.
Screenshots are written to test-output/ (git-ignored) so a person can look at them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import shapely
from browser_tools import OUT, TILES_DONE, _internet, _network, _wait


def _screenshot_rgb(driver, path: Path) -> np.ndarray:
    from rasterio.io import MemoryFile

    png = driver.get_screenshot_as_png()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    with MemoryFile(png) as mem, mem.open() as ds:
        return np.moveaxis(ds.read()[:3], 0, -1)


def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def _count(rgb: np.ndarray, color: str, tol: int = 6) -> int:
    """Pixels of `color` (within `tol` per channel: edges are antialiased)."""
    diff = np.abs(rgb.astype(np.int16) - np.array(_hex(color), dtype=np.int16))
    return int(np.all(diff <= tol, axis=-1).sum())


def test_son_la_density_map_in_chromium(browser, live_url, real_store):
    """Scenario 1: density, 2025 units, Sơn La — tiles load, no console errors, nothing from the
    internet, the choropleth, legend and border are on screen, a click on a border commune shows
    its figures and the Lao province it faces."""
    browser.get_log("performance")
    browser.get(f"{live_url}/maps/density?vintage=2025&area=14&classes=quantiles&k=5")
    n_tiles = _wait(browser, TILES_DONE)
    time.sleep(0.5)  # the overlay tiles (roads) finish too
    status, requested = _network(browser)

    tile_status = {u: s for u, s in status.items() if "/tiles/WebMercatorQuad/" in u and "/collections/" not in u}
    assert len(tile_status) >= n_tiles >= 4
    assert set(tile_status.values()) == {200}, tile_status
    assert all("indicator=density" in u and "area=14" in u for u in tile_status)
    outside = _internet(requested, live_url)
    assert outside == [], f"the page asked the internet for {outside}"
    assert any(u.startswith(f"{live_url}/static/vendor/leaflet/") for u in requested)

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors

    # the legend: Vietnamese title, unit, 5 classes
    legend = browser.execute_script("return document.getElementById('gb-legend').innerText")
    assert "Mật độ dân số" in legend and "người/km²" in legend and "2025" in legend
    assert len(browser.execute_script("return document.querySelectorAll('#gb-legend .gb-sw')")) >= 5
    html_legend = json.loads(
        browser.execute_script(
            "return JSON.stringify(Array.from(document.querySelectorAll('#gb-legend .gb-sw')).map(e => e.style.background))"
        )
    )

    rgb = _screenshot_rgb(browser, OUT / "maps_son_la_density_vi.png")
    h, w, _ = rgb.shape
    from geoborder.maps import choropleth as C

    ch = C.choropleth(real_store, None, C.MapSpec("density", 2025, "14", None, "quantiles", 5))
    map_area = rgb[: h * 3 // 4, : w * 3 // 4]  # away from the legend box (bottom right)
    seen = [c for c in ch.classification.colors if _count(map_area, c) > 300]
    assert len(seen) >= 4, f"class colours on screen: {seen} of {ch.classification.colors}"
    assert _count(rgb, "#d7191c") > 100, "the border line (red) is not on screen"
    assert len(np.unique(map_area.reshape(-1, 3), axis=0)) > 20
    assert len(html_legend) == ch.classification.n_classes + (1 if ch.classification.no_data else 0)

    # click a border commune: its figures and the Lao province it faces
    border = real_store.frame("border_communes_2025")
    b = border[(border["province_code"] == "14") & border["partner_units"].str.contains("LA-HO")].iloc[0]
    pt = shapely.point_on_surface(b.geometry)
    browser.execute_script(
        f"var m = window.geoborderMap; m.setView([{pt.y}, {pt.x}], 10); m.fire('click', {{latlng: L.latLng({pt.y}, {pt.x})}});"
    )
    popup = _wait(browser, "var p = document.querySelector('.gb-popup'); return p ? p.innerText : '';")
    assert b["name"] in popup and "Houaphan" in popup and "Mật độ dân số" in popup
    # hovering shows the commune's value in the panel
    browser.execute_script(f"window.geoborderMap.fire('mousemove', {{latlng: L.latLng({pt.y}, {pt.x})}});")
    hover = _wait(
        browser,
        "var h = document.getElementById('gb-hover').innerText;"
        f"return h.indexOf({json.dumps(b['name'])}) >= 0 ? h : '';",
    )
    assert "người/km²" in hover and "2025" in hover
    _wait(browser, TILES_DONE)
    _screenshot_rgb(browser, OUT / "maps_son_la_click_vi.png")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_national_page_in_english_in_chromium(browser, live_url):
    """The national page (all 3,321 communes of 2025) in English: tiles 200, English legend."""
    browser.get_log("performance")
    browser.get(f"{live_url}/maps/population?vintage=2025&area=all&classes=natural_breaks&k=6&lang=en")
    _wait(browser, TILES_DONE, timeout=90)
    status, requested = _network(browser)
    tiles = {u: s for u, s in status.items() if "/tiles/WebMercatorQuad/" in u and "/collections/" not in u}
    assert tiles and set(tiles.values()) == {200}
    assert _internet(requested, live_url) == []
    legend = browser.execute_script("return document.getElementById('gb-legend').innerText")
    assert "Population" in legend and "natural breaks" in legend
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    rgb = _screenshot_rgb(browser, OUT / "maps_national_population_en.png")
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20


def test_picker_leads_to_the_map_and_its_download(browser, live_url):
    """The planner picks density, 2025 units, Sơn La on /maps; the download link and the map match."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{live_url}/maps")
    Select(browser.find_element(By.ID, "indicator")).select_by_value("density")
    Select(browser.find_element(By.ID, "vintage")).select_by_value("2025")
    Select(browser.find_element(By.ID, "area")).select_by_visible_text("Sơn La ★")
    Select(browser.find_element(By.ID, "classes")).select_by_value("natural_breaks")
    download = browser.find_element(By.ID, "download").get_attribute("href")
    assert "/maps/data.geojson?" in download and "indicator=density" in download and "area=14" in download
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(browser, TILES_DONE)
    assert "/maps/density?" in browser.current_url and "area=14" in browser.current_url
    assert "classes=natural_breaks" in browser.current_url
    page_download = browser.find_element(By.ID, "gb-download").get_attribute("href")
    assert "area=14" in page_download and "classes=natural_breaks" in page_download
    # the language switch keeps the map
    browser.find_element(By.ID, "gb-lang").click()
    _wait(browser, TILES_DONE)
    assert "lang=en" in browser.current_url and "area=14" in browser.current_url
    assert "Population density" in browser.execute_script("return document.getElementById('gb-legend').innerText")
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
