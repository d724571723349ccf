"""/collections/{collectionId}/items (pages and whole-layer downloads) and .../items/{featureId}."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse
from starlette.types import Scope

from geoborder.core.crs import crs84
from geoborder.core.errors import InvalidParameter, NotFound, PayloadTooLarge
from geoborder.features import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ItemQuery,
    LayerFeatures,
    feature_collection_gzip,
    feature_page,
    iter_csv,
    iter_geojson,
    iter_geojson_gzip,
    parse_bbox,
    parse_filter_json,
    write_gpkg,
)
from geoborder.features.records import TIMED_LAYERS
from geoborder.store.base import IN_MEMORY_ITEMS

from ..params import (
    DOCUMENT_FORMATS,
    CollectionDep,
    ItemDep,
    ItemParams,
    ItemsDep,
    ItemsParams,
    OgcFormat,
    get_feature_cache,
    negotiate,
)
from ..responses import GeoJSONResponse
from . import ogc_http as h
from .openapi_doc import responses_for

router = APIRouter(tags=["OGC API - Features"])

_ITEMS_MEDIA = {h.GPKG: {"schema": {"type": "string", "format": "binary"}}, h.CSV: {"schema": {"type": "string"}}}


def _page_links(request: Request, lf: LayerFeatures, p: ItemsParams, matched: int, returned: int) -> list[dict]:
    q = p.query
    links = [
        h.link(h.self_href(request, f=None), "self", h.GEOJSON, "This page"),
        h.link(h.self_href(request, f="html"), "alternate", h.HTML, "This page as HTML"),
        h.link(h.href(request, f"/collections/{lf.layer_id}"), "collection", h.JSON, "The collection"),
    ]
    if q.offset + returned < matched:
        links.append(h.link(h.self_href(request, offset=q.offset + q.limit, f=None), "next", h.GEOJSON, "Next page"))
    if q.offset > 0:
        links.append(
            h.link(h.self_href(request, offset=max(0, q.offset - q.limit), f=None), "prev", h.GEOJSON, "Previous page")
        )
    return links


def _html_items(
    request: Request, lf: LayerFeatures, p: ItemsParams, positions: np.ndarray, matched: int, links: list[dict]
):
    cols = ["id", *lf.property_names]
    frame = lf.frame.iloc[positions]
    rows = []
    for pos, rec in zip(positions, frame[lf.property_names].to_dict("records")):
        fid = lf.feature_id(pos)
        rec["id"] = fid
        rec["_links"] = {
            "id": h.href(request, f"/collections/{lf.layer_id}/items/{quote(str(fid), safe='')}", f="html")
        }
        rows.append(rec)
    html_links = [
        dict(l, href=h.self_href(request, offset=p.query.offset + p.query.limit, f="html"))
        if l["rel"] == "next"
        else dict(l, href=h.self_href(request, offset=max(0, p.query.offset - p.query.limit), f="html"))
        if l["rel"] == "prev"
        else l
        for l in links
    ]
    first = p.query.offset + 1 if len(positions) else 0
    summary = f"{first}–{p.query.offset + len(positions)} / {matched}"
    return h.html_page(
        request, title=lf.layer_id, lang=p.lang, summary=summary, columns=cols, rows=rows, links=html_links
    )


def _download(request: Request, lf: LayerFeatures, p: ItemsParams) -> Response:
    positions = lf.select(p.query).positions if p.limit_given else lf.select_all(p.query)
    suffix = "" if p.crs.is_crs84 else f"_epsg{p.crs.epsg}"
    name = f"{lf.layer_id}{suffix}"
    crs_headers = h.content_crs(p.crs.uri)
    if p.format == OgcFormat.geojson:
        headers = {"Content-Disposition": f'attachment; filename="{name}.geojson"', **crs_headers}
        if p.crs.is_crs84 and h.accepts_gzip(request):  # gzip from per-feature segments, not on the fly
            return StreamingResponse(
                iter_geojson_gzip(lf, positions), media_type=h.GEOJSON, headers={**headers, **h.GZIP_HEADERS}
            )
        return StreamingResponse(iter_geojson(lf, positions, p.crs), media_type=h.GEOJSON, headers=headers)
    if p.format == OgcFormat.csv:
        return StreamingResponse(
            iter_csv(lf, positions, p.crs),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"', **crs_headers},
        )
    tmpdir = tempfile.mkdtemp(prefix="geoborder-dl-")
    path = os.path.join(tmpdir, f"{name}.gpkg")
    try:
        write_gpkg(lf, positions, path, p.crs)
        size = os.path.getsize(path)
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise

    def stream() -> Iterator[bytes]:
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    yield chunk
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    return StreamingResponse(
        stream(),
        media_type=h.GPKG,
        headers={"Content-Disposition": f'attachment; filename="{name}.gpkg"', "Content-Length": str(size)},
    )


@router.get(
    "/collections/{collectionId}/items",
    name="ogc_items",
    summary="Features of a collection: a page (GeoJSON, HTML) or every match as a file (f=geojson|gpkg|csv)",
    response_model=None,
    response_class=GeoJSONResponse,
    responses=responses_for(
        "FeatureCollectionGeoJSON", html=True, not_found=True, media=h.GEOJSON, extra_media=_ITEMS_MEDIA
    ),
)
async def items(request: Request, lf: CollectionDep, p: ItemsDep) -> Response:
    # plain pages of a prepared layer take well under a millisecond: answered on the event loop;
    # filters, other CRSs, first use of a layer, downloads and dates go to the thread pool
    if _timed(lf, p):
        lf = await run_in_threadpool(_at_datetime, request, lf, p)
    if p.format in (OgcFormat.geojson, OgcFormat.gpkg, OgcFormat.csv):
        return await run_in_threadpool(_download, request, lf, p)
    if lf.prepared and p.crs.is_crs84 and p.query.filter is None:
        return _items_page(request, lf, p)
    return await run_in_threadpool(_items_page, request, lf, p)


MAX_FILTER_BODY = 16 * 1024 * 1024  # a CQL2-JSON body: a 20,000-vertex polygon is about 1 MB
_FILTER_MEDIA = ("application/json", "application/query-cql-json", "application/cql2+json")


@router.post(
    "/collections/{collectionId}/items",
    name="ogc_items_post",
    summary="Features of a collection selected by a CQL2-JSON filter sent as the request body "
    "(for filters too large for a URL; OWSLib's `cql=`); the other parameters in the query string",
    response_model=None,
    response_class=GeoJSONResponse,
    responses=responses_for(
        "FeatureCollectionGeoJSON", html=True, not_found=True, media=h.GEOJSON, extra_media=_ITEMS_MEDIA
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A CQL2-JSON filter (as the `filter` parameter with filter-lang=cql2-json).",
            "content": {m: {"schema": {"type": "object"}} for m in _FILTER_MEDIA},
        }
    },
)
async def items_post(request: Request, lf: CollectionDep, p: ItemsDep) -> Response:
    body = await _filter_body(request)
    if p.query.filter is not None:
        raise InvalidParameter("filter: given both in the query string and in the request body; give one")
    q = replace(p.query, filter=await run_in_threadpool(parse_filter_json, body))
    p = replace(p, query=q)
    if _timed(lf, p):
        lf = await run_in_threadpool(_at_datetime, request, lf, p)
    if p.format in (OgcFormat.geojson, OgcFormat.gpkg, OgcFormat.csv):
        return await run_in_threadpool(_download, request, lf, p)
    return await run_in_threadpool(_items_page, request, lf, p, "POST")


def _timed(lf: LayerFeatures, p: ItemsParams) -> bool:
    """The query has a `datetime` and the layer answers it (the gates: those in operation then)."""
    return p.query.datetime is not None and lf.layer_id in TIMED_LAYERS


def _at_datetime(request: Request, lf: LayerFeatures, p: ItemsParams) -> LayerFeatures:
    """The layer with its records of the query's `datetime` (geoborder.features.records)."""
    return get_feature_cache(request).get(
        lf.layer_id, getattr(request.app.state, "indicators", None), when=p.query.datetime
    )


