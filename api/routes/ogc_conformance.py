"""/conformance: the conformance classes the service implements."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..params import DocParams, OgcFormat
from ..responses import JSONResponse
from . import ogc_http as h
from .openapi_doc import responses_for

router = APIRouter(tags=["OGC API - Features"])

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
)


@router.get(
    "/conformance",
    name="ogc_conformance",
    summary="Conformance classes implemented",
    response_model=None,
    responses=responses_for("Conformance", html=True),
)
async def conformance(request: Request, p: DocParams) -> Response:
    if p.format == OgcFormat.html:
        return h.html_page(
            request,
            title="Conformance",
            lang=p.lang,
            rows=[{"class": c} for c in CONFORMANCE],
            columns=["class"],
            links=h.json_and_html_links(request, True),
        )
    return JSONResponse({"links": h.json_and_html_links(request, False), "conformsTo": list(CONFORMANCE)})
