"""The service's foundation endpoints: landing page, /health, /layers."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.store.memory import MemoryStore


@pytest.fixture()
def bare_client():
    """A bare app on a two-feature in-memory store (synthetic shapes, real-shaped attributes)."""
    communes = gpd.GeoDataFrame(
        {
            "commune_code": ["04240", "04246"],
            "name": ["Mường Lèo", "Mường Lạn"],
            "unit_type": ["Xã", "Xã"],
            "province_code": ["14", "14"],
            "province_name": ["Sơn La", "Sơn La"],
            "area_km2": [1.0, 2.0],
            "population": [10, 20],
        },
        geometry=[shapely.box(103.5, 20.5, 103.6, 20.6), shapely.box(103.6, 20.5, 103.7, 20.6)],
        crs=4326,
    )
    with TestClient(create_app(store=MemoryStore({"communes_2025": communes}, version="synthetic-1"))) as c:
        yield c


def test_health_names_the_data_version(bare_client):
    r = bare_client.get("/health")
    assert r.status_code == 200
    assert r.json()["data_version"] == "synthetic-1" and r.json()["layers"] == 1


def test_layers_lists_counts_and_metadata(bare_client):
    body = bare_client.get("/layers").json()
    (lyr,) = body["layers"]
    assert lyr["id"] == "communes_2025" and lyr["feature_count"] == 2
    assert lyr["bbox"] == [103.5, 20.5, 103.7, 20.6]
    assert lyr["title"] == "Xã, phường, đặc khu (2025)"
    assert bare_client.get("/layers?lang=en").json()["layers"][0]["title"] == "Communes (2025 units)"
    assert lyr["licence"] and lyr["source_file"] == "vn_communes_2025.geojson"


def test_layer_detail_and_unknown_layer(bare_client):
    d = bare_client.get("/layers/communes_2025").json()
    assert [f["name"] for f in d["fields"]][:2] == ["commune_code", "name"]
    r = bare_client.get("/layers/communes_2030")
    assert r.status_code == 404 and "communes_2030" in r.json()["description"]


def test_bad_parameter_is_400_with_message(bare_client):
    r = bare_client.get("/layers?lang=fr")
    assert r.status_code == 400
    assert "lang" in r.json()["description"]


def test_landing_page_html_and_json(bare_client):
    html = bare_client.get("/", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Mường Lèo" not in html.text  # a listing of layers, not of features
    assert "Xã, phường, đặc khu (2025)" in html.text
    en = bare_client.get("/?f=html&lang=en").text
    assert "Communes (2025 units)" in en
    # every page the landing links to works offline: no CDN-backed /docs
    assert 'href="/api?f=html"' in html.text and bare_client.get("/docs").status_code == 404
    js = bare_client.get("/", headers={"Accept": "application/json"}).json()
    assert {link["rel"] for link in js["links"]} >= {"self", "service-desc", "data"}


def test_real_store_layers_match_store(client, real_store):
    body = client.get("/layers").json()
    got = {lyr["id"]: lyr["feature_count"] for lyr in body["layers"]}
    assert got == {lyr.id: len(real_store.frame(lyr.id)) for lyr in real_store.layers()}
    assert got["communes_2025"] == 3321
    assert client.get("/health").json()["data_version"] == real_store.version