async def _filter_body(request: Request) -> bytes:
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in _FILTER_MEDIA:
        raise InvalidParameter(f"the request body must be a CQL2-JSON filter ({', '.join(_FILTER_MEDIA)}), not {media}")
    size = request.headers.get("content-length")
    if size and size.isdigit() and int(size) > MAX_FILTER_BODY:
        raise PayloadTooLarge(f"the filter is larger than {MAX_FILTER_BODY // 1024 // 1024} MB")
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > MAX_FILTER_BODY:
            raise PayloadTooLarge(f"the filter is larger than {MAX_FILTER_BODY // 1024 // 1024} MB")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise InvalidParameter("the request body is empty: send a CQL2-JSON filter")
    return body


def _items_page(request: Request, lf: LayerFeatures, p: ItemsParams, method: str = "GET") -> Response:
    sel = lf.select(p.query)
    links = _page_links(request, lf, p, sel.matched, len(sel.positions))
    if method == "POST":  # the next / previous pages are asked the same way, with the same body
        links = [dict(l, method="POST") if l["rel"] in ("next", "prev") else l for l in links]
    if p.format == OgcFormat.html:
        return _html_items(request, lf, p, sel.positions, sel.matched, links)
    # the page's links as a Link header too (RFC 8288): clients that read headers only (ogctests Part 3)
    lh = h.link_header([*links, h.queryables_link(request, lf.layer_id)])
    if p.crs.is_crs84 and h.accepts_gzip(request):  # gzip from per-feature segments, not on the fly
        body = feature_collection_gzip(lf, sel.positions, matched=sel.matched, links=links)
        return GeoJSONResponse(body, headers={**h.content_crs(p.crs.uri), **h.GZIP_HEADERS, **lh})
    body = feature_page(lf.features_joined(sel.positions, p.crs), len(sel.positions), matched=sel.matched, links=links)
    return GeoJSONResponse(body, headers={**h.content_crs(p.crs.uri), **lh})


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    name="ogc_item",
    summary="One feature",
    response_model=None,
    response_class=GeoJSONResponse,
    responses=responses_for("FeatureGeoJSON", html=True, not_found=True, media=h.GEOJSON),
)
async def item(
    request: Request,
    lf: CollectionDep,
    p: ItemDep,
    feature_id: Annotated[
        str,
        Path(
            alias="featureId",
            description="Feature id (the `id` of an item)",
            openapi_examples={"first": {"value": "1"}},
        ),
    ],
) -> Response:
    if lf.prepared and p.crs.is_crs84:
        return _item(request, lf, p, feature_id)
    return await run_in_threadpool(_item, request, lf, p, feature_id)


