"""/maps/{indicator}/compare: two maps of one indicator side by side with linked pan and zoom
(two years, or the pre-2025 and the 2025 units). The page is web/map_compare.py; the route is
registered on the map pages' router (api/routes/maps.py), so a wrong choice is an HTML error page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse

from geoborder.core.errors import InvalidParameter
from geoborder.maps import change as X
from geoborder.maps import choropleth as C
from geoborder.maps.shared import SharedMap, SharedSpec
from web.assets import VENDOR_PREFIX
from web.map_compare import Side, compare_page, ordered, other_side

from ..caching import cache_headers
from ..deps import LangDep, OptionalIndicatorsDep, StoreDep
from ..map_params import MapParamsDep


def _url(request: Request, path: str, q: dict) -> str:
    return f"{request.scope.get('root_path', '')}{path}?{urlencode(q)}"


def _shared(spec: C.MapSpec, year: int, other: int) -> SharedSpec:
    return SharedSpec(spec.indicator, spec.vintage, spec.area, year, spec.method, spec.k, classes_with=other)


def _side(request: Request, ch: C.Choropleth, lang: str) -> Side:
    s = ch.spec
    q: dict = {"vintage": s.vintage, "area": s.area, "classes": s.method, "k": s.k, "year": ch.year}
    own = dict(q)  # the side's own page: the map of its year with its own classes
    if isinstance(ch, SharedMap):
        q["classes_with"] = ch.classes_with
    return Side(
        ch=ch,
        tiles=_url(request, "/tiles/WebMercatorQuad/{z}/{x}/{y}.png", {"indicator": s.indicator, **q}),
        lookup=_url(request, "/maps/lookup", {"indicator": s.indicator, **q, "lang": lang}),
        page=_url(request, f"/maps/{s.indicator}", {**own, "lang": lang}),
    )


def compare(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    lang: LangDep,
    indicator: Annotated[str, Path(description="Indicator name", openapi_examples={"density": {"value": "density"}})],
    with_year: Annotated[
        int | None,
        Query(
            description="Year of the map compared with (default: the latest earlier year with values "
            "on its units, or a later one; on the other units: their latest year)."
        ),
    ] = None,
    with_vintage: Annotated[
        int | None,
        Query(
            description="Unit vintage of the map compared with: 2025 or 2009 (default: the same "
            "units when the indicator has another year on them, else the other units)."
        ),
    ] = None,
    with_area: Annotated[
        str | None,
        Query(
            description="Area of the map compared with (default: the same area; a province: the "
            "province of the same name on the other units)."
        ),
    ] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="The view's centre (latitude).")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="The view's centre (longitude).")] = None,
    zoom: Annotated[int | None, Query(ge=0, le=18, description="The view's zoom.")] = None,
) -> HTMLResponse:
    """The map of the page's parameters and the map compared with, the older on the left (above
    on a phone); the view (lat, lon, zoom) is kept in the address."""
    if p.base_year is not None:
        raise InvalidParameter("from: the side-by-side page shows two maps of one year each; use with_year")
    first = C.choropleth(store, db, p.spec(indicator))
    spec = other_side(store, db, first.spec, first.year, with_vintage, with_area)
    if with_year is not None:
        spec = C.MapSpec(spec.indicator, spec.vintage, spec.area, with_year, spec.method, spec.k)
    try:
        second = C.choropleth(store, db, spec)
    except InvalidParameter as exc:  # the parameter of the second map is with_*
        msg = str(exc)
        name, _, rest = msg.partition(":")
        raise InvalidParameter(f"with_{name}:{rest}" if name in ("year", "area", "vintage") else msg) from exc
    if (second.spec.vintage, second.spec.area, second.year) == (first.spec.vintage, first.spec.area, first.year):
        raise InvalidParameter(
            f"with_year: both maps would be {indicator} {first.year} on the {first.spec.vintage} units; "
            "choose another year (with_year) or the other units (with_vintage)"
        )
    if (second.spec.vintage, second.spec.area) == (first.spec.vintage, first.spec.area):
        # two years of the same communes: one set of classes over both years' values
        first = X.map_of(store, db, _shared(first.spec, first.year, second.year))
        second = X.map_of(store, db, _shared(second.spec, second.year, first.year))
    left, right = ordered(_side(request, first, lang), _side(request, second, lang))
    other = "en" if lang == "vi" else "vi"
    q = p.query(change=False)
    html = compare_page(
        store,
        left,
        right,
        lang=lang,
        vendor=f"{request.scope.get('root_path', '')}{VENDOR_PREFIX}",
        layer_tiles=f"{request.scope.get('root_path', '')}/collections/{{layer}}/map/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}.png",
        other_lang=other,
        picker=_url(request, "/maps", {"indicator": indicator, **q, "lang": lang}),
    )
    return HTMLResponse(html, headers=cache_headers(request))
