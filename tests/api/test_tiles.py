"""Tiles: choropleth PNG and vector (MVT) tiles decode to the right communes; empty tiles; bad
parameters; caching by data version."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from rasterio.io import MemoryFile
from shapely.ops import polylabel

from geoborder.core import tilegrid as G
from geoborder.core.crs import transformer
from geoborder.maps import choropleth as C
from geoborder.tiles import render as T

SON_LA = "14"
# A zoom-9 tile over central Sơn La (Sơn La town, Mai Sơn, Thuận Châu)
Z, X, Y = 9, 403, 224


def _png_rgba(body: bytes) -> np.ndarray:
    with MemoryFile(body) as mem, mem.open() as ds:
        assert ds.count == 4 and ds.width == ds.height == 256
        return np.moveaxis(ds.read(), 0, -1)


def _hex(c: str) -> tuple[int, int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16), 255


def _pixel(lon: float, lat: float, z: int, x: int, y: int) -> tuple[int, int]:
    mx, my = transformer("EPSG:4326", "EPSG:3857").transform(lon, lat)
    left, bottom, right, top = G.tile_bounds(z, x, y)
    return int((top - my) / (top - bottom) * 256), int((mx - left) / (right - left) * 256)


def _deep_point(geom) -> tuple[shapely.Point, float]:
    """The pole of inaccessibility of the largest part, and its distance to the edge (degrees)."""
    parts = list(getattr(geom, "geoms", [geom]))
    poly = max(parts, key=lambda p: p.area)
    p = polylabel(poly, tolerance=1e-4)
    return p, poly.exterior.distance(p) if not poly.interiors else poly.boundary.distance(p)


def test_son_la_png_tile_pixels_are_the_communes_class_colours(client, real_store):
    r = client.get(
        f"/tiles/WebMercatorQuad/{Z}/{X}/{Y}.png?indicator=density&vintage=2025&area={SON_LA}"
        "&classes=natural_breaks&k=5"
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    rgba = _png_rgba(r.content)
    ch = C.choropleth(real_store, None, C.MapSpec("density", 2025, SON_LA, None, "natural_breaks", 5))
    communes = real_store.frame("communes_2025")
    w, s, e, n = G.tile_lonlat_bounds(Z, X, Y)
    px_deg = (e - w) / 256
    checked = []
    for i in np.flatnonzero(ch.area.mask):
        p, depth = _deep_point(communes.geometry.iloc[i])
        if not (w < p.x < e and s < p.y < n) or depth < 4 * px_deg:
            continue
        row, col = _pixel(p.x, p.y, Z, X, Y)
        assert tuple(rgba[row, col]) == _hex(ch.color_of(int(ch.classes[i]))), communes["name"].iloc[i]
        checked.append(communes["commune_code"].iloc[i])
    assert len(checked) >= 10
    # several classes on this tile, and outside Sơn La (other provinces, Laos) transparent
    colours = {tuple(c) for c in rgba.reshape(-1, 4) if c[3] == 255}
    assert len({_hex(c) for c in ch.classification.colors} & colours) >= 3
    others = communes[(communes["province_code"] != SON_LA)]
    q = others[others.intersects(shapely.box(w, s, e, n))]
    for geom in q.geometry:
        p, depth = _deep_point(geom)
        if w < p.x < e and s < p.y < n and depth > 4 * px_deg:
            row, col = _pixel(p.x, p.y, Z, X, Y)
            assert rgba[row, col, 3] == 0


def test_son_la_vector_tile_has_exactly_the_intersecting_communes(client, real_store):
    r = client.get(f"/collections/communes_2025/tiles/WebMercatorQuad/{Z}/{X}/{Y}")
    assert r.status_code == 200 and r.headers["content-type"] == G.MVT
    tile = mapbox_vector_tile.decode(r.content)
    feats = tile["communes_2025"]["features"]
    got = {f["properties"]["commune_code"] for f in feats}
    communes = real_store.frame("communes_2025")
    want = set(communes[communes.intersects(shapely.box(*G.tile_lonlat_bounds(Z, X, Y)))]["commune_code"])
    assert got == want and len(got) > 20
    one = next(f for f in feats if f["properties"]["province_code"] == SON_LA)
    assert one["properties"]["province_name"] == "Sơn La" and one["properties"]["population"] > 0
    assert one["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_vector_tiles_of_points_and_lines(client, real_store):
    # the border line and the gates near Sơn La at zoom 7
    z, x, y = 7, 100, 56
    lines = mapbox_vector_tile.decode(
        client.get(f"/collections/border_lines/tiles/WebMercatorQuad/{z}/{x}/{y}").content
    )
    assert {f["properties"]["pair"] for f in lines["border_lines"]["features"]} == {"VNM-LAO"}
    gates = client.get(f"/collections/gates/tiles/WebMercatorQuad/{z}/{x}/{y}")
    g = real_store.frame("gates")
    g = g[g.geometry.notna()]
    want = set(g[g.intersects(shapely.box(*G.tile_lonlat_bounds(z, x, y)))]["gate_id"])
    got = (
        {f["properties"]["gate_id"] for f in mapbox_vector_tile.decode(gates.content)["gates"]["features"]}
        if want
        else set()
    )
    assert got == want


def test_out_of_area_tiles_are_empty_not_errors(client):
    far = (9, 0, 0)  # the Arctic, off Alaska
    r = client.get("/tiles/WebMercatorQuad/{}/{}/{}.png?indicator=density&area=14".format(*far))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content == T.empty_png() and (_png_rgba(r.content)[..., 3] == 0).all()
    # inside Vietnam but outside the chosen province: empty too (Hà Nội tile on a Sơn La map)
    hn = G.tms().tile(105.85, 21.03, 11)
    r = client.get(f"/tiles/WebMercatorQuad/11/{hn.x}/{hn.y}.png?indicator=density&area=14")
    assert r.status_code == 200 and r.content == T.empty_png()
    r = client.get("/collections/communes_2025/tiles/WebMercatorQuad/{}/{}/{}".format(*far))
    assert r.status_code == 204 and r.content == b"" and r.headers["etag"]
    r = client.get("/collections/roads/map/tiles/WebMercatorQuad/{}/{}/{}.png".format(*far))
    assert r.status_code == 200 and r.content == T.empty_png()


@pytest.mark.parametrize(
    "url, word",
    [
        ("/tiles/WebMercatorQuad/19/0/0.png?indicator=density", "zoom"),
        ("/tiles/WebMercatorQuad/3/a/0.png?indicator=density", "x"),
        ("/tiles/WorldCRS84Quad/3/0/0.png?indicator=density", "WebMercatorQuad"),
        ("/tiles/WebMercatorQuad/3/6/3.png?indicator=happiness", "happiness"),
        ("/tiles/WebMercatorQuad/3/6/3.png", "indicator"),
        ("/tiles/WebMercatorQuad/3/6/3.png?indicator=density&year=2019", "2019"),
        ("/tiles/WebMercatorQuad/3/6/3.png?indicator=population&vintage=2009&year=2025", "2009"),
        ("/tiles/WebMercatorQuad/3/6/3.png?indicator=density&vintage=2015", "vintage"),
        ("/tiles/WebMercatorQuad/3/6/3.png?indicator=density&k=1", "k"),
        ("/tiles/WebMercatorQuad/3/6/3.png?indicator=density&classes=jenks", "classes"),
        ("/tiles/WebMercatorQuad/3/6/3.png?indicator=density&area=99", "area"),
        ("/collections/communes_2025/tiles/WebMercatorQuad/25/0/0", "zoom"),
    ],
)
def test_bad_tile_parameters_are_400_with_a_message(client, url, word):
    r = client.get(url)
    assert r.status_code == 400, (url, r.status_code, r.text)
    assert word in r.json()["description"]


@pytest.mark.parametrize(
    "url, word",
    [
        ("/tiles/WebMercatorQuad/3/8/0.png?indicator=density", "3/8/0"),
        ("/tiles/WebMercatorQuad/3/0/-1.png?indicator=density", "3/0/-1"),
        ("/collections/roads/map/tiles/WebMercatorQuad/2/4/0.png", "2/4/0"),
        ("/collections/roads/tiles/WebMercatorQuad/9/403/512", "9/403/512"),
    ],
)
def test_a_tile_outside_the_matrix_is_404(client, url, word):
    """OGC API - Tiles: a tile outside the matrix limits of its zoom does not exist (404)."""
    r = client.get(url)
    assert r.status_code == 404, (url, r.status_code, r.text)
    assert word in r.json()["description"]


def test_unknown_layer_is_404(client):
    r = client.get("/collections/communes_2030/tiles/WebMercatorQuad/9/403/224")
    assert r.status_code == 404 and "communes_2030" in r.json()["description"]


def test_tiles_are_cached_with_etag_and_cache_control(client):
    url = f"/tiles/WebMercatorQuad/{Z}/{X}/{Y}.png?indicator=density&area={SON_LA}"
    a = client.get(url)
    etag = a.headers["etag"]
    assert "max-age" in a.headers["cache-control"]
    b = client.get(url, headers={"If-None-Match": etag})
    assert b.status_code == 304 and b.content == b""
    other = client.get(url + "&classes=equal_interval")
    assert other.headers["etag"] != etag and other.content != a.content
    mvt = client.get(f"/collections/communes_2025/tiles/WebMercatorQuad/{Z}/{X}/{Y}")
    assert (
        client.get(
            f"/collections/communes_2025/tiles/WebMercatorQuad/{Z}/{X}/{Y}",
            headers={"If-None-Match": mvt.headers["etag"]},
        ).status_code
        == 304
    )


def test_tile_cache_key_is_the_data_version():
    """Two stores with the same data but another version give other ETags (a new build is not
    served from the old cache)."""
    import geopandas as gpd
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.store.memory import MemoryStore

    communes = gpd.GeoDataFrame(
        {
            "commune_code": ["04240"],
            "name": ["Mường Lèo"],
            "province_code": ["14"],
            "province_name": ["Sơn La"],
            "area_km2": [1.0],
            "population": [10],
        },
        geometry=[shapely.box(103.5, 20.5, 103.6, 20.6)],
        crs=4326,
    )
    tags = []
    for version in ("v1", "v2"):
        with TestClient(create_app(store=MemoryStore({"communes_2025": communes}, version=version))) as c:
            t = G.tms().tile(103.55, 20.55, 9)
            r = c.get(f"/collections/communes_2025/tiles/WebMercatorQuad/9/{t.x}/{t.y}")
            assert r.status_code == 200
            tags.append(r.headers["etag"])
    assert tags[0] != tags[1]