def _item(request: Request, lf: LayerFeatures, p: ItemParams, feature_id: str) -> Response:
    pos = lf.position(feature_id)
    fid = lf.feature_id(pos)
    base = f"/collections/{lf.layer_id}"
    links = [
        h.link(h.self_href(request, f=None), "self", h.GEOJSON, "This feature"),
        h.link(h.self_href(request, f="html"), "alternate", h.HTML, "This feature as HTML"),
        h.link(h.href(request, base), "collection", h.JSON, "The collection"),
    ]
    if p.format == OgcFormat.html:
        rec = lf.frame.iloc[pos]
        return h.html_page(
            request,
            title=f"{lf.layer_id} {fid}",
            lang=p.lang,
            items=[
                ("id", fid),
                *((k, rec[k]) for k in lf.property_names),
                ("geometry", rec.geometry.geom_type if rec.geometry is not None else None),
            ],
            links=links,
        )
    return GeoJSONResponse(lf.feature_document(pos, links, p.crs), headers=h.content_crs(p.crs.uri))


# --------------------------------------------------------------------------- fast path

# plain ids only (no characters a URL would escape), so the links below equal self_href's
_ITEM_PATH = re.compile(r"^/collections/([A-Za-z0-9_.-]+)/items/([A-Za-z0-9_.-]+)$")
_ITEMS_PATH = re.compile(r"^/collections/([A-Za-z0-9_.-]+)/items$")
_CRS84 = crs84()
_CRS84_HEADERS = h.content_crs(_CRS84.uri)
# the parameters a fast page may carry, each at most once; values the route would take as they are
# (no sign, no leading zero, no space: anything else goes to the route, which validates it)
_LIMIT = re.compile(r"[1-9][0-9]{0,6}")
_OFFSET = re.compile(r"0|[1-9][0-9]{0,7}")
_PAGE_PARAMS = ("limit", "offset", "bbox")
MAX_OFFSET = 10_000_000  # the route's bound (api/params.py Offset)
_ALL_FORMATS = tuple(OgcFormat)


