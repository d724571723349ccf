"""OGC API - Features on the real store through the app (TestClient): documents, items, CRS,
filtering, downloads, errors and HTTP caching. Expected values are computed from the store frames
with geopandas / shapely / pyproj directly, not copied from responses."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

pytestmark = pytest.mark.realpack

COMMUNES = "communes_2025"
ITEMS = f"/collections/{COMMUNES}/items"
SON_LA_BOX = (103.5, 21.0, 104.5, 22.0)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


@pytest.fixture(scope="module")
def communes(real_store):
    return real_store.frame(COMMUNES)


def _coords(geom_json) -> np.ndarray:
    return np.asarray(shapely.get_coordinates(shapely.geometry.shape(geom_json)))


# --------------------------------------------------------------------------- documents


def test_landing_links_to_the_ogc_resources(client):
    links = {l["rel"]: l for l in client.get("/", headers={"Accept": "application/json"}).json()["links"]}
    assert links["conformance"]["href"].endswith("/conformance")
    assert links["data"]["href"].endswith("/collections")
    assert links["service-desc"]["href"].endswith("/api")
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert client.get(links["service-doc"]["href"]).headers["content-type"].startswith("text/html")


def test_conformance_declares_core_crs_and_filtering(client):
    conf = client.get("/conformance").json()["conformsTo"]
    for c in (
        "ogcapi-features-1/1.0/conf/core",
        "ogcapi-features-1/1.0/conf/geojson",
        "ogcapi-features-1/1.0/conf/oas30",
        "ogcapi-features-2/1.0/conf/crs",
        "ogcapi-features-3/1.0/conf/filter",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/cql2-json",
    ):
        assert f"http://www.opengis.net/spec/{c}" in conf


def test_collections_one_per_layer_with_extent_and_crs(client, real_store):
    doc = client.get("/collections").json()
    got = {c["id"]: c for c in doc["collections"]}
    assert set(got) == {i.id for i in real_store.layers()}
    for info in real_store.layers():
        c = got[info.id]
        assert c["crs"][0] == CRS84 and EPSG.format(9206) in c["crs"] and EPSG.format(4326) in c["crs"]
        assert c["storageCrs"] == CRS84
        assert c["extent"]["spatial"]["bbox"][0] == pytest.approx(list(info.bbox))
        rels = {l["rel"] for l in c["links"]}
        assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables", "enclosure"} <= rels
    one = client.get(f"/collections/{COMMUNES}").json()
    assert {k: one[k] for k in ("id", "title", "description", "extent")} == {
        k: got[COMMUNES][k] for k in ("id", "title", "description", "extent")
    }


def test_queryables_are_the_layer_columns_with_json_types(client, communes):
    r = client.get(f"/collections/{COMMUNES}/queryables")
    assert r.headers["content-type"].startswith("application/schema+json")
    props = r.json()["properties"]
    assert set(props) == set(communes.columns)
    assert props["population"]["type"] == "integer"
    assert props["area_km2"]["type"] == "number"
    assert props["name"]["type"] == "string"
    assert props["geometry"]["format"] == "geometry-multipolygon"


def test_html_pages_for_browsers(client):
    for url in (
        "/collections",
        f"/collections/{COMMUNES}",
        f"{ITEMS}?limit=3",
        f"{ITEMS}/04045",
        "/conformance",
        f"/collections/{COMMUNES}/queryables",
    ):
        r = client.get(url, headers={"Accept": "text/html,application/xhtml+xml"})
        assert r.status_code == 200, url
        assert r.headers["content-type"].startswith("text/html"), url
    page = client.get(f"{ITEMS}?limit=3&f=html").text
    assert "next" in page.lower() and "commune_code" in page


# --------------------------------------------------------------------------- items and paging


@pytest.mark.parametrize("layer", ["communes_2025", "gates", "roads", "border_communes_2025"])
def test_number_matched_is_the_store_count(client, real_store, layer):
    doc = client.get(f"/collections/{layer}/items", params={"limit": 5}).json()
    assert doc["numberMatched"] == len(real_store.frame(layer))
    assert doc["numberReturned"] == len(doc["features"]) == min(5, len(real_store.frame(layer)))


def test_next_links_walk_every_feature_once(client, communes):
    url, seen = f"{ITEMS}?limit=1000", []
    while url:
        doc = client.get(url).json()
        seen += [f["id"] for f in doc["features"]]
        url = next((l["href"] for l in doc["links"] if l["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == len(communes)
    assert set(seen) == set(communes.commune_code)  # the key is the feature id


def test_prev_link_and_deep_offset(client, communes):
    offset = len(communes) - 7
    doc = client.get(ITEMS, params={"limit": 10, "offset": offset}).json()
    assert doc["numberReturned"] == 7
    rels = {l["rel"]: l["href"] for l in doc["links"]}
    assert "next" not in rels and f"offset={offset - 10}" in rels["prev"]
    assert [f["id"] for f in doc["features"]] == list(communes.commune_code[offset:])


def test_one_feature_matches_the_store_row(client, communes):
    row = communes.iloc[100]
    r = client.get(f"{ITEMS}/{row['commune_code']}")
    f = r.json()
    assert f["id"] == row["commune_code"] == f["properties"]["commune_code"]
    assert f["properties"]["name"] == row["name"]
    assert {l["rel"] for l in f["links"]} >= {"self", "collection", "alternate"}
    assert shapely.geometry.shape(f["geometry"]).equals_exact(row.geometry, 1e-6)
    # the layer key is the id: an fid is not one (issue 13: it could name another commune)
    assert client.get(f"{ITEMS}/{int(communes.index[100])}").status_code == 404


def test_bbox_selects_what_intersects(client, communes):
    doc = client.get(ITEMS, params={"bbox": ",".join(map(str, SON_LA_BOX)), "limit": 1000}).json()
    expected = communes[communes.geometry.intersects(shapely.box(*SON_LA_BOX))]
    assert doc["numberMatched"] == len(expected) > 0
    assert {f["id"] for f in doc["features"]} == set(expected.commune_code)


def test_simple_property_filter(client, communes):
    doc = client.get(ITEMS, params={"province_code": "14", "limit": 1000}).json()
    assert doc["numberMatched"] == int((communes.province_code == "14").sum()) > 0
    assert {f["properties"]["province_name"] for f in doc["features"]} == {"Sơn La"}


def test_datetime_is_accepted_and_every_feature_matches(client, communes):
    for dt in ("2025-07-01T00:00:00Z", "2020-01-01/..", "../2026-01-01", "2025-07-01"):
        doc = client.get(ITEMS, params={"datetime": dt, "limit": 1}).json()
        assert doc["numberMatched"] == len(communes), dt


# --------------------------------------------------------------------------- CRS


def test_epsg9206_round_trips_to_stored_wgs84_within_1m(client, communes):
    code = communes.commune_code[communes.province_code == "14"].iloc[0]  # a Sơn La commune
    r = client.get(f"{ITEMS}/{code}", params={"crs": EPSG.format(9206)})
    assert r.headers["content-crs"] == f"<{EPSG.format(9206)}>"
    xy = _coords(r.json()["geometry"])
    assert xy[:, 0].min() > 100_000 and xy[:, 1].min() > 2_000_000  # easting, northing metres
    back = Transformer.from_crs("EPSG:9206", "EPSG:4326", always_xy=True).transform(xy[:, 0], xy[:, 1])
    stored = np.asarray(shapely.get_coordinates(communes.geometry[communes.commune_code == code].iloc[0]))
    _, _, dist = Geod(ellps="WGS84").inv(stored[:, 0], stored[:, 1], back[0], back[1])
    assert len(stored) == len(xy) and np.max(dist) < 1.0


def test_epsg4326_is_latitude_first(client, communes):
    fid = communes.commune_code.iloc[0]
    lonlat = _coords(client.get(f"{ITEMS}/{fid}").json()["geometry"])
    latlon = _coords(client.get(f"{ITEMS}/{fid}", params={"crs": EPSG.format(4326)}).json()["geometry"])
    assert np.allclose(latlon[:, ::-1], lonlat, atol=1e-7)
    assert 8 < latlon[:, 0].min() < 24 and 102 < latlon[:, 1].min() < 110


def test_bbox_crs_epsg4326_takes_lat_lon(client):
    lon0, lat0, lon1, lat1 = SON_LA_BOX
    a = client.get(ITEMS, params={"bbox": f"{lon0},{lat0},{lon1},{lat1}", "limit": 1}).json()["numberMatched"]
    b = client.get(
        ITEMS, params={"bbox": f"{lat0},{lon0},{lat1},{lon1}", "bbox-crs": EPSG.format(4326), "limit": 1}
    ).json()["numberMatched"]
    assert a == b > 0


def test_bbox_crs_projected(client, communes):
    t = Transformer.from_crs("EPSG:4326", "EPSG:3405", always_xy=True)
    x0, y0 = t.transform(104.0, 21.3)
    x1, y1 = t.transform(104.2, 21.5)
    doc = client.get(ITEMS, params={"bbox": f"{x0},{y0},{x1},{y1}", "bbox-crs": "EPSG:3405", "limit": 1}).json()
    # the projected box is nearly, not exactly, the lon/lat box: compare with a slightly larger box
    inner = int(communes.geometry.intersects(shapely.box(104.01, 21.31, 104.19, 21.49)).sum())
    outer = int(communes.geometry.intersects(shapely.box(103.99, 21.29, 104.21, 21.51)).sum())
    assert inner <= doc["numberMatched"] <= outer


def test_items_in_web_mercator_and_vn2000(client):
    for code in (3857, 4756, 3406, 9210):
        r = client.get(ITEMS, params={"crs": EPSG.format(code), "limit": 2})
        assert r.status_code == 200 and r.headers["content-crs"] == f"<{EPSG.format(code)}>"


# --------------------------------------------------------------------------- CQL2 and sortby


def test_cql2_text_and_json_agree_with_pandas(client, communes):
    expected = int(((communes.population > 10000) & (communes.province_code == "14")).sum())
    text = client.get(ITEMS, params={"filter": "population > 10000 AND province_code = '14'", "limit": 1}).json()
    cql_json = {
        "op": "and",
        "args": [
            {"op": ">", "args": [{"property": "population"}, 10000]},
            {"op": "=", "args": [{"property": "province_code"}, "14"]},
        ],
    }
    js = client.get(ITEMS, params={"filter": json.dumps(cql_json), "filter-lang": "cql2-json", "limit": 1}).json()
    assert text["numberMatched"] == js["numberMatched"] == expected > 0


def test_cql2_like_in_between(client, communes):
    like = client.get(ITEMS, params={"filter": "name LIKE 'Mường%'", "limit": 1}).json()["numberMatched"]
    assert like == int(communes.name.str.startswith("Mường").sum()) > 0
    inn = client.get(ITEMS, params={"filter": "province_code IN ('14','15')", "limit": 1}).json()["numberMatched"]
    assert inn == int(communes.province_code.isin(["14", "15"]).sum())
    btw = client.get(ITEMS, params={"filter": "area_km2 BETWEEN 100 AND 200", "limit": 1}).json()["numberMatched"]
    assert btw == int(communes.area_km2.between(100, 200).sum())


def test_cql2_case_insensitive(client, communes):
    r = client.get(ITEMS, params={"filter": "CASEI(province_name) = casei('SƠN LA')", "limit": 1}).json()
    assert r["numberMatched"] == int((communes.province_name == "Sơn La").sum()) > 0


def test_cql2_spatial_predicates(client, communes):
    pt = shapely.Point(103.9, 21.3)
    doc = client.get(ITEMS, params={"filter": "S_INTERSECTS(geometry, POINT(103.9 21.3))"}).json()
    assert [f["id"] for f in doc["features"]] == list(communes.commune_code[communes.geometry.intersects(pt)])
    poly = "POLYGON((103.5 21, 104.5 21, 104.5 22, 103.5 22, 103.5 21))"
    within = client.get(ITEMS, params={"filter": f"S_WITHIN(geometry, {poly})", "limit": 1}).json()
    assert within["numberMatched"] == int(communes.geometry.within(shapely.box(*SON_LA_BOX)).sum()) > 0
    # filter-crs: the same point in EPSG:4326 (lat lon)
    flipped = client.get(
        ITEMS, params={"filter": "S_INTERSECTS(geometry, POINT(21.3 103.9))", "filter-crs": EPSG.format(4326)}
    ).json()
    assert [f["id"] for f in flipped["features"]] == [f["id"] for f in doc["features"]]


def test_sortby(client, communes):
    doc = client.get(ITEMS, params={"sortby": "-population", "limit": 5, "province_code": "14"}).json()
    pops = [f["properties"]["population"] for f in doc["features"]]
    expected = communes[communes.province_code == "14"].population.sort_values(ascending=False).head(5).tolist()
    assert pops == expected
    asc = client.get(ITEMS, params={"sortby": "name", "limit": 3}).json()
    names = [f["properties"]["name"] for f in asc["features"]]
    assert names == sorted(communes.name)[:3]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "params, status, words",
    [
        ({"bbox": "1,2,3"}, 400, "bbox"),
        ({"bbox": "a,b,c,d"}, 400, "bbox"),
        ({"crs": "EPSG:1234"}, 400, "crs"),
        ({"crs": "EPSG:4326x"}, 400, "crs"),
        ({"bbox": "1,2,3,4", "bbox-crs": "EPSG:99999"}, 400, "bbox-crs"),
        ({"filter": "population >> 3"}, 400, "filter"),
        ({"filter": "nosuchfield = 3"}, 400, "nosuchfield"),
        ({"filter": "{not json", "filter-lang": "cql2-json"}, 400, "filter"),
        ({"limit": "100000"}, 400, "limit"),
        ({"limit": "0"}, 400, "limit"),
        ({"limit": "unlimited"}, 400, "limit"),
        ({"offset": "-1"}, 400, "offset"),
        ({"ooga": "booga"}, 400, "ooga"),
        ({"datetime": "yesterday"}, 400, "datetime"),
        ({"sortby": "-nosuchfield"}, 400, "nosuchfield"),
        ({"population": "many"}, 400, "population"),
    ],
)
def test_bad_parameters_give_ogc_exceptions(client, params, status, words):
    r = client.get(ITEMS, params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    assert words in body["description"]


def test_unknown_collection_and_feature_are_404(client):
    r = client.get("/collections/nope/items")
    assert r.status_code == 404 and r.json()["code"] == "NotFound" and "nope" in r.json()["description"]
    r = client.get(f"{ITEMS}/987654321")
    assert r.status_code == 404 and "987654321" in r.json()["description"]
    assert client.get("/collections/nope").status_code == 404
    assert client.get("/collections/nope/queryables").status_code == 404


# --------------------------------------------------------------------------- HTTP


def test_etag_304_cache_control_and_cors(client):
    r = client.get(ITEMS, params={"limit": 2}, headers={"Origin": "http://example.org"})
    assert r.headers["etag"].startswith('W/"') and "max-age" in r.headers["cache-control"]
    assert r.headers["access-control-allow-origin"] in ("*", "http://example.org")
    again = client.get(ITEMS, params={"limit": 2}, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = client.get(ITEMS, params={"limit": 3}, headers={"If-None-Match": r.headers["etag"]})
    assert other.status_code == 200 and other.headers["etag"] != r.headers["etag"]


def test_gzip_when_asked(client):
    r = client.get(ITEMS, params={"limit": 50}, headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"
    assert r.json()["numberReturned"] == 50


# --------------------------------------------------------------------------- downloads


def test_geojson_download_is_the_whole_layer(client, communes):
    r = client.get(ITEMS, params={"f": "geojson"})
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="communes_2025.geojson"'
    doc = r.json()
    assert len(doc["features"]) == len(communes)
    assert {f["properties"]["commune_code"] for f in doc["features"]} == set(communes.commune_code)


def test_geojson_download_streams_in_bounded_chunks(real_store):
    from geoborder.features import CHUNK, LayerFeatures, iter_geojson

    lf = LayerFeatures(COMMUNES, real_store.frame(COMMUNES), "commune_code")
    chunks = list(iter_geojson(lf, np.arange(len(lf))))
    assert len(chunks) == 2 + -(-len(lf) // CHUNK)
    total = sum(map(len, chunks))
    assert max(map(len, chunks)) < total / 3  # no single giant string
    assert len(json.loads(b"".join(chunks))["features"]) == len(lf)


def test_gpkg_download_of_a_province_keeps_vietnamese_names(client, communes, tmp_path):
    import pyogrio

    r = client.get(ITEMS, params={"f": "gpkg", "province_code": "14", "crs": EPSG.format(9206)})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geopackage+sqlite3"
    assert r.headers["content-disposition"] == 'attachment; filename="communes_2025_epsg9206.gpkg"'
    path = tmp_path / "dl.gpkg"
    path.write_bytes(r.content)
    df = pyogrio.read_dataframe(path, layer=COMMUNES)
    expected = communes[communes.province_code == "14"]
    assert sorted(df["name"]) == sorted(expected["name"])
    assert df.crs.to_epsg() == 9206
    whole = client.get(ITEMS, params={"f": "gpkg"})
    assert whole.headers["content-disposition"] == 'attachment; filename="communes_2025.gpkg"'
    path.write_bytes(whole.content)
    assert pyogrio.read_info(path, layer=COMMUNES)["features"] == len(communes)


def test_csv_download_wkt_and_lonlat(client, real_store):
    r = client.get("/collections/places/items", params={"f": "csv"})
    assert r.headers["content-disposition"] == 'attachment; filename="places.csv"'
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    places = real_store.frame("places")
    assert len(rows) == len(places)
    first = rows[0]
    geom = places.geometry[places.geonameid == first["id"]].iloc[0]  # the id column: the layer key
    assert float(first["lon"]) == pytest.approx(geom.x, abs=1e-6)
    assert shapely.from_wkt(first["wkt"]).equals_exact(geom, 1e-6)
    polys = client.get(ITEMS, params={"f": "csv", "province_code": "14"}).content.decode("utf-8-sig")
    prow = list(csv.DictReader(io.StringIO(polys)))
    assert len(prow) == int((real_store.frame(COMMUNES).province_code == "14").sum())
    assert prow[0]["wkt"].startswith("MULTIPOLYGON")


# --------------------------------------------------------------------------- the hook for other modules


def test_with_columns_joins_extra_values_on_the_key(real_store):
    import pandas as pd

    from geoborder.features import ItemQuery, LayerFeatures, parse_filter

    lf = LayerFeatures(COMMUNES, real_store.frame(COMMUNES), "commune_code")
    codes = lf.frame.commune_code.iloc[:3].tolist()
    extra = pd.DataFrame({"commune_code": codes, "poverty_rate": [0.1, 0.2, 0.3]})
    joined = lf.with_columns(extra)
    assert "poverty_rate" in joined.property_names and "poverty_rate" not in lf.property_names
    feats = [json.loads(b) for b in joined.feature_bytes(np.arange(4))]
    assert [f["properties"]["poverty_rate"] for f in feats] == [0.1, 0.2, 0.3, None]
    sel = joined.select(ItemQuery(filter=parse_filter("poverty_rate > 0.15", None), limit=10))
    assert sel.matched == 2


def test_feature_cache_follows_the_store_version(real_store):
    """A store that switches data version (PostGIS publish / rollback) is served at its new version."""
    from geoborder.features import FeatureCache
    from geoborder.store.base import IN_MEMORY_ITEMS

    class Switching:
        def __init__(self):
            self.version, self.frames = "v1", {"v1": real_store.frame(COMMUNES)}
            v2 = real_store.frame(COMMUNES).copy()
            v2["population"] = v2["population"] + 1000
            self.frames["v2"] = v2

        def layer(self, layer_id):
            return real_store.layer(layer_id)

        def frame(self, layer_id):
            return self.frames[self.version]

        def items(self, layer_id):
            return self.frame(layer_id), IN_MEMORY_ITEMS

        def sidecar(self, suffix):
            return None  # no features file: the GeoJSON of each version is built in memory

    store = Switching()
    cache = FeatureCache(store)
    first = json.loads(cache.get(COMMUNES).feature_bytes(np.array([0]))[0])
    assert cache.get(COMMUNES) is cache.get(COMMUNES)
    store.version = "v2"
    second = json.loads(cache.get(COMMUNES).feature_bytes(np.array([0]))[0])
    assert second["properties"]["population"] == first["properties"]["population"] + 1000


def test_fast_path_answers_exactly_like_the_route(real_store, tmp_path, monkeypatch):
    """One feature by id without query parameters is answered by ogc_items.fast_item, ahead of
    the framework: it must give the same document and headers as the route (?f=json takes it)."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.routes import ogc_items
    from geoborder.indicators.open import open_indicators

    served = []
    real = ogc_items.fast_item

    def spy(scope, revision=""):
        response = real(scope, revision)
        if response is not None:
            served.append(scope["path"])
        return response

    monkeypatch.setattr(ogc_items, "fast_item", spy)
    app = create_app(store=real_store, indicators=open_indicators(tmp_path / "ind.sqlite"))
    # feature ids are the layer keys (issue 13): roads has an integer key
    keys = {
        "communes_2025": "commune_code",
        "gates": "gate_id",
        "border_segments_2009": "segment_id",
        "roads": "road_id",
    }
    cases = {lyr: [str(v) for v in real_store.frame(lyr)[k].iloc[[1, 2]]] for lyr, k in keys.items()}
    cases["communes_2025"].append("04045")
    with TestClient(app) as c:
        for layer, ids in cases.items():
            first = c.get(f"/collections/{layer}/items/{ids[0]}")  # first use: the route builds the layer
            assert first.status_code == 200
            c.get(f"/collections/{layer}/items?limit=1")
            for fid in ids:
                for headers in ({}, {"Accept-Encoding": "identity"}, {"Origin": "http://example.org"}):
                    fast = c.get(f"/collections/{layer}/items/{fid}", headers=headers)
                    route = c.get(f"/collections/{layer}/items/{fid}?f=json", headers=headers)
                    assert fast.status_code == route.status_code == 200
                    assert fast.json() == route.json(), (layer, fid)
                    for h in ("content-type", "content-crs", "cache-control", "access-control-allow-origin"):
                        assert fast.headers.get(h) == route.headers.get(h), (layer, fid, h)
        n_fast = len(served)
        assert n_fast == sum(3 * len(ids) for ids in cases.values())  # every plain request took it
        # what it does not answer falls through to the route, errors included
        assert c.get("/collections/communes_2025/items/9999999").status_code == 404
        assert (
            c.get("/collections/communes_2025/items/04045", headers={"Accept": "text/html"})
            .headers["content-type"]
            .startswith("text/html")
        )
        assert len(served) == n_fast
