"""Query parameters of the OGC API - Features endpoints, as small dataclass dependencies.

The dependencies are `async def` only because they do no I/O and little work: FastAPI would run a
plain `def` in the thread pool, a hop that costs more than the parsing itself.

Each dependency parses and validates its parameters into library types (geoborder.features,
geoborder.core.crs); a bad value raises InvalidParameter, which api/errors.py turns into a 400 with an
OGC exception body.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin

from fastapi import Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant

from geoborder.core.crs import SupportedCrs, crs84, resolve_crs
from geoborder.core.errors import InvalidParameter
from geoborder.features import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    FeatureCache,
    ItemQuery,
    LayerFeatures,
    parse_bbox,
    parse_datetime,
    parse_filter,
    parse_sortby,
)

from .deps import LangDep, get_store

# --------------------------------------------------------------------------- output format


class OgcFormat(StrEnum):
    json = "json"
    html = "html"
    geojson = "geojson"
    gpkg = "gpkg"
    csv = "csv"


_ACCEPT = {
    "text/html": OgcFormat.html,
    "application/xhtml+xml": OgcFormat.html,
    "application/geo+json": OgcFormat.json,
    "application/json": OgcFormat.json,
    "application/schema+json": OgcFormat.json,
    "application/vnd.oai.openapi+json": OgcFormat.json,
    "application/geopackage+sqlite3": OgcFormat.gpkg,
    "text/csv": OgcFormat.csv,
}


def negotiate(request: Request, f: OgcFormat | None, allowed: tuple[OgcFormat, ...]) -> OgcFormat:
    """`f=` wins; else the best Accept media type the endpoint serves; else JSON."""
    if f is not None:
        if f not in allowed:
            raise InvalidParameter(
                f"f: {f.value!r} is not offered here; use one of: {', '.join(a.value for a in allowed)}"
            )
        return f
    return _by_accept(request.headers.get("accept", ""), allowed)


@functools.lru_cache(maxsize=256)
def _by_accept(accept: str, allowed: tuple[OgcFormat, ...]) -> OgcFormat:
    """The best media type of an Accept header among `allowed` (else JSON); a client sends the same
    header on every request, so it is read once."""
    best, best_q = None, 0.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        fmt = _ACCEPT.get(media.strip().lower())
        if fmt in allowed and q > best_q:
            best, best_q = fmt, q
    return best or OgcFormat.json


F_DESCRIPTION = (
    "Output format: json (GeoJSON / JSON), html; on items also geojson, gpkg, csv = download of "
    "every matching feature as one file. Without it the Accept header decides."
)
FQuery = Annotated[
    OgcFormat | None,
    Query(description=F_DESCRIPTION, openapi_examples={"json": {"value": "json"}, "html": {"value": "html"}}),
]


def check_known(request: Request, allowed: set[str]) -> None:
    """400 for a query parameter the endpoint does not define (OGC /req/core/query-param-unknown)."""
    unknown = [k for k in request.query_params if k not in allowed]
    if unknown:
        raise InvalidParameter(
            f"unknown query parameter(s): {', '.join(sorted(set(unknown)))}; "
            f"this endpoint accepts: {', '.join(sorted(allowed))}"
        )


def _is_sequence(annotation) -> bool:
    """list[str], list[str] | None, Annotated[...] of those: a parameter that may repeat."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin in (list, tuple, set, frozenset):
        return True
    if origin in (Union, UnionType):
        return any(_is_sequence(a) for a in get_args(annotation) if a is not type(None))
    return False


@dataclass(frozen=True)
class DeclaredQuery:
    """The query parameters a route declares, through its dependencies, by alias."""

    names: frozenset[str]
    repeatable: frozenset[str]
    open: bool  # the route takes more names than it declares (items: any property) and checks them itself


def declared_query(dependant: Dependant) -> DeclaredQuery:
    names: set[str] = set()
    repeatable: set[str] = set()
    open_ = False
    stack = [dependant]
    while stack:
        d = stack.pop()
        open_ = open_ or getattr(d.call, "open_query", False)
        for field in d.query_params:
            names.add(field.alias)
            if _is_sequence(field.field_info.annotation):
                repeatable.add(field.alias)
        stack.extend(d.dependencies)
    return DeclaredQuery(frozenset(names), frozenset(repeatable), open_)