def fast_answer(scope: Scope, indicator_revision: str = "") -> Response | None:
    """The hot OGC reads answered without the framework's routing and dependency resolution
    (ConditionalGetMiddleware calls it first, for GET): one feature by id (`fast_item`) and a
    GeoJSON page with only limit, offset and bbox (`fast_items`). None for anything else."""
    path = scope["path"]
    if path.endswith("/items"):
        return fast_items(scope, indicator_revision)
    if "/items/" in path:
        return fast_item(scope, indicator_revision)
    return None


def _prepared(scope: Scope, layer_id: str, indicator_revision: str) -> LayerFeatures | None:
    """The LayerFeatures the route's collection dependency would return, if this process has
    already made and prepared it; else None (first use, another data version, unknown layer)."""
    state = scope["app"].state
    cache = getattr(state, "ogc_features", None)
    if cache is None or cache.store is not getattr(state, "store", None):
        return None
    lf = cache.peek(layer_id, indicator_revision, getattr(state, "indicators", None))
    return lf if lf is not None and lf.prepared else None


def fast_items(scope: Scope, indicator_revision: str = "") -> Response | None:
    """`GET /collections/{id}/items` with no query parameter other than limit, offset and bbox
    (each once, in their plain form), answered as GeoJSON by `_items_page`, the route's own code,
    with the ItemsParams the route's dependency would make (CRS84, no filter, no datetime): the
    body and headers are the route's. Anything else (another or a repeated parameter, a value the
    route would refuse or read differently, HTML or a download by Accept, a layer not yet
    prepared) returns None and goes to the route, which validates and answers as before."""
    if scope.get("root_path"):
        return None
    m = _ITEMS_PATH.match(scope["path"])
    if m is None:
        return None
    lf = _prepared(scope, m.group(1), indicator_revision)
    if lf is None or lf.engine is not IN_MEMORY_ITEMS:
        # a store engine selects in SQL (PostGIS): that waits on the database, so it runs in the
        # route (thread pool, the error map's 503), never on the event loop
        return None
    request = Request(scope)
    given: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key not in _PAGE_PARAMS or key in given:
            return None
        given[key] = value
    limit, offset, bbox = DEFAULT_LIMIT, 0, None
    if "limit" in given:
        if not _LIMIT.fullmatch(given["limit"]) or int(given["limit"]) > MAX_LIMIT:
            return None
        limit = int(given["limit"])
    if "offset" in given:
        if not _OFFSET.fullmatch(given["offset"]) or int(given["offset"]) > MAX_OFFSET:
            return None
        offset = int(given["offset"])
    if "bbox" in given:
        try:
            bbox = parse_bbox(given["bbox"], _CRS84)
        except InvalidParameter:
            return None
    if negotiate(request, None, _ALL_FORMATS) is not OgcFormat.json:
        return None
    query = ItemQuery(bbox=bbox, limit=limit, offset=offset, crs=_CRS84)
    p = ItemsParams(query=query, crs=_CRS84, format=OgcFormat.json, lang="vi", limit_given="limit" in given)
    return _items_page(request, lf, p)


def fast_item(scope: Scope, indicator_revision: str = "") -> Response | None:
    """`GET /collections/{id}/items/{featureId}` with no query parameters.

    Only the case the route itself answers on the event loop: a layer already made and prepared
    in this process (same LayerFeatures the route would get), a feature that exists, GeoJSON by
    the Accept header. The body and headers are those of `_item`; anything else (other query
    parameters, HTML, unknown ids or layers, first use of a layer) returns None and goes to the
    FastAPI route, which validates and answers errors as before."""
    if scope.get("query_string") or scope.get("root_path"):
        return None
    m = _ITEM_PATH.match(scope["path"])
    if m is None:
        return None
    lf = _prepared(scope, m.group(1), indicator_revision)
    if lf is None:
        return None
    request = Request(scope)
    if negotiate(request, None, DOCUMENT_FORMATS) is not OgcFormat.json:
        return None
    try:
        pos = lf.position(m.group(2))
    except NotFound:
        return None
    # the links of _item, for a request without query parameters: self, alternate (f=html), collection
    base = h.base_url(request)
    path = base + scope["path"]
    links = [
        h.link(path, "self", h.GEOJSON, "This feature"),
        h.link(path + "?f=html", "alternate", h.HTML, "This feature as HTML"),
        h.link(f"{base}/collections/{lf.layer_id}", "collection", h.JSON, "The collection"),
    ]
    return GeoJSONResponse(lf.feature_document(pos, links), headers=_CRS84_HEADERS)
