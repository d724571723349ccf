"""The names and the context of the map page in a real browser (issues 14 and 15): at zoom 10 the
communes of Sơn La are named and no two visible names overlap, rivers are drawn, village names
appear from zoom 12 (asked for by the view), and the partner provinces are named in Vietnamese on
a Vietnamese page and in English on an English one. Headless Chromium + Selenium as
tests/realpack/test_maps_browser.py; screenshots under test-output/."""

from __future__ import annotations

import time

from browser_tools import OUT, TILES_DONE, _internet, _network, _wait

PAGE = "/maps/density?vintage=2025&area=14&classes=quantiles&k=5"

VISIBLE = """
  var v = Array.from(document.querySelectorAll('.gb-label-anchor:not(.gb-label-hidden) .gb-label')).map(function (e) {
    var r = e.getBoundingClientRect(); return [e.innerText, r.left, r.top, r.right, r.bottom, e.className];
  });
  var kind = arguments[0], n = arguments[1] || 0;
  return v.filter(function (l) { return !kind || l[5].indexOf('gb-label-' + kind) >= 0; }).length > n ? v : null;
"""


def _visible(driver, kind: str = "", at_least: int = 1) -> list:
    """The visible labels [text, left, top, right, bottom, class] once `at_least` of `kind` show."""
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        v = driver.execute_script(VISIBLE, kind, at_least - 1)
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} visible labels of kind {kind!r}")


def _overlaps(labels: list) -> list:
    out = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]:
                out.append((a[0], b[0]))
    return out


def test_commune_names_at_zoom_10_without_collisions(browser, live_url, real_store):
    browser.set_window_size(1280, 900)
    browser.get_log("performance")
    browser.get(live_url + PAGE + "&lat=21.15&lon=103.75&zoom=10")
    _wait(browser, TILES_DONE)
    communes = real_store.frame("communes_2025")
    son_la = set(communes.loc[communes["province_code"].astype(str) == "14", "name"].astype(str))
    labels = _visible(browser, "commune", 5)
    shown = {t for t, *_ in labels}
    assert len(shown & son_la) >= 5, shown
    assert not _overlaps(labels)
    # rivers are drawn (SVG paths of the river colour)
    assert browser.execute_script("return document.querySelectorAll('path[stroke=\"#2c7fb8\"]').length;") > 0
    time.sleep(0.3)
    browser.save_screenshot(str(OUT / "map_context_son_la_zoom10_vi.png"))
    _, requested = _network(browser)
    assert not _internet(requested, live_url)


def test_village_names_from_zoom_12(browser, live_url):
    browser.get(live_url + PAGE + "&lat=21.05&lon=103.55&zoom=12")
    _wait(browser, TILES_DONE)
    villages = _wait(
        browser,
        "var v = Array.from(document.querySelectorAll('.gb-label-anchor:not(.gb-label-hidden) .gb-label-village'));"
        " return v.length ? v.map(function (e) { return e.innerText; }) : null;",
    )
    assert len(villages) >= 3
    assert not _overlaps(_visible(browser))
    time.sleep(0.3)
    browser.save_screenshot(str(OUT / "map_context_son_la_zoom12_villages.png"))
    # zoomed out, the village names are gone
    browser.execute_script("window.geoborderMap.setZoom(9, {animate: false});")
    _wait(browser, "return document.querySelectorAll('.gb-label-village').length === 0;")


def test_partner_names_in_the_pages_language(browser, live_url):
    names = {}
    for lang in ("vi", "en"):
        browser.get(live_url + PAGE + f"&lang={lang}")
        _wait(browser, TILES_DONE)
        labels = _visible(browser, "partner", 2)
        names[lang] = {t for t, *_, cls in labels if "partner" in cls}
        assert not _overlaps(labels)
        time.sleep(0.3)
        browser.save_screenshot(str(OUT / f"map_context_son_la_partners_{lang}.png"))
    assert {"Hủa Phăn", "Luông Pha Băng"} <= names["vi"], names["vi"]
    assert {"Houaphan", "Luang Prabang"} <= names["en"], names["en"]
    assert not names["en"] & {"Hủa Phăn", "Luông Pha Băng", "Phông Xa Lỳ"}
