"""Hillshade tiles on the real store (issue 14): relief over Hoàng Liên Sơn, nothing over the sea."""

from __future__ import annotations

import io

import morecantile
import numpy as np
import pytest
from PIL import Image

TMS = morecantile.tms.get("WebMercatorQuad")
FANSIPAN = (103.775, 22.303)


def _tile(client, lon: float, lat: float, z: int):
    t = TMS.tile(lon, lat, z)
    r = client.get(f"/tiles/hillshade/WebMercatorQuad/{z}/{t.x}/{t.y}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    assert img.shape == (256, 256, 4)
    return r, img


@pytest.mark.parametrize("z", [8, 9, 10])
def test_a_tile_over_hoang_lien_son_shows_relief(client, z):
    r, img = _tile(client, *FANSIPAN, z)
    shown = img[..., 3] > 0
    assert shown.mean() > 0.9  # land, all of it under the DEM
    grey = img[..., 0][shown].astype(float)
    assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all()  # grey
    assert set(np.unique(img[..., 3])) <= {0, 160}  # semi-transparent: under the choropleth
    assert grey.std() > 8 and len(np.unique(grey)) > 40  # not flat
    assert "ETOPO5" in r.headers["x-dem"] and "km" in r.headers["x-dem"]  # the DEM and its resolution
    assert r.headers.get("etag")


def test_the_delta_is_flatter_than_the_mountains(client):
    _, mountains = _tile(client, *FANSIPAN, 9)
    _, delta = _tile(client, 105.8, 10.0, 9)  # Mekong delta

    def g(img):
        return img[..., 0][img[..., 3] > 0].astype(float)

    assert g(delta).size and g(delta).std() < g(mountains).std() / 4


@pytest.mark.parametrize(
    "where",
    [
        (114.0, 12.0),  # South China Sea, outside the DEM
        (107.6, 19.6),  # Gulf of Tonkin: inside the DEM's grid, the sea floor
    ],
)
def test_a_tile_over_the_sea_is_transparent(client, where):
    _, img = _tile(client, *where, 9)
    assert (img[..., 3] == 0).all()


def test_a_hillshade_tile_is_cached_by_etag(client):
    t = TMS.tile(*FANSIPAN, 9)
    url = f"/tiles/hillshade/WebMercatorQuad/9/{t.x}/{t.y}.png"
    etag = client.get(url).headers["etag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/tiles/hillshade/WebMercatorQuad/9/9999/1.png").status_code == 404
