"""/: the landing page (HTML for browsers, JSON for clients)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..deps import LangDep, StoreDep
from ..params import DocFormat, OgcFormat

router = APIRouter(tags=["service"])


@router.get("/", summary="Landing page", response_model=None)
def landing(request: Request, store: StoreDep, out: DocFormat, lang: LangDep) -> dict | HTMLResponse:
    info = store.build_info()
    layers = store.layers()
    if out == OgcFormat.html:
        return request.app.state.templates.TemplateResponse(
            request,
            "landing.html",
            {"layers": layers, "lang": lang, "info": info, "version": store.version, "report": info.get("report", {})},
        )
    return {
        "title": request.app.title,
        "description": "Vietnam's land-border communes and border crossing points",
        "data_version": store.version,
        "links": [
            {"rel": "self", "type": "application/json", "href": str(request.url_for("landing"))},
            {
                "rel": "alternate",
                "type": "text/html",
                "href": str(request.url_for("landing").include_query_params(f="html")),
            },
            {
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "href": str(request.url_for("ogc_api")),
            },
            {
                "rel": "service-doc",
                "type": "text/html",
                "href": str(request.url_for("ogc_api").include_query_params(f="html")),
            },
            {"rel": "conformance", "type": "application/json", "href": str(request.url_for("ogc_conformance"))},
            {"rel": "data", "type": "application/json", "href": str(request.url_for("ogc_collections"))},
            {
                "rel": "describedby",
                "type": "application/json",
                "title": "Layers with counts, sources and licences",
                "href": str(request.url_for("layer_list")),
            },
        ],
    }
