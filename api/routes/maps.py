"""/maps: the map picker, one choropleth page per indicator, its lookup, legend and GeoJSON download.

Every endpoint takes the same map parameters (MapParams) so the download and the lookup are
exactly the map the page shows.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from geoborder.maps import choropleth as C
from geoborder.maps import lookup as L
from web.assets import VENDOR_PREFIX
from web.maps import MapUrls, map_page, picker_context

from ..caching import cache_headers
from ..deps import LangDep, OptionalIndicatorsDep, StoreDep
from ..map_params import Basemap, IndicatorQuery, MapParamsDep
from ..responses import JSONResponse

router = APIRouter(tags=["maps"])


def _url(request: Request, path: str, q: dict) -> str:
    root = request.scope.get("root_path", "")
    return f"{root}{path}?{urlencode(q)}"


@router.get(
    "/maps",
    name="map_picker",
    summary="Map picker: choose indicator, year, unit vintage and area",
    response_class=HTMLResponse,
)
def picker(request: Request, store: StoreDep, db: OptionalIndicatorsDep, lang: LangDep) -> HTMLResponse:
    ctx = picker_context(store, db, lang)
    return request.app.state.templates.TemplateResponse(
        request, "maps.html", {**ctx, "lang": lang, "version": store.version}
    )


@router.get(
    "/maps/lookup",
    name="map_lookup",
    summary="The commune at a point, with its value and class on the given map (popups, hovers)",
)
def lookup(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    indicator: IndicatorQuery,
    lang: LangDep,
    lon: Annotated[float, Query(description="Longitude (WGS 84)", openapi_examples={"Sơn La": {"value": 103.9}})],
    lat: Annotated[float, Query(description="Latitude (WGS 84)", openapi_examples={"Sơn La": {"value": 21.3}})],
) -> JSONResponse:
    ch = C.choropleth(store, db, p.spec(indicator))
    row = L.commune_at(store, p.vintage, lon, lat)
    body = {"lon": lon, "lat": lat, "commune": None if row is None else L.describe(store, ch, row, lang)}
    return JSONResponse(body, headers=cache_headers(request))


@router.get("/maps/legend", name="map_legend", summary="The legend and classes of a map (JSON)")
def legend(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    indicator: IndicatorQuery,
    lang: LangDep,
) -> JSONResponse:
    ch = C.choropleth(store, db, p.spec(indicator))
    return JSONResponse(
        {
            "indicator": indicator,
            "title": ch.info.title(lang),
            "unit": ch.info.unit(lang),
            "year": ch.year,
            "vintage": p.vintage,
            "area": p.area,
            "area_title": ch.area.title(lang),
            "classes": p.classes.value,
            "k": ch.k,  # the classes the map has (fewer than asked when values tie or intervals are empty)
            "k_requested": p.k,
            "communes": int(ch.area.mask.sum()),
            "bbox": list(ch.bounds),
            "legend": ch.legend(lang),
            "data_version": ch.version,
            "links": {
                "page": _url(request, f"/maps/{indicator}", p.query(lang=lang)),
                "tiles": _url(request, "/tiles/WebMercatorQuad/{z}/{x}/{y}.png", p.query(indicator)),
                "data": _url(request, "/maps/data.geojson", p.query(indicator, lang=lang)),
            },
        }
    )


@router.get(
    "/maps/data.geojson",
    name="map_data",
    summary="Download exactly what a map shows: the communes of the area with value, year and class",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def data(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    indicator: IndicatorQuery,
    lang: LangDep,
) -> Response:
    ch = C.choropleth(store, db, p.spec(indicator))
    name = f"geoborder_{indicator}_{p.vintage}_{p.area}.geojson"
    return Response(
        L.geojson(store, ch, lang),
        media_type="application/geo+json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **cache_headers(request)},
    )


@router.get(
    "/maps/{indicator}",
    name="map_page",
    summary="The choropleth map page of one indicator (HTML)",
    response_class=HTMLResponse,
)
def page(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    lang: LangDep,
    indicator: Annotated[str, Path(description="Indicator name", openapi_examples={"density": {"value": "density"}})],
    basemap: Annotated[
        Basemap,
        Query(description="Basemap: none (default, works offline) or osm (OpenStreetMap tiles, needs internet)."),
    ] = Basemap.none,
) -> HTMLResponse:
    ch = C.choropleth(store, db, p.spec(indicator))
    other = "en" if lang == "vi" else "vi"
    bm = basemap.value if basemap != Basemap.none else None
    root = request.scope.get("root_path", "")
    urls = MapUrls(
        tiles=_url(request, "/tiles/WebMercatorQuad/{z}/{x}/{y}.png", p.query(indicator)),
        lookup=_url(request, "/maps/lookup", p.query(indicator, lang=lang)),
        data=_url(request, "/maps/data.geojson", p.query(indicator, lang=lang)),
        picker=_url(request, "/maps", {"lang": lang}),
        other_lang=_url(request, f"/maps/{indicator}", p.query(lang=other, basemap=bm)),
        layer_tiles=f"{root}/collections/{{layer}}/map/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png",
        vendor=f"{root}{VENDOR_PREFIX}",
    )
    return HTMLResponse(map_page(store, ch, lang=lang, urls=urls, basemap=bm), headers=cache_headers(request))
