"""Tiles on WebMercatorQuad (OGC API - Tiles style paths, XYZ order z/x/y as Leaflet asks them).

- /tiles/WebMercatorQuad/{z}/{x}/{y}.png?indicator=...: choropleth PNG tiles of a map
- /collections/{collectionId}/tiles/WebMercatorQuad/{z}/{x}/{y}: any layer as Mapbox Vector Tiles
- /collections/{collectionId}/map/tiles/WebMercatorQuad/{z}/{x}/{y}.png: a layer drawn in its style
- /tiles/hillshade/WebMercatorQuad/{z}/{x}/{y}.png: hillshade of the store's DEM (under the choropleth)

A tile the data does not reach is not an error: PNG tiles answer 200 with a transparent PNG
(so browsers log nothing), vector tiles 204 with an empty body. A zoom level that is not served is
a 400; an x/y outside the tile matrix of its zoom is a 404 (OGC API - Tiles: no such tile).
Every tile has an ETag (data version + parameters) and Cache-Control, and If-None-Match gives 304.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from geoborder.core import tilegrid as G
from geoborder.maps.change import map_of
from geoborder.tiles import hillshade as H
from geoborder.tiles import render as T

from ..caching import conditional, etag_of
from ..deps import OptionalIndicatorsDep, StoreDep
from ..map_params import IndicatorQuery, MapParamsDep

router = APIRouter(tags=["tiles"])

TmsPath = Annotated[
    Literal["WebMercatorQuad"],
    Path(
        description="Tile matrix set: WebMercatorQuad (the only one served).",
        openapi_examples={"WebMercatorQuad": {"value": "WebMercatorQuad"}},
    ),
]
Z = Annotated[int, Path(description="Zoom level (tile matrix)", openapi_examples={"Sơn La": {"value": 9}})]
X = Annotated[int, Path(description="Column", openapi_examples={"Sơn La": {"value": 403}})]
Y = Annotated[int, Path(description="Row", openapi_examples={"Sơn La": {"value": 224}})]
LayerPath = Annotated[
    str, Path(description="Layer id (see /layers)", openapi_examples={"communes": {"value": "communes_2025"}})
]


def _answer(
    request: Request,
    key: tuple,
    make: Callable[[], bytes | None],
    media_type: str,
    empty: Callable[[dict[str, str]], Response],
) -> Response:
    """The tile of `key` (rendered once by `make`, None = empty), its ETag from the key, or a 304."""

    def respond(headers: dict[str, str]) -> Response:
        body = T.cached(key, make)
        if body is None:
            return empty(headers)
        return Response(body, media_type=media_type, headers=headers)

    return conditional(request, etag_of(repr(key).encode()), respond)


def _empty_png(headers: dict[str, str]) -> Response:
    return Response(T.empty_png(), media_type=G.PNG, headers=headers)


def _no_content(headers: dict[str, str]) -> Response:
    return Response(status_code=204, headers=headers)


# one layer's tiles: the renderer, the media type, the answer when the tile is empty
_LAYER_TILES = {"mvt": (T.layer_mvt, G.MVT, _no_content), "map": (T.layer_png, G.PNG, _empty_png)}


def _layer_tile(request: Request, store, kind: str, layer_id: str, tms: str, z: int, x: int, y: int) -> Response:
    G.check_tms(tms)
    G.check_tile(z, x, y)
    store.layer(layer_id)  # NotFound for an unknown layer, before any rendering
    render, media_type, empty = _LAYER_TILES[kind]
    key = (kind, id(store), store.version, layer_id, z, x, y)
    return _answer(request, key, lambda: render(store, layer_id, z, x, y), media_type, empty)


@router.get(
    "/tiles/{tileMatrixSetId}/{z}/{x}/{y}.png",
    name="choropleth_tile",
    summary="A choropleth PNG tile of one indicator (the map pages' tile layer)",
    response_class=Response,
    responses={200: {"content": {G.PNG: {}}}},
)
def choropleth_tile(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    indicator: IndicatorQuery,
    tileMatrixSetId: TmsPath,
    z: Z,
    x: X,
    y: Y,
) -> Response:
    G.check_tms(tileMatrixSetId)
    G.check_tile(z, x, y)
    ch = map_of(store, db, p.spec(indicator))
    key = ("choropleth", id(store), ch.version, ch.spec, ch.classification, z, x, y)  # ETag follows the legend
    return _answer(request, key, lambda: T.choropleth_png(store, ch, z, x, y), G.PNG, _empty_png)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{z}/{x}/{y}",
    name="vector_tile",
    summary="A Mapbox Vector Tile of one layer, every attribute kept (204 when empty)",
    response_class=Response,
    responses={200: {"content": {G.MVT: {}}}, 204: {"description": "empty tile"}},
)
def vector_tile(
    request: Request, store: StoreDep, collectionId: LayerPath, tileMatrixSetId: TmsPath, z: Z, x: X, y: Y
) -> Response:
    return _layer_tile(request, store, "mvt", collectionId, tileMatrixSetId, z, x, y)


@router.get(
    "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{z}/{x}/{y}.png",
    name="map_tile",
    summary="A PNG map tile of one layer in its default style (roads, settlements, commune seats...)",
    response_class=Response,
    responses={200: {"content": {G.PNG: {}}}},
)
def map_tile(
    request: Request, store: StoreDep, collectionId: LayerPath, tileMatrixSetId: TmsPath, z: Z, x: X, y: Y
) -> Response:
    return _layer_tile(request, store, "map", collectionId, tileMatrixSetId, z, x, y)


@router.get(
    "/tiles/hillshade/{tileMatrixSetId}/{z}/{x}/{y}.png",
    name="hillshade_tile",
    summary="A hillshade PNG tile of the DEM the store was built from (grey, semi-transparent; the "
    "X-DEM header names the DEM's source and resolution)",
    response_class=Response,
    responses={200: {"content": {G.PNG: {}}}},
)
def hillshade_tile(request: Request, store: StoreDep, tileMatrixSetId: TmsPath, z: Z, x: X, y: Y) -> Response:
    G.check_tms(tileMatrixSetId)
    G.check_tile(z, x, y)
    dem = H.store_dem(store)
    key = ("hillshade", id(store), store.version, dem.key if dem else None, z, x, y)

    def respond(headers: dict[str, str]) -> Response:
        if dem is not None:  # which DEM the relief comes from: coarse ETOPO5 or finer
            headers = {**headers, "X-DEM": dem.label.replace("′", "'").encode("ascii", "ignore").decode()}
        body = T.cached(key, lambda: H.hillshade_png(store, z, x, y))
        return Response(body or T.empty_png(), media_type=G.PNG, headers=headers)

    return conditional(request, etag_of(repr(key).encode()), respond)
