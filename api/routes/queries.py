"""/queries/...: the spatial questions of geoborder.queries, as GeoJSON FeatureCollections, or
as a page (`f=html`, or a browser's Accept) with the answer on a map and in a table (web/answers.py).

The JSON is the library's held answer (geoborder.queries.answers: computed once per parameters and
data version, held as gzip): sent as it is to a client that takes gzip, inflated for one that does
not. The budget of that cache is the setting answer_cache_mb, applied by the router's dependency.

Parameters are small dataclass dependencies (api/query_params.py); the handlers only call the library. Range checks live in the library, so the
API, the CLI and Python callers get the same 400 messages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from geoborder import queries as q
from web.answers import AnswerUrls, answer_context, error_context
from web.assets import VENDOR_PREFIX

from .. import models
from ..caching import conditional, etag_of
from ..deps import LangDep, OptionalIndicatorsDep, StoreDep
from ..errors import html_error_route
from ..params import OgcFormat, negotiate
from ..query_params import GatesParams, ProfileParams, RoadlessParams, TouchingParams, ZoneParams
from ..responses import GeoJSONResponse
from .ogc_http import accepts_gzip
from .openapi_doc import ERR, HTML_CONTENT, Responses

_FORMATS = (OgcFormat.json, OgcFormat.html)


def _wants_html(request: Request) -> bool:
    """The request asks for the page: f=html, or no f and an Accept that puts text/html first."""
    f = request.query_params.get("f")
    if f in ("json", "html"):
        return f == "html"
    return negotiate(request, None, _FORMATS) == OgcFormat.html


def _page_lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "vi"


def _urls(request: Request, lang: str) -> AnswerUrls:
    root = request.scope.get("root_path", "")
    path = f"{root}{request.url.path}"
    params = dict(request.query_params)
    other = {**params, "lang": "vi" if lang == "en" else "en"}
    as_json = {k: v for k, v in params.items() if k not in ("f", "lang")}
    return AnswerUrls(
        json=f"{path}?{urlencode({**as_json, 'f': 'json'})}",
        maps=f"{root}/maps?{urlencode({'lang': lang})}",
        other_lang=f"{path}?{urlencode(other)}",
        vendor=f"{root}{VENDOR_PREFIX}",
        filename=request.url.path.split("/queries/", 1)[-1].replace("/", "-") + ".geojson",
    )


def _error_page(request: Request, status: int, detail: str) -> Response:
    lang = _page_lang(request)
    ctx = error_context(status, detail, lang=lang, urls=_urls(request, lang), names=tuple(request.query_params))
    return request.app.state.templates.TemplateResponse(request, "answer.html", ctx, status_code=status)


# a question asked for its page: a 4xx is an HTML page in the page's language with the way back;
# asked for JSON, the app's error map answers as before
AnswerRoute = html_error_route(lambda request, status, detail, exc: _error_page(request, status, detail), _wants_html)


def answer_budget(request: Request) -> None:
    """The answer cache's budget from the app's settings (answer_cache_mb)."""
    q.set_budget(int(request.app.state.settings.answer_cache_mb * 2**20))


router = APIRouter(
    prefix="/queries", tags=["spatial queries"], route_class=AnswerRoute, dependencies=[Depends(answer_budget)]
)


@dataclass
class Output:
    html: bool
    lang: str


async def output(
    request: Request,
    lang: LangDep,
    f: Annotated[
        Literal["json", "html"] | None,
        Query(
            description="Output format: json (the GeoJSON FeatureCollection) or html (a page: the answer on a "
            "map and in a sortable table, in the language of `lang`). Without it the Accept header decides: "
            "text/html first gives the page, anything else (*/*, application/json) the JSON.",
            openapi_examples={"json": {"value": "json"}, "html": {"value": "html"}},
        ),
    ] = None,
) -> Output:
    fmt = negotiate(request, OgcFormat(f) if f else None, _FORMATS)
    return Output(html=fmt == OgcFormat.html, lang=lang)


OutputDep = Annotated[Output, Depends(output)]


ERRORS: Responses = {
    400: {"description": "A parameter is malformed or out of range, or a code is not in the store", **ERR},
    404: {"description": "A name matches no unit; the message lists the closest names", **ERR},
}
FC: dict[str, Any] = {
    "description": "A GeoJSON FeatureCollection; the query as resolved is in `query`",
    "model": models.QueryFeatureCollection,
    "content": HTML_CONTENT,  # f=html / Accept: text/html: the answer on a map and in a table
}


def _geo(answer: q.Answer, request: Request, out: Output) -> Response:
    if answer.tag:
        # the answer reads more than the data version and the indicator revision of the app's ETag (a
        # saved area's communes, the records, the day): its own ETag says so, and answers If-None-Match
        return conditional(request, _etag(request, answer.tag), lambda headers: _respond(answer, request, out, headers))
    return _respond(answer, request, out, {})


def _etag(request: Request, tag: str) -> str:
    h = request.headers
    parts = (request.app.state.store.version, request.url.path, request.url.query, h.get("accept", ""))
    return etag_of("\x00".join((*parts, h.get("accept-language", ""), tag)).encode(), weak=True)


def _respond(answer: q.Answer, request: Request, out: Output, headers: dict[str, str]) -> Response:
    if not out.html:
        if accepts_gzip(request):
            return GeoJSONResponse(
                answer.gzipped, headers={**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
            )
        return GeoJSONResponse(answer.body(), headers={**headers, "Vary": "Accept-Encoding"})
    fc = answer.data()
    ctx = answer_context(request.app.state.store, fc, lang=out.lang, urls=_urls(request, out.lang))
    return request.app.state.templates.TemplateResponse(request, "answer.html", ctx, headers=headers)


@router.get(
    "/touching",
    summary="Communes touching a unit across the border or within Vietnam",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def touching(
    request: Request,
    store: StoreDep,
    p: Annotated[TouchingParams, Depends()],
    indicators: OptionalIndicatorsDep,
    out: OutputDep,
):
    """Communes that touch a partner unit (from the border segments) or a Vietnamese province /
    district (polygon adjacency with a tolerance measured from the data), with the shared boundary
    length in km per commune (`shared_length_km`)."""
    return _geo(
        q.touching_answer(
            store,
            p.unit,
            vintage=p.vintage,
            within=p.within,
            min_shared_km=p.min_shared_km,
            geometry=p.geometry,
            area=p.area,
            indicators_db=indicators,
        ),
        request,
        out,
    )


@router.get(
    "/roadless-villages",
    summary="Settlements far from any road",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def roadless(
    request: Request,
    store: StoreDep,
    p: Annotated[RoadlessParams, Depends()],
    indicators: OptionalIndicatorsDep,
    out: OutputDep,
):
    """Villages (`layer=villages`, the default) or towns farther than `min_distance_m` from every
    road, with the distance to and the name of the nearest road and the commune of each one;
    `caveats` names the road layer used, the precision of the positions and what was not judged."""
    return _geo(q.roadless_villages_answer(store, **asdict(p), indicators_db=indicators), request, out)


@router.get(
    "/roadless-villages/by-commune",
    summary="Roadless settlements counted per commune",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def roadless_by_commune(
    request: Request,
    store: StoreDep,
    p: Annotated[RoadlessParams, Depends()],
    indicators: OptionalIndicatorsDep,
    out: OutputDep,
):
    return _geo(q.roadless_by_commune_answer(store, **asdict(p), indicators_db=indicators), request, out)


@router.get(
    "/nearest-gates",
    summary="The k nearest border gates to a point, a commune or a settlement",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def nearest_gates(request: Request, store: StoreDep, p: Annotated[GatesParams, Depends()], out: OutputDep):
    """Give exactly one origin: lon and lat, commune, or geonameid. Only gates with a location
    count; `location_quality` says whether a source gives it (published) or the build derived it."""
    return _geo(q.nearest_gates_answer(store, **asdict(p)), request, out)


@router.get(
    "/border-zone",
    summary="Communes, settlements and roads within N km of the border",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def border_zone(
    request: Request,
    store: StoreDep,
    p: Annotated[ZoneParams, Depends()],
    indicators: OptionalIndicatorsDep,
    out: OutputDep,
):
    """Each feature has `feature_kind` (commune / settlement / village / road) and
    `distance_to_border_m`; roads also `length_in_zone_km`."""
    return _geo(q.border_zone_answer(store, **asdict(p), indicators_db=indicators), request, out)


@router.get(
    "/commune-profile",
    summary="One commune: figures, border, gates, markers, seat, settlements, indicators, lineage",
    response_class=GeoJSONResponse,
    responses={200: FC, **ERRORS},
)
def commune_profile(
    request: Request,
    store: StoreDep,
    p: Annotated[ProfileParams, Depends()],
    indicators: OptionalIndicatorsDep,
    out: OutputDep,
):
    """The first feature is the commune with every figure in its properties, including `indicators`
    (the latest value of each indicator with its year and unit: computed ones, and reported ones
    imported into the indicator database) and `lineage` (2025: the 2009 communes it came from, by
    name and by area overlap; 2009: the 2025 communes it went into), `villages` and
    `villages_within_km`. Seat, gates, markers, settlements and villages follow as point features
    with a `role`."""
    return _geo(
        q.commune_profile_answer(store, p.code, indicators_db=indicators, villages_within_km=p.villages_within_km),
        request,
        out,
    )
