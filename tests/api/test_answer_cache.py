"""The held answers of /queries (geoborder.queries.answers) on the real store, both stores: the
bytes sent are those the question computes without the cache, a repeated request is a lookup,
gzip and identity carry the same JSON, and the commune profile follows the indicator database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder import queries as q
from geoborder.core.settings import ApiSettings
from geoborder.indicators.importing import import_file
from geoborder.indicators.open import open_indicators
from geoborder.queries import answers as A
from geoborder.queries import profile as P
from geoborder.queries import roadless as R
from geoborder.queries import zone as Z
from geoborder.queries.touching import _touching

pytestmark = pytest.mark.realpack

FIXTURE = Path(__file__).parent.parent / "fixtures" / "indicators_madeup_sonla_long_codes.csv"

ROADLESS = dict(
    min_distance_m=2000.0, countries="VN", road_classes=None, border_km=None, partner=None, vintage=2025, layer=None
)

CASES = [
    ("/queries/roadless-villages/by-commune", {}, lambda s: R._roadless_by_commune(s, **ROADLESS)),
    ("/queries/roadless-villages", {}, lambda s: R._roadless_villages(s, **ROADLESS)),
    (
        "/queries/roadless-villages",
        {"border_km": 10, "partner": "LAO", "layer": "towns"},
        lambda s: R._roadless_villages(s, **{**ROADLESS, "border_km": 10.0, "partner": "LAO", "layer": "towns"}),
    ),
    (
        "/queries/border-zone",
        {"distance_km": 5, "partner": "LAO"},
        lambda s: Z._border_zone(s, distance_km=5.0, partner="LAO", vintage=2025, include=None, countries="VN"),
    ),
    ("/queries/touching", {"unit": "Lào Cai"}, lambda s: _touching(s, "Lào Cai", 2025, None, None, "commune")),
]


def _body(client, url, params, **headers):
    r = client.get(url, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r


@pytest.mark.parametrize("url,params,compute", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_the_held_answer_is_the_computed_one(client, real_store, url, params, compute):
    first = _body(client, url, params)
    with real_store.pinned():
        uncached = A.encode(compute(real_store))
    assert first.content == uncached
    hits = A.ANSWERS.hits
    again = _body(client, url, params)
    assert again.content == uncached and A.ANSWERS.hits > hits  # the second one is a lookup
    assert again.headers["etag"] == first.headers["etag"]


def test_gzip_and_identity_carry_the_same_json(client):
    url, params = "/queries/border-zone", {"distance_km": 5, "partner": "LAO"}
    zipped = _body(client, url, params, **{"Accept-Encoding": "gzip"})
    plain = _body(client, url, params, **{"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert zipped.content == plain.content  # the client inflated the first
    assert zipped.headers["content-type"].startswith("application/geo+json")
    assert "accept-encoding" in plain.headers["vary"].lower()


def test_the_python_answer_is_the_json_sent(client, real_store):
    body = _body(client, "/queries/border-zone", {"distance_km": 5, "partner": "LAO"}).json()
    assert q.border_zone(real_store, distance_km=5.0, partner="LAO") == body


def test_errors_are_not_held(client):
    before = len(A.ANSWERS)
    for _ in range(2):
        r = client.get("/queries/border-zone", params={"partner": "Luang Prabnag"})
        assert r.status_code == 404 and "Luang Prabang" in r.json()["description"]
    assert len(A.ANSWERS) == before


def test_the_budget_setting_bounds_what_is_held(real_store, tmp_path):
    db = open_indicators(tmp_path / "indicators.sqlite")
    try:
        with TestClient(create_app(ApiSettings(answer_cache_mb=0, warmup=False), store=real_store, indicators=db)) as c:
            _body(c, "/queries/touching", {"unit": "LAO"})
            assert A.ANSWERS.max_bytes == 0 and len(A.ANSWERS) == 0 and A.ANSWERS.held_bytes == 0
            _body(c, "/queries/touching", {"unit": "LAO"})  # computed again, still correct
    finally:
        q.set_budget(A.DEFAULT_BUDGET)
    assert A.ANSWERS.max_bytes == A.DEFAULT_BUDGET


def test_the_profile_follows_an_indicator_import(real_store, tmp_path):
    db = open_indicators(tmp_path / "indicators.sqlite")
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        url, params = "/queries/commune-profile", {"code": "04045"}
        before = _body(c, url, params)
        assert "poor_households" not in before.json()["features"][0]["properties"]["indicators"]
        assert _body(c, url, params).content == before.content  # held
        import_file(real_store, db, FIXTURE.read_bytes(), FIXTURE.name, who="test")
        after = _body(c, url, params)
        # Lóng Sập (04045): the value of the made-up file, as imported
        got = after.json()["features"][0]["properties"]["indicators"]["poor_households"]
        assert got["value"] == 615 and got["year"] == 2024
        with real_store.pinned():
            assert after.content == A.encode(P._commune_profile(real_store, "04045", db, 10.0))
