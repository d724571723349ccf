"""/collections, /collections/{collectionId}, /collections/{collectionId}/queryables."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from geoborder.core.crs import CRS84_URI, supported_crs
from geoborder.features import queryables as make_queryables
from geoborder.store.base import LayerInfo

from ..deps import StoreDep
from ..params import CollectionDep, DocParams, OgcFormat
from ..responses import JSONResponse
from . import ogc_http as h
from .openapi_doc import responses_for

router = APIRouter(tags=["OGC API - Features"])


def collection_document(request: Request, info: LayerInfo, lang: str) -> dict:
    """One collection, the same in /collections and /collections/{id}."""
    cid = info.id
    base = f"/collections/{cid}"
    d = {
        "id": cid,
        "title": info.title(lang),
        "description": f"{info.title(lang)} — {info.feature_count} features. "
        f"Source: {info.attribution} ({info.source_vintage}). Licence: {info.licence}.",
        "itemType": "feature",
        "crs": list(supported_crs()),
        "storageCrs": CRS84_URI,
        "links": [
            h.link(h.href(request, base), "self", h.JSON, "This collection"),
            h.link(h.href(request, base, f="html"), "alternate", h.HTML, "This collection as HTML"),
            h.link(h.href(request, base + "/items"), "items", h.GEOJSON, "Features (GeoJSON)"),
            h.link(h.href(request, base + "/items", f="html"), "items", h.HTML, "Features (HTML)"),
            h.link(h.href(request, base + "/queryables"), h.REL_QUERYABLES, h.SCHEMA_JSON, "Queryables"),
            h.link(
                h.href(request, base + "/items", f="geojson"),
                "enclosure",
                h.GEOJSON,
                f"Download every feature ({cid}.geojson)",
            ),
            h.link(
                h.href(request, base + "/items", f="gpkg"), "enclosure", h.GPKG, f"Download every feature ({cid}.gpkg)"
            ),
            h.link(
                h.href(request, base + "/items", f="csv"),
                "enclosure",
                h.CSV,
                f"Download every feature ({cid}.csv, WKT geometry)",
            ),
        ],
    }
    if info.bbox is not None:
        d["extent"] = {"spatial": {"bbox": [list(info.bbox)], "crs": CRS84_URI}}
    return d


@router.get(
    "/collections",
    name="ogc_collections",
    summary="The collections (one per layer of the store)",
    response_model=None,
    responses=responses_for("Collections", html=True),
)
def collections(request: Request, store: StoreDep, p: DocParams) -> dict | HTMLResponse:
    infos = store.layers()
    if p.format == OgcFormat.html:
        rows = [
            {
                "id": i.id,
                "title": i.title(p.lang),
                "features": i.feature_count,
                "licence": i.licence,
                "_links": {
                    "id": h.href(request, f"/collections/{i.id}", f="html"),
                    "title": h.href(request, f"/collections/{i.id}/items", f="html"),
                },
            }
            for i in infos
        ]
        return h.html_page(
            request,
            title="Collections" if p.lang == "en" else "Lớp dữ liệu",
            lang=p.lang,
            columns=["id", "title", "features", "licence"],
            rows=rows,
            links=h.json_and_html_links(request, True),
        )
    return JSONResponse(
        {
            "links": h.json_and_html_links(request, False),
            "collections": [collection_document(request, i, p.lang) for i in infos],
            "crs": list(supported_crs()),
        }
    )


@router.get(
    "/collections/{collectionId}",
    name="ogc_collection",
    summary="One collection's metadata",
    response_model=None,
    responses=responses_for("Collection", html=True, not_found=True),
)
def collection(request: Request, store: StoreDep, lf: CollectionDep, p: DocParams) -> dict | HTMLResponse:
    info = store.layer(lf.layer_id)
    doc = collection_document(request, info, p.lang)
    if p.format == OgcFormat.html:
        return h.html_page(
            request,
            title=doc["title"],
            lang=p.lang,
            description=doc["description"],
            items=[
                ("id", doc["id"]),
                ("extent", (doc.get("extent") or {}).get("spatial", {}).get("bbox")),
                ("storageCrs", doc["storageCrs"]),
            ],
            links=doc["links"],
        )
    doc["links"][:2] = h.json_and_html_links(request, False)
    return JSONResponse(doc)


@router.get(
    "/collections/{collectionId}/queryables",
    name="ogc_queryables",
    summary="The properties a `filter` or a property parameter may use (JSON Schema)",
    response_model=None,
    responses=responses_for("Queryables", html=True, not_found=True, media=h.SCHEMA_JSON),
)
def queryables(request: Request, store: StoreDep, lf: CollectionDep, p: DocParams) -> Response:
    info = store.layer(lf.layer_id)
    try:
        fields = store.catalog_layer(lf.layer_id).fields
    except (AttributeError, KeyError):
        fields = ()
    doc = make_queryables(lf, fields, info.geometry_type, p.lang)
    doc = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": h.href(request, f"/collections/{lf.layer_id}/queryables"),
        "title": info.title(p.lang),
        **doc,
    }
    if p.format == OgcFormat.html:
        rows = [
            {"name": k, "type": v.get("type") or v.get("format"), "title": v.get("title")}
            for k, v in doc["properties"].items()
        ]
        return h.html_page(
            request,
            title=f"{info.title(p.lang)}: queryables",
            lang=p.lang,
            columns=["name", "type", "title"],
            rows=rows,
        )
    return JSONResponse(doc, media_type=h.SCHEMA_JSON)
