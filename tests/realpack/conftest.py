"""The fixtures of the browser tests of tests/realpack: the service on the real store under uvicorn
on a random loopback port (`live_url`), and headless Chromium (Debian chromium + chromium-driver)
driven by Selenium (`browser`). Under CI (CI=true) a missing Chromium fails the test with the fix;
elsewhere it is skipped. The helpers the tests share are in browser_tools.py."""

from __future__ import annotations

import shutil

import pytest
from browser_tools import serve
from testenv import IN_CI

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def live_url(real_store, tmp_path_factory):
    """The app on the real store, served by uvicorn in a thread on 127.0.0.1:<random port>."""

    from api.main import create_app

    app = create_app(store=real_store)
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        msg = (
            "headless Chromium is missing: install it with "
            "`apt-get update && apt-get install -y chromium chromium-driver` (.ci/run does)"
        )
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
