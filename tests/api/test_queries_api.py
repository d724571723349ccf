"""/queries/... on the real store: GeoJSON answers, 400 with a message for bad input, 404 with
suggestions for unknown names, never a 500; and the `geoborder query` CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pytestmark = pytest.mark.realpack


def _ok(client, url, **params):
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection" and isinstance(body["features"], list)
    return body


def test_touching_endpoint_name_variants(client):
    a = _ok(client, "/queries/touching", unit="Hủa Phăn", within="14")
    b = _ok(client, "/queries/touching", unit="Houaphan", within="Sơn La")
    c = _ok(client, "/queries/touching", unit="LA-HO", within="14")
    ids = [f["id"] for f in a["features"]]
    assert ids and ids == [f["id"] for f in b["features"]] == [f["id"] for f in c["features"]]
    assert all(f["properties"]["shared_length_km"] > 0 for f in a["features"])
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in a["features"])


def test_touching_endpoint_within_vietnam(client):
    body = _ok(client, "/queries/touching", unit="Lào Cai", within="Xín Mần", vintage=2009)
    names = {d for f in body["features"] for d in f["properties"]["neighbour_districts"]}
    assert {"Huyện Si Ma Cai", "Huyện Bắc Hà"} <= names


def test_unknown_name_is_404_with_suggestions(client):
    r = client.get("/queries/touching", params={"unit": "Houaphanx"})
    assert r.status_code == 404
    assert "did you mean" in r.json()["description"] and "Houaphan (LA-HO)" in r.json()["description"]
    r = client.get("/queries/border-zone", params={"partner": "Luang Prabnag"})
    assert r.status_code == 404 and "Luang Prabang" in r.json()["description"]


@pytest.mark.parametrize(
    "url,params,words",
    [
        ("/queries/roadless-villages", {"min_distance_m": -5}, "min_distance_m"),
        ("/queries/roadless-villages", {"min_distance_m": "far"}, "min_distance_m"),
        ("/queries/roadless-villages", {"road_classes": "autobahn"}, "road class"),
        ("/queries/roadless-villages", {"countries": "XX"}, "country"),
        ("/queries/roadless-villages", {"partner": "LAO"}, "border_km"),
        ("/queries/border-zone", {"distance_km": -1}, "distance_km"),
        ("/queries/border-zone", {"distance_km": 0}, "distance_km"),
        ("/queries/border-zone", {"include": "houses"}, "include"),
        ("/queries/nearest-gates", {"lon": 104, "lat": 21, "k": 0}, "k must"),
        ("/queries/nearest-gates", {"lon": 2.35, "lat": 48.85}, "neighbourhood"),
        ("/queries/nearest-gates", {"lon": 104, "lat": 21, "commune": "04045"}, "exactly one"),
        ("/queries/nearest-gates", {"commune": "99999"}, "unknown"),
        ("/queries/nearest-gates", {"geonameid": "12"}, "unknown"),
        ("/queries/touching", {"unit": "LA-ZZ"}, "unknown code"),
        ("/queries/touching", {"unit": "Houaphanh", "vintage": 2010}, "vintage"),
        ("/queries/touching", {"unit": "Houaphanh", "min_shared_km": -1}, "min_shared_km"),
        ("/queries/touching", {"unit": "Houaphanh", "within": "99"}, "unknown code"),
        ("/queries/commune-profile", {"code": "99999"}, "unknown"),
        ("/queries/commune-profile", {"code": "x"}, "code"),
    ],
)
def test_invalid_input_is_400_with_a_message(client, url, params, words):
    r = client.get(url, params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue" and words in body["description"]


@pytest.mark.parametrize(
    "url,params",
    [
        ("/queries/touching", {"unit": ""}),
        ("/queries/touching", {"unit": "   "}),
        ("/queries/touching", {"unit": "Si Ma Cai"}),  # a 2009 district asked with 2025 units
        ("/queries/touching", {"unit": "Houaphanh", "within": "Houaphanh"}),
        ("/queries/touching", {"unit": "Sơn La", "within": "Sơn La"}),
        ("/queries/nearest-gates", {"lon": "nan", "lat": 21}),
        ("/queries/nearest-gates", {"lon": 1e308, "lat": 1e308}),
        ("/queries/nearest-gates", {"k": 10**12, "lon": 104, "lat": 21}),
        ("/queries/border-zone", {"distance_km": "inf"}),
        ("/queries/border-zone", {"partner": "Xon", "vintage": 2009}),
        ("/queries/roadless-villages", {"border_km": 1e-9}),
        ("/queries/roadless-villages/by-commune", {"countries": "all"}),
        ("/queries/commune-profile", {}),
    ],
)
def test_never_500(client, url, params):
    r = client.get(url, params=params)
    assert r.status_code in (200, 400, 404), r.text
    if r.status_code != 200:
        assert r.json()["description"]


def test_other_endpoints_answer(client):
    body = _ok(client, "/queries/roadless-villages", min_distance_m=2000, border_km=10)
    assert all(f["properties"]["distance_to_road_m"] > 2000 for f in body["features"])
    byc = _ok(client, "/queries/roadless-villages/by-commune", min_distance_m=2000)
    assert byc["numberMatched"] > 0
    gates = _ok(client, "/queries/nearest-gates", lon=103.9, lat=21.3, k=3, international_only=True)
    assert len(gates["features"]) == 3
    assert all(f["properties"]["gate_class"] == "international" for f in gates["features"])
    zone = _ok(client, "/queries/border-zone", distance_km=3, partner="Vân Nam", include="communes,roads")
    assert set(zone["counts"]) == {"communes", "roads"}
    prof = _ok(client, "/queries/commune-profile", code="04240")
    assert prof["features"][0]["properties"]["lineage"]["from"]


def test_openapi_documents_the_queries(client):
    spec = client.get("/openapi.json").json()
    for path in (
        "/queries/touching",
        "/queries/roadless-villages",
        "/queries/roadless-villages/by-commune",
        "/queries/nearest-gates",
        "/queries/border-zone",
        "/queries/commune-profile",
    ):
        assert path in spec["paths"], path
    params = {p["name"]: p for p in spec["paths"]["/queries/touching"]["get"]["parameters"]}
    assert params["unit"]["description"] and "Hủa Phăn" in json.dumps(params["unit"]["examples"], ensure_ascii=False)


def test_cli_query(real_store_path):
    from geoborder.cli.main import main

    runner = CliRunner()
    r = runner.invoke(
        main,
        ["query", "--store", str(real_store_path), "--format", "tsv", "touching", "Hủa Phăn", "--within", "Sơn La"],
    )
    assert r.exit_code == 0, r.output
    assert "Mường Lèo" in r.output and r.output.splitlines()[0].startswith("commune_code")
    r = runner.invoke(
        main, ["query", "--store", str(real_store_path), "nearest-gates", "--commune", "04045", "-k", "1"]
    )
    assert r.exit_code == 0 and json.loads(r.output)["features"][0]["id"] == "long-sap"
    r = runner.invoke(main, ["query", "--store", str(real_store_path), "touching", "Houaphanx"])
    assert r.exit_code == 2 and "Houaphan (LA-HO)" in r.output
    r = runner.invoke(main, ["query", "--store", str(real_store_path), "roadless", "--min-distance-m", "-1"])
    assert r.exit_code == 2 and "min_distance_m" in r.output


def test_profile_indicators_in_the_api(client):
    # the test app's indicator database is empty: computed indicators only
    p = _ok(client, "/queries/commune-profile", code="04045")["features"][0]["properties"]
    ind = p["indicators"]
    assert ind["density"]["year"] == 2025 and ind["density"]["unit"] == "người/km²"
    assert ind["density"]["value"] == pytest.approx(p["population"] / p["area_km2"])
    assert {v["source"] for v in ind.values()} == {"computed"} and "poverty_rate" not in ind
