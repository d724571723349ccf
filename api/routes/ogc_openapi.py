"""/api: the OpenAPI 3.0 definition (JSON) and its HTML docs (the document: api/routes/openapi_doc.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..params import DocParams, OgcFormat
from ..responses import JSONResponse
from . import ogc_http as h
from .openapi_doc import ERR, HTML_CONTENT

router = APIRouter(tags=["OGC API - Features"])


@router.get(
    "/api",
    name="ogc_api",
    summary="The API definition (OpenAPI 3.0 JSON, or HTML docs)",
    response_model=None,
    responses={
        200: {"description": "OK", "content": {h.OPENAPI_JSON: {"schema": {"type": "object"}}, **HTML_CONTENT}},
        304: {"description": "Not modified"},
        400: {"description": "A parameter is malformed or unknown", **ERR},
    },
)
def api_definition(request: Request, p: DocParams) -> Response:
    doc = request.app.openapi()
    if p.format == OgcFormat.html:  # offline-friendly: no JavaScript from a CDN
        rows = [
            {
                "method": m.upper(),
                "path": path,
                "summary": op.get("summary", ""),
                "_links": {"path": h.href(request, path)} if "{" not in path else {},
            }
            for path, item in doc["paths"].items()
            for m, op in item.items()
            if isinstance(op, dict)
        ]
        return h.html_page(
            request,
            title=f"{request.app.title} API",
            lang=p.lang,
            description="OpenAPI 3.0 definition of the service.",
            columns=["method", "path", "summary"],
            rows=rows,
            links=[h.link(h.href(request, "/api", f="json"), "service-desc", h.OPENAPI_JSON, "OpenAPI 3.0 (JSON)")],
        )
    return JSONResponse(doc, media_type=h.OPENAPI_JSON)
