"""Issue 13, item 7: the features kept without a location (gates_unplaced, markers_unplaced) are
served as record collections with their reasons, and /layers counts them; the feature
collections that GDAL, QGIS and ogctests walk stay features with geometries."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realpack


@pytest.fixture(scope="module")
def unplaced(real_store):
    return {name: real_store.table(name) for name in ("gates_unplaced", "markers_unplaced")}


@pytest.mark.parametrize("table,layer", [("gates_unplaced", "gates"), ("markers_unplaced", "markers")])
def test_every_unplaced_record_is_served_with_its_reason(client, unplaced, table, layer):
    r = client.get(f"/collections/{table}/items")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    df = unplaced[table]
    assert fc["numberMatched"] == fc["numberReturned"] == len(df) > 0
    key = "gate_id" if layer == "gates" else "marker_id"
    assert sorted(f["id"] for f in fc["features"]) == sorted(df[key].astype(str))
    for f in fc["features"]:
        assert f["geometry"] is None
        assert f["properties"]["unplaced_reason"]
    one = fc["features"][0]
    r1 = client.get(f"/collections/{table}/items/{one['id']}")
    assert r1.status_code == 200 and r1.json()["properties"] == one["properties"]
    assert client.get(f"/collections/{table}/items/no-such-record").status_code == 404
    meta = client.get(f"/collections/{table}").json()
    assert meta["itemType"] == "record" and meta["id"] == table
    assert any(lk["rel"] == "related" and lk["href"].endswith(f"/collections/{layer}") for lk in meta["links"])


def test_the_international_gates_without_a_location_are_listed(client, unplaced):
    fc = client.get("/collections/gates_unplaced/items").json()
    intl = {f["properties"]["name_vi"] for f in fc["features"] if f["properties"]["gate_class"] == "international"}
    assert len(intl) == int((unplaced["gates_unplaced"].gate_class == "international").sum()) > 0


def test_layers_count_placed_and_unplaced(client, real_store, unplaced):
    layers = {d["id"]: d for d in client.get("/layers").json()["layers"]}
    for layer, table in (("gates", "gates_unplaced"), ("markers", "markers_unplaced")):
        d = layers[layer]
        n = len(unplaced[table])
        assert d["feature_count"] == real_store.layer(layer).feature_count
        assert d["unplaced"]["count"] == n and d["unplaced"]["table"] == table
        assert d["total_count"] == d["feature_count"] + n
        assert sum(d["unplaced"]["reasons"].values()) == n
        assert d["unplaced"]["href"].endswith(f"/collections/{table}/items")
        assert client.get(f"/layers/{layer}").json()["total_count"] == d["total_count"]
    assert layers["communes_2025"]["unplaced"] is None
    assert layers["communes_2025"]["total_count"] == layers["communes_2025"]["feature_count"]


def test_record_collections_are_linked_not_listed_among_feature_collections(client):
    doc = client.get("/collections").json()
    ids = {c["id"] for c in doc["collections"]}
    assert not ids & {"gates_unplaced", "markers_unplaced"}
    related = {lk["href"].rsplit("/", 1)[-1] for lk in doc["links"] if lk["rel"] == "related"}
    assert related == {"gates_unplaced", "markers_unplaced"}
    gates = client.get("/collections/gates").json()
    assert any(lk["href"].endswith("/collections/gates_unplaced") for lk in gates["links"])


def test_records_refuse_unknown_parameters_and_page(client):
    assert client.get("/collections/gates_unplaced/items?bogus=1").status_code == 400
    page = client.get("/collections/gates_unplaced/items?limit=5&offset=5").json()
    assert page["numberReturned"] == 5 and any(lk["rel"] == "next" for lk in page["links"])
    assert client.get("/collections/gates_unplaced/items?f=html").headers["content-type"].startswith("text/html")
