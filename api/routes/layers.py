"""/layers: the layers of the store with counts and metadata (source, licence, vintage)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from ..deps import LangDep, StoreDep

router = APIRouter(tags=["layers"])


def _describe(request: Request, info, lang: str) -> dict:
    d = asdict(info)
    d["title"] = info.title(lang)
    d["links"] = [
        {"rel": "self", "type": "application/json", "href": str(request.url_for("layer_detail", layer_id=info.id))}
    ]
    return d


@router.get("/layers", summary="Every layer of the store with feature counts and metadata")
def layer_list(request: Request, store: StoreDep, lang: LangDep) -> dict:
    info = store.build_info()
    return {
        "data_version": store.version,
        "built_at": info.get("built_at"),
        "layers": [_describe(request, lyr, lang) for lyr in store.layers()],
    }


@router.get("/layers/{layer_id}", name="layer_detail", summary="One layer's metadata and schema")
def layer_detail(request: Request, layer_id: str, store: StoreDep, lang: LangDep) -> dict:
    info = store.layer(layer_id)
    d = _describe(request, info, lang)
    cat = store.catalog_layer(layer_id)
    d["fields"] = [{"name": f.name, "type": f.type, "unit": f.unit, "title": f.title(lang)} for f in cat.fields]
    return d
