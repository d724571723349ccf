"""/collections/{collectionId}/items (pages and whole-layer downloads) and .../items/{featureId}."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse
from starlette.types import Scope

from geoborder.core.crs import crs84
from geoborder.core.errors import NotFound
from geoborder.features import (
    LayerFeatures,
    feature_collection,
    feature_collection_gzip,
    iter_csv,
    iter_geojson,
    iter_geojson_gzip,
    write_gpkg,
)

from ..params import DOCUMENT_FORMATS, CollectionDep, ItemDep, ItemParams, ItemsDep, ItemsParams, OgcFormat, negotiate
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
    for fid, rec in zip(lf.ids[positions], frame[lf.property_names].to_dict("records")):
        rec["id"] = int(fid)
        rec["_links"] = {"id": h.href(request, f"/collections/{lf.layer_id}/items/{int(fid)}", f="html")}
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
    # filters, other CRSs, first use of a layer and downloads go to the thread pool
    if p.format in (OgcFormat.geojson, OgcFormat.gpkg, OgcFormat.csv):
        return await run_in_threadpool(_download, request, lf, p)
    if lf.prepared and p.crs.is_crs84 and p.query.filter is None:
        return _items_page(request, lf, p)
    return await run_in_threadpool(_items_page, request, lf, p)


def _items_page(request: Request, lf: LayerFeatures, p: ItemsParams) -> Response:
    sel = lf.select(p.query)
    links = _page_links(request, lf, p, sel.matched, len(sel.positions))
    if p.format == OgcFormat.html:
        return _html_items(request, lf, p, sel.positions, sel.matched, links)
    if p.crs.is_crs84 and h.accepts_gzip(request):  # gzip from per-feature segments, not on the fly
        body = feature_collection_gzip(lf, sel.positions, matched=sel.matched, links=links)
        return GeoJSONResponse(body, headers={**h.content_crs(p.crs.uri), **h.GZIP_HEADERS})
    body = feature_collection(lf.feature_bytes(sel.positions, p.crs), matched=sel.matched, links=links)
    return GeoJSONResponse(body, headers=h.content_crs(p.crs.uri))


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
    fid = int(lf.ids[pos])
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
_CRS84 = crs84()
_CRS84_HEADERS = h.content_crs(_CRS84.uri)


def fast_item(scope: Scope, indicator_revision: str = "") -> Response | None:
    """`GET /collections/{id}/items/{featureId}` with no query parameters, answered without the
    framework's routing and dependency resolution (ConditionalGetMiddleware calls it first).

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
    cache = getattr(scope["app"].state, "ogc_features", None)
    if cache is None or cache.store is not getattr(scope["app"].state, "store", None):
        return None
    lf = cache.peek(m.group(1), indicator_revision)
    if lf is None or not lf.prepared:
        return None
    request = Request(scope)
    if negotiate(request, None, DOCUMENT_FORMATS) is not OgcFormat.json:
        return None
    try:
        pos = lf.position(m.group(2))
    except NotFound:
        return None
    # the links of _item, for a request without query parameters: self, alternate (f=html), collection
    base = str(request.base_url).rstrip("/")
    path = base + scope["path"]
    links = [
        h.link(path, "self", h.GEOJSON, "This feature"),
        h.link(path + "?f=html", "alternate", h.HTML, "This feature as HTML"),
        h.link(f"{base}/collections/{lf.layer_id}", "collection", h.JSON, "The collection"),
    ]
    return GeoJSONResponse(lf.feature_document(pos, links), headers=_CRS84_HEADERS)
