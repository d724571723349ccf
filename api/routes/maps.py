"""/maps: the map picker, one choropleth page per indicator, its lookup, legend and GeoJSON download.

Every endpoint takes the same map parameters (MapParams) so the download and the lookup are
exactly the map the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from geoborder.maps import choropleth as C
from geoborder.maps import lookup as L
from web.assets import VENDOR_PREFIX
from web.maps import MapUrls, map_page, picker_context

from ..caching import cache_headers
from ..deps import LangDep, OptionalIndicatorsDep, StoreDep
from ..responses import JSONResponse

router = APIRouter(tags=["maps"])


class ClassMethod(StrEnum):
    quantiles = "quantiles"
    natural_breaks = "natural_breaks"
    equal_interval = "equal_interval"


class Basemap(StrEnum):
    none = "none"
    osm = "osm"


@dataclass
class MapParams:
    """The map a planner chose (everything but the indicator)."""

    vintage: Annotated[
        int,
        Query(
            description="Unit vintage: 2025 (units after the 1 July 2025 reform) or 2009 "
            "(pre-2025 units, 2009 census geography).",
            openapi_examples={"2025": {"value": 2025}, "2009": {"value": 2009}},
        ),
    ] = 2025
    area: Annotated[
        str,
        Query(
            description="`all` (whole country), `border` (the border provinces), "
            "`border_communes` (the border communes only) or a province code of "
            "the vintage (2025: GSO 2-digit, e.g. 14 = Sơn La; 2009: census "
            "3-digit, e.g. 303 = Sơn La).",
            openapi_examples={"Sơn La (2025)": {"value": "14"}, "border": {"value": "border"}, "all": {"value": "all"}},
        ),
    ] = "border"
    year: Annotated[
        int | None,
        Query(
            description="Year of the values; default: the year of the commune layer's "
            "attributes (computed indicators) or the latest imported year "
            "(reported indicators).",
            openapi_examples={"2025": {"value": 2025}},
        ),
    ] = None
    classes: Annotated[
        ClassMethod,
        Query(
            description="Classification (mapclassify): quantiles, natural_breaks (Fisher-Jenks) or equal_interval.",
            openapi_examples={"quantiles": {"value": "quantiles"}, "natural breaks": {"value": "natural_breaks"}},
        ),
    ] = ClassMethod.quantiles
    k: Annotated[
        int, Query(ge=C.K_MIN, le=C.K_MAX, description="Number of classes.", openapi_examples={"5": {"value": 5}})
    ] = C.K_DEFAULT

    def spec(self, indicator: str) -> C.MapSpec:
        return C.MapSpec(
            indicator=indicator,
            vintage=self.vintage,
            area=self.area,
            year=self.year,
            method=self.classes.value,
            k=self.k,
        ).check()

    def query(self, indicator: str | None = None, **extra) -> dict:
        q = {"indicator": indicator} if indicator else {}
        q.update({"vintage": self.vintage, "area": self.area, "classes": self.classes.value, "k": self.k})
        if self.year is not None:
            q["year"] = self.year
        q.update({k: v for k, v in extra.items() if v is not None})
        return q


MapParamsDep = Annotated[MapParams, Depends()]
IndicatorQuery = Annotated[
    str,
    Query(
        description="Indicator name (see /maps or /indicators).",
        openapi_examples={"density": {"value": "density"}, "population": {"value": "population"}},
    ),
]


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
            "k": p.k,
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
