"""The background warm-up (geoborder/warmup.py): /health goes from warming to warm, and what the
warm-up builds is what the first requests use (the cache objects, not timings)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.core.settings import ApiSettings
from geoborder.indicators.open import open_indicators
from geoborder.queries._common import _metric
from geoborder.queries._local import LocalSpatial, spatial
from geoborder.tiles import render
from geoborder.warmup import Warmup


@pytest.fixture
def indicators_db(tmp_path):
    return open_indicators(tmp_path / "indicators.sqlite")


def _wait_warm(c: TestClient, timeout: float = 600.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = c.get("/health").json()
        if body["warm"]:
            return body
        time.sleep(0.2)
    pytest.fail(f"not warm after {timeout:.0f} s: {body}")


def test_status_before_and_after(real_store, indicators_db):
    w = Warmup(real_store, indicators_db)
    names = [s.name for s in w.steps]
    before = w.status()
    assert before["warm"] is False
    assert before["warming"] == names
    w.run()
    after = w.status()
    assert after["warm"] is True and after["warming"] == []
    assert "failed" not in after, after.get("failed")
    assert set(after["warmup_seconds"]) == set(names)
    assert w.current() is w  # same data version: no new warm-up


def test_off_by_setting(real_store, indicators_db):
    app = create_app(ApiSettings(warmup=False), store=real_store, indicators=indicators_db)
    with TestClient(app) as c:
        r = c.get("/health")
        assert r.status_code == 200
        assert r.json()["warmup"] == "off" and r.json()["warm"] is False
        assert app.state.warmup is None


def test_health_goes_warm_and_requests_use_what_was_built(real_store, indicators_db):
    app = create_app(ApiSettings(warmup=True), store=real_store, indicators=indicators_db)
    with TestClient(app) as c:
        first = c.get("/health")
        assert first.status_code == 200  # 200 while warming: a load balancer keeps routing
        body = first.json()
        assert body["warm"] is True or body["warming"], body
        body = _wait_warm(c)
        assert body["warming"] == [] and "failed" not in body, body
        assert body["status"] == "ok" and body["data_version"] == real_store.version

        # the spatial questions: a first border-zone request builds no metric geometry, tree or
        # per-version input (the metric cache is the one the warm-up filled, its memo unchanged)
        if isinstance(spatial(real_store), LocalSpatial):
            m = _metric(real_store)
            geoms = dict(m._geoms)
            memo = set(m._memo)
            assert {"communes_2025", "places", "roads", "border_lines"} <= set(geoms)
            assert c.get("/queries/border-zone").status_code == 200
            assert _metric(real_store) is m
            assert set(m._memo) == memo
            assert all(m._geoms[k] is v for k, v in geoms.items()) and set(m._geoms) == set(geoms)

        # items: the routes' FeatureCache is the warm-up's, its commune layers prepared (read from
        # the store's features file, or, with values joined on, their GeoJSON and every gzip
        # segment built), and a first items page is served from that very LayerFeatures
        cache = app.state.ogc_features
        assert cache is app.state.warmup.features
        lf = cache.peek("communes_2025", indicators_db.revision())
        assert lf is not None and lf.prepared
        assert lf.from_file or all(seg is not None for seg in lf._built()._gz)
        r = c.get("/collections/communes_2025/items?limit=100", headers={"Accept": "application/geo+json"})
        assert r.status_code == 200 and len(r.json()["features"]) == 100
        assert app.state.ogc_features is cache
        assert cache.peek("communes_2025", indicators_db.revision()) is lf

        # tiles: the commune layers are projected (the LRU holds them for this store and version)
        for layer in ("communes_2025", "communes_2009"):
            key = (id(real_store), real_store.version, layer)
            assert key in render._PROJECTED._d
        assert c.get("/maps/legend?indicator=density").status_code == 200
