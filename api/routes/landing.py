"""/: the landing page (HTML for browsers, JSON for clients)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..deps import LangDep, OutputDep, OutputType, StoreDep

router = APIRouter(tags=["service"])


@router.get("/", summary="Landing page", response_model=None)
def landing(request: Request, store: StoreDep, out: OutputDep, lang: LangDep) -> dict | HTMLResponse:
    info = store.build_info()
    layers = store.layers()
    if out == OutputType.html:
        return request.app.state.templates.TemplateResponse(
            request, "landing.html",
            {"layers": layers, "lang": lang, "info": info, "version": store.version,
             "report": info.get("report", {})},
        )
    return {
        "title": request.app.title,
        "description": "Vietnam's land-border communes and border crossing points",
        "data_version": store.version,
        "links": [
            {"rel": "self", "type": "application/json", "href": str(request.url_for("landing"))},
            {"rel": "service-doc", "type": "text/html", "href": str(request.url_for("swagger_ui_html"))},
            {"rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0",
             "href": str(request.url_for("openapi"))},
            {"rel": "data", "type": "application/json", "href": str(request.url_for("layer_list"))},
        ],
    }
