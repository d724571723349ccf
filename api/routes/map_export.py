"""/maps/{indicator}/export: a map as a printable PDF or PNG sheet (A4/A3, portrait/landscape),
with the same map parameters as the page (MapParams), so the sheet is exactly the map the page
shows. The drawing is geoborder.reports.mapsheet."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from geoborder.maps import change as X
from geoborder.reports import mapsheet

from ..caching import cache_headers
from ..deps import LangDep, OptionalIndicatorsDep, StoreDep
from ..map_params import MapParamsDep

router = APIRouter(tags=["maps"])


class ExportFormat(StrEnum):
    pdf = "pdf"
    png = "png"


class Paper(StrEnum):
    A4 = "A4"
    A3 = "A3"


class Orientation(StrEnum):
    portrait = "portrait"
    landscape = "landscape"


@router.get(
    "/maps/{indicator}/export",
    name="map_export",
    summary="The map as a printable sheet: PDF or PNG, A4 or A3, portrait or landscape",
    description="Title and subtitle (indicator, area, year, unit vintage), the map with the border, gates "
    "and partner units, the legend with the unit and each class's bounds, a scale bar (km), a north "
    "arrow, the sources and licences, the data version and date, in the language asked; national maps "
    "show Hoàng Sa and Trường Sa in an inset. The same map parameters as the page /maps/{indicator}.",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/png": {}}}},
)
def export(
    request: Request,
    store: StoreDep,
    db: OptionalIndicatorsDep,
    p: MapParamsDep,
    lang: LangDep,
    indicator: Annotated[str, Path(description="Indicator name", openapi_examples={"density": {"value": "density"}})],
    format: Annotated[ExportFormat, Query(description="pdf (default) or png")] = ExportFormat.pdf,
    paper: Annotated[Paper, Query(description="A4 (default) or A3")] = Paper.A4,
    orientation: Annotated[Orientation, Query(description="portrait (default) or landscape")] = Orientation.portrait,
) -> Response:
    ch = X.map_of(store, db, p.spec(indicator))
    sheet = mapsheet.render(store, ch, fmt=format.value, paper=paper.value, orientation=orientation.value, lang=lang)
    return Response(
        sheet.data,
        media_type=sheet.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{sheet.file_name}"',
            "X-Data-Version": ch.version,
            **cache_headers(request),
        },
    )
