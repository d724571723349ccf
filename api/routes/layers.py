"""/layers: the layers of the store with counts and metadata (source, licence, vintage).

A point layer whose features without a location are kept aside (gates, markers) says so:
`feature_count` is the features with a location (the collection's items), `unplaced` the others
(table, count, reasons, link to their record collection) and `total_count` both."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from .. import models
from ..deps import LangDep, StoreDep
from ..params import JsonFormat
from .ogc_collections import unplaced_summary
from .openapi_doc import ERR, Responses

router = APIRouter(tags=["layers"])

_NOT_FOUND: Responses = {404: {"description": "No such layer", **ERR}}


def _describe(request: Request, store, info, lang: str) -> dict:
    d = asdict(info)
    d["title"] = info.title(lang)
    unplaced = unplaced_summary(request, store, info.id)
    d["unplaced"] = unplaced
    d["total_count"] = info.feature_count + (unplaced["count"] if unplaced else 0)
    d["links"] = [
        {"rel": "self", "type": "application/json", "href": str(request.url_for("layer_detail", layer_id=info.id))}
    ]
    if unplaced:
        d["links"].append({"rel": "related", "type": "application/geo+json", "href": unplaced["href"]})
    return d


@router.get(
    "/layers",
    summary="Every layer of the store with feature counts (with and without a location) and metadata",
    response_model=None,
    responses={200: {"model": models.LayerList}},
)
def layer_list(request: Request, store: StoreDep, lang: LangDep, _f: JsonFormat) -> dict:
    info = store.build_info()
    return {
        "data_version": store.version,
        "built_at": info.get("built_at"),
        "layers": [_describe(request, store, lyr, lang) for lyr in store.layers()],
    }


@router.get(
    "/layers/{layer_id}",
    name="layer_detail",
    summary="One layer's metadata and schema",
    response_model=None,
    responses={200: {"model": models.LayerDetail}, **_NOT_FOUND},
)
def layer_detail(request: Request, layer_id: str, store: StoreDep, lang: LangDep, _f: JsonFormat) -> dict:
    info = store.layer(layer_id)
    d = _describe(request, store, info, lang)
    cat = store.catalog_layer(layer_id)
    d["fields"] = [{"name": f.name, "type": f.type, "unit": f.unit, "title": f.title(lang)} for f in cat.fields]
    return d
