"""/collections, /collections/{collectionId}, /collections/{collectionId}/queryables, and the
record collections of the features kept without a location (`gates_unplaced`, `markers_unplaced`).

The record collections (itemType `record`, OGC API - Records style: GeoJSON features with
`geometry: null`, each with its `unplaced_reason`) are served at /collections/{table},
/collections/{table}/items and /collections/{table}/items/{recordId}. They are linked from
/collections (`links`, rel `related`), from their layer's collection and from /layers, and are not
entries of the /collections `collections` list: that list is the feature collections, which GDAL,
QGIS and the OGC Part 1 test suite walk and read as features with geometries (docs/api.md).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from geoborder.core.catalog import Layer, load_catalog
from geoborder.core.crs import CRS84_URI, supported_crs
from geoborder.core.errors import NotFound
from geoborder.features import LayerFeatures
from geoborder.features import queryables as make_queryables
from geoborder.features.records import TIMED_LAYERS, temporal_extent
from geoborder.store.base import LayerInfo, Store

from .. import models
from ..deps import LangDep, StoreDep
from ..params import DOCUMENT_FORMATS, CollectionDep, DocParams, FQuery, OgcFormat, SimpleParams, check_known, negotiate
from ..responses import GeoJSONResponse, JSONResponse
from . import ogc_http as h
from .openapi_doc import ERR, HTML_CONTENT, Responses, responses_for

router = APIRouter(tags=["OGC API - Features"])


# --------------------------------------------------------------------------- records (no location)

_ROWS: dict[tuple[int, str, str], list[dict]] = {}


def record_layers(store: Store) -> dict[str, Layer]:
    """table name -> the layer whose unlocated features it keeps (layers/catalog.toml `unplaced_table`)."""
    return {lyr.unplaced_table: lyr for lyr in store.catalog.layers if lyr.unplaced_table}


def records(store: Store, table: str) -> list[dict]:
    """The rows of a record table (None for a missing value), once per store version."""
    key = (id(store), store.version, table)
    rows = _ROWS.get(key)
    if rows is None:
        if table not in record_layers(store):
            raise NotFound(f"no record collection {table!r}")
        df = store.table(table)
        rows = df.astype(object).where(df.notna(), None).to_dict("records")
        if len(_ROWS) > 16:
            _ROWS.clear()
        _ROWS[key] = rows
    return rows


def unplaced_summary(request: Request, store: Store, layer_id: str) -> dict | None:
    """The features of `layer_id` kept without a location: table, count, reasons, link; None
    for a layer that keeps none aside."""
    for table, lyr in record_layers(store).items():
        if lyr.id == layer_id:
            try:
                rows = records(store, table)
            except NotFound:
                return None
            return {
                "table": table,
                "count": len(rows),
                "reasons": dict(Counter(str(r.get("unplaced_reason")) for r in rows).most_common()),
                "href": h.href(request, f"/collections/{table}/items"),
            }
    return None


def _record_links(request: Request, store: Store) -> list[dict]:
    out = []
    for table, lyr in record_layers(store).items():
        s = unplaced_summary(request, store, lyr.id)
        if s is not None:
            title = f"{lyr.title('en')} without a location: {s['count']} records with their reasons"
            out.append(h.link(h.href(request, f"/collections/{table}"), "related", h.JSON, title))
    return out


def _record_collection(request: Request, store: Store, table: str, lang: str) -> dict:
    lyr = record_layers(store)[table]
    n = len(records(store, table))
    base = f"/collections/{table}"
    title = f"{lyr.title(lang)} — " + ("chưa có vị trí" if lang == "vi" else "without a location")
    return {
        "id": table,
        "title": title,
        "description": f"{n} records of layer {lyr.id!r} that have no location (geometry null), each with "
        "its reason (unplaced_reason). They are not items of the feature collection.",
        "itemType": "record",
        "links": [
            h.link(h.href(request, base), "self", h.JSON, "This collection"),
            h.link(h.href(request, base + "/items"), "items", h.GEOJSON, "Records (GeoJSON, geometry null)"),
            h.link(h.href(request, base + "/items", f="html"), "items", h.HTML, "Records (HTML)"),
            h.link(h.href(request, f"/collections/{lyr.id}"), "related", h.JSON, "The features with a location"),
        ],
    }


def _record(request: Request, table: str, key: str, row: dict) -> dict:
    rid = str(row[key])
    return {
        "type": "Feature",
        "id": rid,
        "geometry": None,
        "properties": row,
        "links": [
            h.link(h.href(request, f"/collections/{table}/items/{rid}"), "self", h.GEOJSON, "This record"),
            h.link(h.href(request, f"/collections/{table}"), "collection", h.JSON, "The collection"),
        ],
    }


RecordLimit = Annotated[int, Query(ge=1, le=10_000, description="Records per page (1 to 10000).")]
RecordOffset = Annotated[int, Query(ge=0, le=10_000_000, description="Records to skip (paging).")]
_RECORD_ERRORS: Responses = {
    400: {"description": "A parameter is malformed or unknown", **ERR},
    404: {"description": "No such record", **ERR},
}


def _add_record_routes(table: str) -> None:
    """/collections/{table}, .../items, .../items/{recordId}: literal paths, ahead of the
    feature routes' /collections/{collectionId}/... (ogc_collections is included first)."""
    base = f"/collections/{table}"

    @router.get(
        base,
        name=f"records_{table}",
        summary=f"The record collection {table} (features without a location)",
        response_model=None,
        responses={200: {"model": models.RecordCollectionInfo}, **_RECORD_ERRORS},
    )
    def record_collection(request: Request, store: StoreDep, lang: LangDep) -> Response:
        check_known(request, {"lang", "f"})
        return JSONResponse(_record_collection(request, store, table, lang))

    @router.get(
        base + "/items",
        name=f"records_{table}_items",
        summary=f"The records of {table}: GeoJSON features with geometry null and their unplaced_reason",
        response_model=None,
        response_class=GeoJSONResponse,
        responses={200: {"model": models.RecordCollection, "content": dict(HTML_CONTENT)}, **_RECORD_ERRORS},
    )
    def record_items(
        request: Request,
        store: StoreDep,
        lang: LangDep,
        f: FQuery = None,
        limit: RecordLimit = 1000,
        offset: RecordOffset = 0,
    ) -> Response:
        check_known(request, {"lang", "f", "limit", "offset"})
        fmt = negotiate(request, f, DOCUMENT_FORMATS)
        key = record_layers(store)[table].key or "fid"
        rows = records(store, table)
        page = rows[offset : offset + limit]
        if fmt == OgcFormat.html:
            cols = list(page[0]) if page else [key]
            return h.html_page(
                request,
                title=_record_collection(request, store, table, lang)["title"],
                lang=lang,
                columns=cols,
                rows=page,
            )
        links = [h.link(h.href(request, base + "/items", limit=limit, offset=offset), "self", h.GEOJSON, "This page")]
        links.append(h.link(h.href(request, base), "collection", h.JSON, "The collection"))
        if offset + limit < len(rows):
            links.append(
                h.link(h.href(request, base + "/items", limit=limit, offset=offset + limit), "next", h.GEOJSON)
            )
        return GeoJSONResponse(
            {
                "type": "FeatureCollection",
                "features": [_record(request, table, key, r) for r in page],
                "links": links,
                "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "numberMatched": len(rows),
                "numberReturned": len(page),
            }
        )

    @router.post(base + "/items", name=f"records_{table}_items_post", include_in_schema=False)
    def record_items_post() -> Response:
        # POST /collections/{collectionId}/items (a CQL2 body) would take this path too; a record
        # collection is read with GET only: 405, with the Allow of this path (api/errors.py)
        raise StarletteHTTPException(405)

    @router.get(
        base + "/items/{recordId}",
        name=f"records_{table}_item",
        summary=f"One record of {table}",
        response_model=None,
        response_class=GeoJSONResponse,
        responses={200: {"model": models.Record}, **_RECORD_ERRORS},
    )
    def record_item(
        request: Request,
        store: StoreDep,
        record_id: Annotated[str, Path(alias="recordId", description="The record's key (e.g. a gate_id)")],
    ) -> Response:
        check_known(request, set())
        key = record_layers(store)[table].key or "fid"
        for r in records(store, table):
            if str(r[key]) == record_id:
                return GeoJSONResponse(_record(request, table, key, r))
        raise NotFound(f"no record {record_id!r} in {table}")


