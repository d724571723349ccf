"""/reports: border-area reports over a period (HTML, PDF, XLSX, JSON), saved named areas and
targets. Reads are public; saving an area and importing targets need an API key (as uploads of
indicator tables). The logic is geoborder.reports; errors are library errors (api/errors.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from geoborder.core.errors import InvalidParameter
from geoborder.reports.areas import resolve_area
from geoborder.reports.cache import cached_document, cached_report, data_key
from geoborder.reports.crossings import records_provider
from geoborder.reports.documents import review_html, review_pdf
from geoborder.reports.figures import build_report, public
from geoborder.reports.saved import ReportsDB
from geoborder.reports.targets import import_targets, targets_for

from ..deps import IndicatorsDep, StoreDep
from ..responses import JSONResponse
from .indicators import require_key
from .report_errors import ReviewPageRoute

router = APIRouter(prefix="/reports", tags=["reports"])
pages = APIRouter(tags=["reports"], route_class=ReviewPageRoute)  # HTML errors; included at the end
FORMATS = {"html", "json", "pdf", "xlsx"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def reports_db(request: Request, db: IndicatorsDep) -> ReportsDB:
    """The saved areas and targets beside the app's indicator database (opened once per app)."""
    cached = getattr(request.app.state, "reports_db", None)
    if cached is None or cached[0] is not db:
        cached = (db, ReportsDB.beside(db))
        request.app.state.reports_db = cached
    return cached[1]


ReportsDep = Annotated[ReportsDB, Depends(reports_db)]


def _file_name(area, start: int, end: int, ext: str) -> str:
    import re

    from geoborder.core.text import fold

    slug = re.sub(r"[^a-z0-9]+", "_", fold(area.title("en"))).strip("_")[:60] or "area"
    return f"{slug}_{start}_{end}.{ext}"


@pages.get(
    "/review",
    summary="A border-area report over a period",
    response_class=HTMLResponse,  # f=html (default); its errors are pages too (report_errors.py)
    responses={200: {"content": {"application/json": {}, "application/pdf": {}, XLSX: {}}}},
)
def review(
    store: StoreDep,
    db: IndicatorsDep,
    saved: ReportsDep,
    area: Annotated[
        str,
        Query(
            description="border, border:<province>, communes:<codes>, districts:<names>, zone:<km> or saved:<name>",
            examples=["border:Sơn La"],
        ),
    ],
    start: Annotated[int, Query(alias="from", description="first year", examples=[2017])],
    end: Annotated[int, Query(alias="to", description="last year", examples=[2025])],
    indicator: Annotated[
        list[str], Query(description="reported indicators (repeat the parameter)", examples=[["poor_households"]])
    ],
    threshold: Annotated[
        list[str] | None, Query(description="e.g. new_rural_criteria_met>=10, road_to_centre_hardened=yes")
    ] = None,
    f: Annotated[str, Query(description="html (default), json, pdf or xlsx")] = "html",
    lang: Annotated[str, Query(pattern="^(vi|en)$", description="vi (default) or en")] = "vi",
):
    if f not in FORMATS:
        raise InvalidParameter(f"f must be one of {', '.join(sorted(FORMATS))}")
    key = (*data_key(store, db, saved), area, tuple(indicator), start, end, tuple(threshold or ()))

    def make() -> tuple:
        a = resolve_area(store, area, saved=saved)
        report = build_report(
            store,
            db,
            a,
            indicator,
            start,
            end,
            thresholds=threshold or (),
            targets=targets_for(store, saved, a),
            crossings=records_provider(db),
        )
        return a, report

    a, report = cached_report(key, make)
    if f == "json":
        return JSONResponse(public(report))
    if f == "pdf":  # the PDF and the HTML are drawn in the document process (issue 18)
        name = _file_name(a, start, end, "pdf")
        return Response(
            cached_document((*key, f, lang), lambda: review_pdf(store, report, lang)),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if f == "xlsx":
        from geoborder.reports.xlsx import write_xlsx

        name = _file_name(a, start, end, "xlsx")
        return Response(
            cached_document((*key, f, lang), lambda: write_xlsx(report, lang)),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return HTMLResponse(cached_document((*key, f, lang), lambda: review_html(store, report, lang)))


@router.get("/areas", summary="Saved named areas")
def list_areas(saved: ReportsDep):
    return {"areas": saved.areas()}


@router.get("/areas/{name}", summary="One saved area with its communes")
def get_area(name: str, saved: ReportsDep):
    return saved.get_area(name)


@router.post("/areas", status_code=201, summary="Save a named area (API key)")
def save_area(
    store: StoreDep,
    saved: ReportsDep,
    who: Annotated[str, Depends(require_key)],
    name: Annotated[str, Form(description="the name, e.g. khu vực giáp ranh Si Ma Cai – Bắc Hà – Xín Mần")],
    area: Annotated[str, Form(description="the area as text, e.g. districts:Si Ma Cai;Bắc Hà;Xín Mần")],
    replace: Annotated[bool, Form()] = False,
):
    a = resolve_area(store, area, saved=saved)
    return saved.save_area(name, a, who=who, replace=replace)


@router.delete("/areas/{name}", status_code=204, summary="Delete a saved area (API key)")
def delete_area(name: str, saved: ReportsDep, who: Annotated[str, Depends(require_key)]) -> Response:
    saved.delete_area(name)
    return Response(status_code=204)


@router.get("/targets", summary="Current targets and the target imports")
def list_targets(saved: ReportsDep):
    return {"targets": saved.current_targets(), "imports": saved.target_imports()}


@router.post("/targets/imports", status_code=201, summary="Import a target table (API key)")
async def upload_targets(
    store: StoreDep,
    saved: ReportsDep,
    who: Annotated[str, Depends(require_key)],
    file: Annotated[UploadFile, File(description="CSV or XLSX: indicator, area, year, value [, op]")],
):
    data = await file.read()
    return await run_in_threadpool(import_targets, store, saved, data, file.filename or "targets.csv", who=who)


router.include_router(pages)
