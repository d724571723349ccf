"""Villages in the spatial questions (issue 14), on the real store through the API: roadless
villages with their caveats, the border zone's villages (Sơn La), the nearest gates from a village
and the villages of a commune's profile. Marked `parity` by the conftest, so the same tests run
on PostGIS (GEOBORDER_TEST_STORE=postgis)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realpack


def _ok(client, url, **params):
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_roadless_villages_by_default_with_caveats(client, real_store):
    fc = _ok(client, "/queries/roadless-villages", min_distance_m=2000)
    assert fc["query"]["layer"] == "villages" and fc["numberMatched"] > 0
    villages = real_store.frame("villages")
    assert {f["id"] for f in fc["features"]} <= set(villages["geonameid"])
    assert all(f["properties"]["distance_to_road_m"] > 2000 for f in fc["features"])
    cav = fc["caveats"]
    roads = real_store.layer("roads")
    assert cav["road_layer"]["id"] == "roads"
    assert (
        cav["road_layer"]["source_file"] == roads.source_file and cav["road_layer"]["attribution"] == roads.attribution
    )
    assert cav["road_layer"]["scale"] == roads.source_vintage
    grid = int(villages["coord_minute_grid"].astype(bool).sum())
    assert cav["positions"]["considered"] == len(villages) and cav["positions"]["on_minute_grid"] == grid
    listed_grid = sum(1 for f in fc["features"] if f["properties"]["coord_minute_grid"])
    assert cav["positions"]["listed_on_minute_grid"] == listed_grid
    nj = cav["not_judged"]
    assert set(nj) >= {"no_road_within_cap", "without_position", "without_commune", "cap_m"}
    # towns are still asked for with layer=towns, and carry the same road layer
    towns = _ok(client, "/queries/roadless-villages", min_distance_m=2000, layer="towns")
    assert towns["query"]["layer"] == "towns" and {f["id"] for f in towns["features"]} <= set(
        real_store.frame("places")["geonameid"]
    )
    assert towns["caveats"]["road_layer"] == cav["road_layer"]
    assert towns["caveats"]["positions"]["on_minute_grid"] is None


def test_roadless_villages_by_commune(client):
    one = _ok(client, "/queries/roadless-villages", min_distance_m=5000, border_km=10)
    byc = _ok(client, "/queries/roadless-villages/by-commune", min_distance_m=5000, border_km=10)
    assert byc["caveats"] == one["caveats"]
    total = sum(f["properties"]["roadless_settlements"] for f in byc["features"])
    assert total + byc["roadless_outside_communes"] == one["numberMatched"]
    for f in byc["features"][:20]:
        p = f["properties"]
        mine = [v for v in one["features"] if v["properties"]["commune_code"] == p["commune_code"]]
        assert len(mine) == p["roadless_settlements"] <= p["settlements"]
        assert p["roadless_on_minute_grid"] == sum(1 for v in mine if v["properties"]["coord_minute_grid"])


def test_villages_refuse_other_countries(client):
    r = client.get("/queries/roadless-villages", params={"countries": "LA"})
    assert r.status_code == 400 and "layer=towns" in r.json()["description"]
    r = client.get("/queries/roadless-villages", params={"layer": "hamlets"})
    assert r.status_code == 400


def test_son_la_border_zone_lists_villages(client):
    fc = _ok(client, "/queries/border-zone", distance_km=10)
    son_la = [f["properties"] for f in fc["features"] if f["properties"].get("province_name") == "Sơn La"]
    kinds = {p["feature_kind"] for p in son_la}
    assert "village" in kinds
    villages = [p for p in son_la if p["feature_kind"] == "village"]
    assert all(p["distance_to_border_m"] <= 10_000 for p in villages)
    assert fc["counts"]["villages"] == sum(1 for f in fc["features"] if f["properties"]["feature_kind"] == "village")
    assert "villages" in fc["caveats"]
    only = _ok(client, "/queries/border-zone", distance_km=10, include="villages")
    in_all = [f["properties"]["geonameid"] for f in fc["features"] if f["properties"]["feature_kind"] == "village"]
    assert [f["properties"]["geonameid"] for f in only["features"]] == in_all


def test_nearest_gates_from_a_village(client, real_store):
    zone = _ok(client, "/queries/border-zone", distance_km=10, include="villages")
    p = next(f["properties"] for f in zone["features"] if f["properties"]["province_name"] == "Sơn La")
    fc = _ok(client, "/queries/nearest-gates", geonameid=p["geonameid"], k=2)
    origin = fc["query"]["origin"]
    assert origin["kind"] == "village" and origin["geonameid"] == p["geonameid"]
    assert origin["position_precision"] == p["position_precision"]
    assert (
        len(fc["features"]) == 2
        and fc["features"][0]["properties"]["distance_m"] <= (fc["features"][1]["properties"]["distance_m"])
    )


def test_profile_lists_the_communes_villages(client, real_store):
    fc = _ok(client, "/queries/commune-profile", code="04045", villages_within_km=5)
    p = fc["features"][0]["properties"]
    v = real_store.frame("villages")
    own = set(v.loc[v["commune_code_2025"] == "04045", "geonameid"])
    assert {x["geonameid"] for x in p["villages"]} == own and own
    w = p["villages_within_km"]
    assert w["distance_km"] == 5 and w["of"] == len(own)
    assert w["villages"] == sum(1 for x in p["villages"] if x["distance_to_border_m"] <= 5000)
    assert sum(1 for f in fc["features"] if f["properties"]["role"] == "village") == len(own)
    r = client.get("/queries/commune-profile", params={"code": "04045", "villages_within_km": 0})
    assert r.status_code == 400
