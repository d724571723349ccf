"""The review page in a browser (issue 17): the Sơn La review of the made-up series with made-up
targets, its targets table saying on track / off track / met with the basis in words, nothing
loaded from outside the machine; and a wrong area as a page in the page's language. Screenshots
in test-output/."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_tools import OUT, _internet, _network, serve

from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.importing import import_file

FIX = Path(__file__).parent.parent / "fixtures"
PRE = FIX / "indicators_madeup_sonla_review_2017_2024_pre2025.csv"
NEW = FIX / "indicators_madeup_sonla_review_2025.csv"
TARGETS = "indicator,area,year,value\npoverty_rate,border:Sơn La,2025,20\npoor_households,border:Sơn La,2025,9000\npoor_households,border:Sơn La,2021,99999\n"


@pytest.fixture(scope="module")
def review_url(real_store, tmp_path_factory):
    """The app on the real store with the made-up series and targets, under uvicorn in a thread."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    db = IndicatorDB(tmp_path_factory.mktemp("review_pages") / "indicators.sqlite")
    import_file(real_store, db, PRE.read_bytes(), PRE.name, vintage=2009)
    import_file(real_store, db, NEW.read_bytes(), NEW.name, vintage=2025)
    key = db.add_key("madeup-targets")
    app = create_app(store=real_store, indicators=db)
    with TestClient(app) as c:
        files = {"file": ("targets_madeup.csv", TARGETS.encode(), "text/csv")}
        assert c.post("/reports/targets/imports", files=files, headers={"X-API-Key": key}).status_code == 201
    app = create_app(store=real_store, indicators=db)
    with serve(app) as url:
        yield url


def test_review_page_targets_on_and_off_track(browser, review_url):
    from selenium.webdriver.common.by import By

    _network(browser)
    browser.get(
        f"{review_url}/reports/review?area=border%3AS%C6%A1n%20La&from=2017&to=2024"
        "&indicator=poor_households&indicator=poverty_rate&lang=en"
    )
    table = browser.find_element(By.XPATH, "//h2[@id='targets']/following-sibling::table[1]")
    rows = [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in table.find_elements(By.TAG_NAME, "tr")[1:]
    ]
    by = {(r[0], r[1]): r for r in rows}
    assert len(rows) == 3
    statuses = {r[4] for r in rows}
    assert statuses <= {"on track", "off track", "met", "not met"} and statuses & {"met", "not met"}
    for (_name, year), r in by.items():
        if year == "2025":
            assert r[4] in ("on track", "off track") and "average annual rate of 2017–2024" in r[5]
    browser.execute_script("document.getElementById('targets').scrollIntoView()")
    OUT.mkdir(exist_ok=True)
    browser.save_screenshot(str(OUT / "report_targets_trend.png"))
    _, urls = _network(browser)
    assert _internet(urls, review_url) == []


def test_wrong_area_is_a_page_in_its_language(browser, review_url):
    from selenium.webdriver.common.by import By

    browser.get(f"{review_url}/reports/review?area=Atlantis&from=2017&to=2024&indicator=poor_households")
    assert "Không có khu vực «Atlantis»" in browser.find_element(By.ID, "gb-error-message").text
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    browser.save_screenshot(str(OUT / "report_error_vi.png"))
    browser.find_element(By.ID, "gb-other-lang").click()
    assert "There is no area “Atlantis”" in browser.find_element(By.ID, "gb-error-message").text
