"""/maps: the map picker, one choropleth page per indicator, its lookup, legend and GeoJSON download.

Every endpoint takes the same map parameters (MapParams) so the download and the lookup are
exactly the map the page shows.
"""

from __future__ import annotations

import contextlib
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from geoborder.core.errors import GeoborderError, InvalidParameter, NotFound
from geoborder.maps import change as X
from geoborder.maps import choropleth as C
from geoborder.maps import lookup as L
from geoborder.maps import table as T
from geoborder.maps.areas import file_part
from web.assets import VENDOR_PREFIX
from web.map_errors import PICKER_PARAMS, explain
from web.map_layers import LAYER_KEYS
from web.maps import MapUrls, indicator_choices, map_areas, map_page, picker_context

from ..caching import cache_headers
from ..deps import LangDep, OptionalIndicatorsDep, StoreDep
from ..errors import html_error_route
from ..map_params import Basemap, IndicatorQuery, MapParamsDep
from ..responses import JSONResponse
from . import map_compare

router = APIRouter(tags=["maps"])


def _page_lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "vi"


def error_page(request: Request, status: int, detail: str, *, not_found: bool = False) -> HTMLResponse:
    """A wrong or empty choice on a map page (HTML): what is wrong in the page's language, the
    way back to the picker with the choices kept, and the library's message as detail."""
    lang = _page_lang(request)
    q = {k: v for k, v in request.query_params.items() if k in PICKER_PARAMS}
    indicator = request.path_params.get("indicator")
    param = detail.split(":", 1)[0].strip() if ":" in detail else None
    value = indicator if param == "indicator" and indicator else request.query_params.get(param or "")
    if not_found and value is None:
        value = q.get("area")
    if param == "indicator" and indicator:
        with contextlib.suppress(GeoborderError):
            value = C.indicator(indicator).title(lang)
    message, hint = explain(detail, value, lang, not_found=not_found)
    if indicator:
        q["indicator"] = indicator
    other = {**dict(request.query_params.items()), "lang": "vi" if lang == "en" else "en"}
    root = request.scope.get("root_path", "")
    ctx = {
        "lang": lang,
        "status": status,
        "message": message,
        "hint": hint,
        "detail": detail,
        "picker_url": f"{root}/maps?{urlencode({**q, 'lang': lang})}",
        "default_url": f"{root}/maps/density?{urlencode({'lang': lang})}",
        "other_lang_url": f"{root}{request.url.path}?{urlencode(other)}",
    }
    return request.app.state.templates.TemplateResponse(request, "map_error.html", ctx, status_code=status)


def _page_error(request: Request, status: int, detail: str, exc: Exception) -> HTMLResponse:
    return error_page(request, status, detail, not_found=isinstance(exc, NotFound))


pages = APIRouter(tags=["maps"], route_class=html_error_route(_page_error))  # included at the end of `router`


def _url(request: Request, path: str, q: dict) -> str:
    root = request.scope.get("root_path", "")
    return f"{root}{path}?{urlencode(q)}"