_DECLARED: dict[int, DeclaredQuery] = {}


async def check_query(request: Request) -> None:
    """An app-wide dependency (create_app): 400 for a query parameter the matched route does not
    declare (OGC /req/core/query-param-unknown), and for a parameter given twice that takes one
    value (`crs=3857&crs=4326` would silently take the last). Routes marked `open_query` (items,
    whose property names are parameters too) check unknown names themselves."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    declared = _DECLARED.get(id(route))
    if declared is None:
        declared = _DECLARED[id(route)] = declared_query(dependant)
    seen: set[str] = set()
    repeated: list[str] = []
    unknown: list[str] = []
    for key, _ in request.query_params.multi_items():
        if key in seen:
            if key not in repeated and key not in declared.repeatable:
                repeated.append(key)
            continue
        seen.add(key)
        if key not in declared.names:
            unknown.append(key)
    accepts = ", ".join(sorted(declared.names)) or "no query parameters"
    if unknown and not declared.open:
        raise InvalidParameter(f"unknown query parameter(s): {', '.join(unknown)}; this endpoint accepts: {accepts}")
    if repeated:
        raise InvalidParameter(f"query parameter(s) given more than once: {', '.join(repeated)}; give each one once")


@dataclass
class SimpleParams:
    """`f` and `lang` only (landing-like documents)."""

    format: OgcFormat
    lang: str


DOCUMENT_FORMATS = (OgcFormat.json, OgcFormat.html)


async def document_format(request: Request, f: FQuery = None) -> OgcFormat:
    """JSON or HTML, for a document offered in both."""
    return negotiate(request, f, DOCUMENT_FORMATS)


DocFormat = Annotated[OgcFormat, Depends(document_format)]


async def json_format(
    request: Request,
    f: Annotated[Literal["json"] | None, Query(description="Output format: this document is JSON only.")] = None,
) -> OgcFormat:
    """`f=json` accepted (and anything else refused) on a document served as JSON only."""
    return negotiate(request, OgcFormat(f) if f else None, (OgcFormat.json,))


JsonFormat = Annotated[OgcFormat, Depends(json_format)]


async def doc_params(request: Request, *, f: FQuery = None, lang: LangDep) -> SimpleParams:
    check_known(request, {"f", "lang", "year"})
    return SimpleParams(format=negotiate(request, f, DOCUMENT_FORMATS), lang=lang)


DocParams = Annotated[SimpleParams, Depends(doc_params)]


# --------------------------------------------------------------------------- the collection


def get_feature_cache(request: Request) -> FeatureCache:
    cache = getattr(request.app.state, "ogc_features", None)
    store = get_store(request)
    if cache is None or cache.store is not store:
        cache = FeatureCache(store)
        request.app.state.ogc_features = cache
    return cache


async def collection(
    request: Request,
    collection_id: Annotated[
        str,
        Path(
            alias="collectionId",
            description="Collection (layer) id",
            openapi_examples={"communes": {"value": "communes_2025"}},
        ),
    ],
    year: Annotated[
        int | None,
        Query(
            ge=1900,
            le=2100,
            description=(
                "Commune layers: the year of the reported indicator values joined onto the features "
                "(default: each commune's latest, with its year in `<indicator>_year`)."
            ),
            openapi_examples={"y2024": {"value": 2024}},
        ),
    ] = None,
) -> LayerFeatures:
    # the conditional-GET middleware has read the indicator revision for the ETag: reuse it
    revision = request.scope.get("state", {}).get("indicator_revision")
    return get_feature_cache(request).get(
        collection_id, getattr(request.app.state, "indicators", None), year, revision=revision
    )


CollectionDep = Annotated[LayerFeatures, Depends(collection)]


# --------------------------------------------------------------------------- items

CRS_DESCRIPTION = "CRS of the response geometries (OGC API - Features Part 2); default CRS84 (lon/lat)."


@dataclass
class ItemsParams:
    """Everything /collections/{id}/items reads from the query string."""

    query: ItemQuery
    crs: SupportedCrs
    format: OgcFormat
    lang: str
    limit_given: bool


ITEMS_PARAMS = {
    "f",
    "lang",
    "year",
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
}


Bbox = Annotated[
    str | None,
    Query(
        description="Only features whose geometry intersects this box: "
        "minx,miny,maxx,maxy (or 6 numbers with heights), in `bbox-crs`.",
        openapi_examples={"son_la": {"value": "103.5,21,104.5,22"}},
    ),
]
BboxCrs = Annotated[
    str | None,
    Query(
        alias="bbox-crs",
        description="CRS of `bbox` (default CRS84).",
        openapi_examples={"epsg4326": {"value": "http://www.opengis.net/def/crs/EPSG/0/4326"}},
    ),
]
Crs = Annotated[
    str | None,
    Query(
        description=CRS_DESCRIPTION,
        openapi_examples={"tm3_104": {"value": "http://www.opengis.net/def/crs/EPSG/0/9206"}},
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Features per page (1 to {MAX_LIMIT}).")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Features to skip (paging; `next` links carry it).")]
Datetime = Annotated[
    str | None,
    Query(
        description="RFC 3339 instant or interval (a/b, '..' open). Features without a temporal property always match.",
        openapi_examples={"interval": {"value": "2025-01-01T00:00:00Z/.."}},
    ),
]
Filter = Annotated[
    str | None,
    Query(
        description="CQL2 filter (OGC API - Features Part 3), in `filter-lang`.",
        openapi_examples={
            "population": {"value": "population > 10000"},
            "spatial": {"value": "S_INTERSECTS(geometry, POINT(103.9 21.3))"},
        },
    ),
]
FilterLang = Annotated[
    str | None,
    Query(alias="filter-lang", pattern="^(cql2-text|cql2-json)$", description="cql2-text (default) or cql2-json."),
]
FilterCrs = Annotated[
    str | None, Query(alias="filter-crs", description="CRS of geometries in `filter` (default CRS84).")
]
Sortby = Annotated[
    str | None,
    Query(
        description="Comma-separated properties, '-' for descending.",
        openapi_examples={"population": {"value": "-population"}},
    ),
]


def _crs_or_crs84(uri: str | None, parameter: str) -> SupportedCrs:
    return resolve_crs(uri, parameter=parameter) if uri else crs84()


async def items_params(
    request: Request,
    lf: CollectionDep,
    *,
    f: FQuery = None,
    lang: LangDep,
    bbox: Bbox = None,
    bbox_crs: BboxCrs = None,
    crs: Crs = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    datetime: Datetime = None,
    filter: Filter = None,
    filter_lang: FilterLang = None,
    filter_crs: FilterCrs = None,
    sortby: Sortby = None,
) -> ItemsParams:
    check_known(request, ITEMS_PARAMS | set(lf.property_names))
    props = {k: v for k, v in request.query_params.items() if k in lf.property_names and k not in ITEMS_PARAMS}
    out_crs = _crs_or_crs84(crs, "crs")
    b_crs = _crs_or_crs84(bbox_crs, "bbox-crs")
    if bbox_crs and not bbox:
        raise InvalidParameter("bbox-crs: given without bbox")
    f_crs = resolve_crs(filter_crs, parameter="filter-crs") if filter_crs else None
    fmt = negotiate(request, f, tuple(OgcFormat))
    q = ItemQuery(
        bbox=parse_bbox(bbox, b_crs),
        datetime=parse_datetime(datetime),
        properties=props,
        filter=parse_filter(filter, filter_lang),
        filter_crs=f_crs,
        sortby=parse_sortby(sortby),
        limit=limit,
        offset=offset,
        crs=out_crs,
    )
    return ItemsParams(query=q, crs=out_crs, format=fmt, lang=lang, limit_given="limit" in request.query_params)


items_params.open_query = True  # type: ignore[attr-defined]  # property names: check_known above
ItemsDep = Annotated[ItemsParams, Depends(items_params)]


@dataclass
class ItemParams:
    crs: SupportedCrs
    format: OgcFormat
    lang: str


async def item_params(
    request: Request,
    *,
    f: FQuery = None,
    lang: LangDep,
    crs: Annotated[str | None, Query(description=CRS_DESCRIPTION)] = None,
) -> ItemParams:
    check_known(request, {"f", "lang", "crs", "year"})
    return ItemParams(crs=_crs_or_crs84(crs, "crs"), format=negotiate(request, f, DOCUMENT_FORMATS), lang=lang)


ItemDep = Annotated[ItemParams, Depends(item_params)]