for _table in sorted({lyr.unplaced_table for lyr in load_catalog().layers if lyr.unplaced_table}):
    _add_record_routes(_table)


# --------------------------------------------------------------------------- feature collections


def collection_document(request: Request, info: LayerInfo, lang: str, store: Store | None = None) -> dict:
    """One collection, the same in /collections and /collections/{id}."""
    cid = info.id
    base = f"/collections/{cid}"
    d: dict[str, Any] = {
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
    indicators = getattr(request.app.state, "indicators", None)
    temporal = temporal_extent(store, indicators, cid) if store is not None else None
    if temporal is not None:  # the gates: from their events (`datetime` answers by date)
        d.setdefault("extent", {})["temporal"] = temporal
    unplaced = unplaced_summary(request, store, cid) if store is not None else None
    if unplaced is not None:
        d["description"] += f" {unplaced['count']} more have no location: see {unplaced['table']}."
        d["links"].append(
            h.link(
                h.href(request, f"/collections/{unplaced['table']}"),
                "related",
                h.JSON,
                f"{unplaced['count']} features without a location (records, with their reasons)",
            )
        )
    return d


@router.get(
    "/collections",
    name="ogc_collections",
    summary="The collections (one per layer of the store)",
    response_model=None,
    responses=responses_for("Collections", html=True),
)
def collections(request: Request, store: StoreDep, p: DocParams) -> Response:
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
            "links": h.json_and_html_links(request, False) + _record_links(request, store),
            "collections": [collection_document(request, i, p.lang, store) for i in infos],
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
async def collection(request: Request, store: StoreDep, lf: CollectionDep, p: DocParams) -> Response:
    # the document of a layer is a few dicts made from what the store holds in memory: answered on
    # the event loop (issue 18), unless making it reads something (the gates' temporal extent reads
    # the records; a layer's unlocated records are read once per version)
    if lf.layer_id in TIMED_LAYERS or not _records_read(store, lf.layer_id):
        return await run_in_threadpool(_collection, request, store, lf, p)
    return _collection(request, store, lf, p)


def _records_read(store: Store, layer_id: str) -> bool:
    """The unlocated records of `layer_id`, if it keeps any, are already read (`records`)."""
    return all(
        (id(store), store.version, table) in _ROWS for table, lyr in record_layers(store).items() if lyr.id == layer_id
    )


def _collection(request: Request, store: Store, lf: LayerFeatures, p: SimpleParams) -> Response:
    info = store.layer(lf.layer_id)
    doc = collection_document(request, info, p.lang, store)
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