@pages.get(
    "/maps",
    name="map_picker",
    summary="Map picker: choose indicator, year, unit vintage and area",
    response_class=HTMLResponse,
)
def picker(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    lang: LangDep,
    indicator: Annotated[
        str | None, Query(description="Preselected indicator (the picker takes a map page's parameters).")
    ] = None,
    vintage: Annotated[str | None, Query(description="Preselected unit vintage: 2025 or 2009.")] = None,
    area: Annotated[str | None, Query(description="Preselected area.")] = None,
    year: Annotated[str | None, Query(description="Preselected year.")] = None,
    classes: Annotated[str | None, Query(description="Preselected classification.")] = None,
    k: Annotated[str | None, Query(description="Preselected number of classes.")] = None,
    from_: Annotated[str | None, Query(alias="from", description="Preselected first year of a change map.")] = None,
    measure: Annotated[str | None, Query(description="Preselected measure of a change map.")] = None,
) -> HTMLResponse:
    """The picker opens on the choices it is given (a map page's "pick another map" link and an
    error page's way back pass theirs); a choice it does not offer falls back to the default.
    The areas offered include the saved named areas (issue 17): the picker is made on every
    request (no ETag, no held copy), so an area saved or deleted is there at once."""
    ctx = picker_context(store, db, lang)
    chosen = {"indicator": indicator, "vintage": vintage, "area": area, "year": year, "classes": classes, "k": k}
    chosen.update({name: v for name, v in (("from", from_), ("measure", measure)) if v is not None})
    return request.app.state.templates.TemplateResponse(
        request, "maps.html", {**ctx, "lang": lang, "version": store.version, "chosen": chosen}
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
    ch = X.map_of(store, db, p.spec(indicator))
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
    ch = X.map_of(store, db, p.spec(indicator))
    change = {}
    if isinstance(ch, X.ChangeMap):  # what changed, between which years, the symmetric class limits
        change = {
            "change": {
                "from": ch.base_year,
                "to": ch.year,
                "measure": ch.measure,
                "indicator_unit": ch.source_info.unit(lang) if ch.source_info else None,
                "breaks": list(ch.breaks),
                "zero_base": ch.zero_base,
                "note": ch.note(lang),
            }
        }
    return JSONResponse(
        {
            **change,
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


def _download(request: Request, store, db, p, indicator: str, lang: str, ext: str, media_type: str, encode) -> Response:
    """What a map shows, as a file: `encode(store, choropleth, lang)` -> bytes."""
    ch = X.map_of(store, db, p.spec(indicator))
    since = f"_{ch.base_year}-{ch.year}_{ch.measure}" if isinstance(ch, X.ChangeMap) else ""
    name = f"geoborder_{indicator}_{p.vintage}_{file_part(p.area)}{since}.{ext}"  # ASCII (a saved area's name)
    return Response(
        encode(store, ch, lang),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', **cache_headers(request)},
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
    return _download(request, store, db, p, indicator, lang, "geojson", "application/geo+json", L.geojson)


@router.get(
    "/maps/data.csv",
    name="map_data_csv",
    summary="Download what a map shows as CSV (UTF-8 with BOM: opens in Excel): the GeoJSON's rows without geometry",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def data_csv(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    indicator: IndicatorQuery,
    lang: LangDep,
) -> Response:
    return _download(request, store, db, p, indicator, lang, "csv", "text/csv; charset=utf-8", T.csv_bytes)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/maps/data.xlsx",
    name="map_data_xlsx",
    summary="Download what a map shows as an XLSX workbook: the GeoJSON's rows and a sheet about the map",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
def data_xlsx(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    indicator: IndicatorQuery,
    lang: LangDep,
) -> Response:
    return _download(request, store, db, p, indicator, lang, "xlsx", XLSX, T.xlsx_bytes)


@router.get(
    "/maps/table.json",
    name="map_table",
    summary="The page's table and commune search: each commune of the map with value, rank, class, "
    "border figures, a name key without diacritics and where to zoom",
)
def table(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    indicator: IndicatorQuery,
    lang: LangDep,
) -> JSONResponse:
    ch = X.map_of(store, db, p.spec(indicator))
    return JSONResponse(T.page_rows(store, ch, lang), headers=cache_headers(request))


def _since(p) -> dict:
    """A change map's from and measure, for the picker (it takes no classes_with)."""
    return {"from": p.base_year, "measure": p.measure.value} if p.base_year is not None else {}


@pages.get(
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
    lat: Annotated[
        float | None, Query(ge=-90, le=90, description="The view's centre (latitude); with lon and zoom.")
    ] = None,
    lon: Annotated[
        float | None, Query(ge=-180, le=180, description="The view's centre (longitude); with lat and zoom.")
    ] = None,
    zoom: Annotated[int | None, Query(ge=0, le=18, description="The view's zoom; with lat and lon.")] = None,
    layers: Annotated[
        str | None,
        Query(
            description="The layers shown, comma-separated: "
            + ", ".join(LAYER_KEYS)
            + " (default: all but terrain, places and seats; empty: none but what is always drawn)."
        ),
    ] = None,
) -> HTMLResponse:
    """The view (lat, lon, zoom) and the layers shown are in the page's address, which the page
    keeps up to date, so a copied link opens the same view."""
    shown = None
    if layers is not None:
        keys = [k.strip() for k in layers.split(",") if k.strip()]
        unknown = [k for k in keys if k not in LAYER_KEYS]
        if unknown:
            raise InvalidParameter(f"layers: unknown layer(s) {', '.join(unknown)}; use {', '.join(LAYER_KEYS)}")
        shown = frozenset(keys)
    ch = X.map_of(store, db, p.spec(indicator))
    other = "en" if lang == "vi" else "vi"
    bm = basemap.value if basemap != Basemap.none else None
    root = request.scope.get("root_path", "")
    urls = MapUrls(
        tiles=_url(request, "/tiles/WebMercatorQuad/{z}/{x}/{y}.png", p.query(indicator)),
        lookup=_url(request, "/maps/lookup", p.query(indicator, lang=lang)),
        data=_url(request, "/maps/data.geojson", p.query(indicator, lang=lang)),
        picker=_url(request, "/maps", p.query(indicator, change=False, lang=lang, **_since(p))),
        other_lang=_url(request, f"/maps/{indicator}", p.query(lang=other, basemap=bm)),
        layer_tiles=f"{root}/collections/{{layer}}/map/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png",
        vendor=f"{root}{VENDOR_PREFIX}",
        export=_url(request, f"/maps/{indicator}/export", p.query(lang=lang)),
        csv=_url(request, "/maps/data.csv", p.query(indicator, lang=lang)),
        xlsx=_url(request, "/maps/data.xlsx", p.query(indicator, lang=lang)),
        table=_url(request, "/maps/table.json", p.query(indicator, lang=lang)),
        item=f"{root}/collections/communes_{p.vintage}/items/{{code}}?f=json",
        villages=f"{root}/collections/villages/items?f=json&limit=2000",
        hillshade=f"{root}/tiles/hillshade/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png",
        compare=_url(request, f"/maps/{indicator}/compare", p.query(change=False, lang=lang)),
        page_base=f"{root}/maps/",
        query=tuple(p.query(lang=lang, basemap=bm).items()),
    )
    choices = indicator_choices(store, db, p.vintage, lang)
    areas = map_areas(store, db, p.vintage, lang)  # with the saved areas (issue 17)
    html = map_page(store, ch, lang=lang, urls=urls, basemap=bm, choices=choices, layers=shown, areas=areas)
    return HTMLResponse(html, headers=cache_headers(request))


pages.add_api_route(
    "/maps/{indicator}/compare",
    map_compare.compare,
    name="map_compare",
    summary="Two maps of one indicator side by side, linked pan and zoom: two years, or the pre-2025 "
    "and the 2025 units (HTML)",
    response_class=HTMLResponse,
    methods=["GET"],
)
router.include_router(pages)
