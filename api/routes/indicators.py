"""/indicators: the indicator catalog, values per commune, imports (history and upload).

Reads are public; an upload needs an API key (X-API-Key header, or Authorization: Bearer KEY),
created with `geoborder indicators add-key NAME`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, HTTPException, Query, Request, UploadFile

from geoborder.indicators.catalog import load_indicators
from geoborder.indicators.db import IndicatorStore
from geoborder.indicators.importing import ImportRejected, import_file
from geoborder.indicators.values import reform_values

from ..deps import LangDep, StoreDep
from ..responses import JSONResponse

router = APIRouter(tags=["indicators"])
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def get_indicators(request: Request) -> IndicatorStore:
    db = getattr(request.app.state, "indicators", None)
    if db is None:
        raise HTTPException(503, "the indicator database is not open")
    return db


IndicatorsDep = Annotated[IndicatorStore, Depends(get_indicators)]


def require_key(
    db: IndicatorsDep,
    x_api_key: Annotated[str | None, Header(description="API key for uploads")] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """The name of the caller's API key: 401 without a key, 403 with a key that is not valid."""
    key = x_api_key
    if not key and authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    if not key:
        raise HTTPException(
            401,
            "an API key is needed to upload: send it as the X-API-Key header",
            headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
        )
    name = db.check_key(key)
    if name is None:
        raise HTTPException(403, "this API key is not valid")
    return name


@dataclass
class ValuesParams:
    year: Annotated[
        int | None,
        Query(
            ge=1990,
            le=2100,
            description="Year of the values; without it each commune's latest year.",
            openapi_examples={"2024": {"value": 2024}},
        ),
    ] = None
    vintage: Annotated[
        int,
        Query(
            description="Units the values are shown on: 2025 communes or pre-2025 (2009 census) communes.",
            openapi_examples={"2025": {"value": 2025}, "2009": {"value": 2009}},
        ),
    ] = 2025
    source_vintage: Annotated[
        int | None,
        Query(
            description="Units the imported table is keyed by (default: vintage). "
            "source_vintage=2009 with vintage=2025 shows a pre-2025 table on 2025 "
            "communes through the official crosswalk, with flags.",
            openapi_examples={"pre-2025 on 2025": {"value": 2009}},
        ),
    ] = None

    def __post_init__(self):
        if self.vintage not in (2025, 2009):
            raise HTTPException(400, "vintage must be 2025 or 2009")
        if self.source_vintage not in (None, 2025, 2009):
            raise HTTPException(400, "source_vintage must be 2025 or 2009")
        if self.source_vintage == 2025 and self.vintage == 2009:
            raise HTTPException(400, "2025 values cannot be shown on pre-2025 units (a 2025 commune is not split)")


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@router.get("/indicators", summary="The indicator catalog: reported and computed indicators")
def indicator_list(lang: LangDep) -> dict:
    cat = load_indicators()
    return {"indicators": [i.describe(lang) for i in cat.indicators]}


@router.get("/indicators/imports", summary="Every import (version): file, checksum, time, who, summary")
def import_list(db: IndicatorsDep) -> dict:
    out = []
    for r in db.imports():
        rep = r.pop("report")
        r["summary"] = rep.get("summary")
        r["indicators"] = rep.get("indicators")
        r["years"] = rep.get("years")
        out.append(r)
    return {"imports": out}


@router.get("/indicators/imports/{import_id}", summary="One import with its full report")
def import_detail(import_id: int, db: IndicatorsDep) -> dict:
    return db.get_import(import_id)


@router.post(
    "/indicators/imports",
    status_code=201,
    summary="Upload an indicator table (CSV or XLSX, wide or long); needs an API key",
    responses={
        401: {"description": "no API key"},
        403: {"description": "wrong API key"},
        409: {"description": "this file was already imported"},
        422: {"description": "the file has problems; nothing was written (the report lists them)"},
    },
)
def import_upload(
    store: StoreDep,
    db: IndicatorsDep,
    who: Annotated[str, Depends(require_key)],
    file: Annotated[UploadFile, File(description="the table: .csv (UTF-8) or .xlsx")],
    vintage: Annotated[
        int, Form(description="units the table is keyed by: 2025, or 2009 for pre-2025 communes")
    ] = 2025,
    year: Annotated[int | None, Form(description="year of the values when the table has no year column")] = None,
    skip_unmatched: Annotated[bool, Form(description="import matched rows, report the others")] = False,
):
    if vintage not in (2025, 2009):
        raise HTTPException(400, "vintage must be 2025 or 2009")
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"the file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    try:
        report = import_file(
            store,
            db,
            data,
            file.filename or "upload",
            vintage=vintage,
            year=year,
            who=who,
            skip_unmatched=skip_unmatched,
        )
    except ImportRejected as exc:
        status = 409 if exc.report.get("kind") == "duplicate_file" else 422
        return JSONResponse(
            {"code": "ImportRejected", "description": exc.report.get("message", ""), "report": exc.report},
            status_code=status,
        )
    return JSONResponse(report, status_code=201)


@router.get("/indicators/links", summary="How pre-2025 (2009 census) units link to GSO 2024 codes and 2025 communes")
def reform_links(
    store: StoreDep,
    status: Annotated[
        str | None, Query(pattern="^(code|group|unlinked)$", description="only the units with this link status")
    ] = None,
) -> dict:
    from geoborder.indicators.reform import links_for

    links = links_for(store)
    units = links.units if status is None else links.units[links.units["status"] == status]
    names = store.frame("communes_2009").drop(columns="geometry").set_index("commune_code")
    rows = [
        {
            "commune_code": code,
            "name": names.at[code, "name"],
            "district": names.at[code, "district_name"],
            "province": names.at[code, "province_name"],
            "status": r["status"],
            "method": r["method"] or None,
            "code2024": r["code2024"] if isinstance(r["code2024"], str) else None,
            "candidates_2024": list(r["candidates"]),
            "communes_2025": list(r["targets"]),
            "partly_merged": bool(r["partly"]),
            "reason": r["reason"] or None,
        }
        for code, r in units.iterrows()
    ]
    return {"summary": links.summary, "count": len(rows), "units": rows}


@router.get("/indicators/{name}/values", summary="Values of one indicator per commune")
def indicator_values(
    name: str, store: StoreDep, request: Request, lang: LangDep, params: Annotated[ValuesParams, Depends()]
) -> dict:
    from geoborder.indicators import computed as indicator_compute

    ind = load_indicators().get(name)
    units = store.frame(f"communes_{params.vintage}").drop(columns="geometry").set_index("commune_code")
    src = params.source_vintage or params.vintage
    rows = []
    extra: dict = {}
    if ind.source == "computed":
        if params.source_vintage not in (None, params.vintage):
            raise HTTPException(400, f"{name} is computed on the units themselves: leave source_vintage out")
        s = indicator_compute.compute(store, params.vintage, [name])[name]
        for code, v in s.items():
            rows.append({"commune_code": code, "name": units.at[code, "name"], "value": _clean(float(v))})
    elif src == params.vintage:
        cur = get_indicators(request).current(name, vintage=params.vintage, year=params.year)
        for r in cur.itertuples(index=False):
            rows.append(
                {
                    "commune_code": r.commune_code,
                    "name": units.at[r.commune_code, "name"] if r.commune_code in units.index else None,
                    "year": int(r.year),
                    "value": _clean(float(r.value)),
                    "version": int(r.import_id),
                }
            )
    else:
        df = reform_values(store, get_indicators(request), name, year=params.year)
        for code, r in df.iterrows():
            rows.append(
                {
                    "commune_code": code,
                    "name": units.at[code, "name"] if code in units.index else None,
                    "value": _clean(r["value"]),
                    "complete": bool(r["complete"]),
                    "partial": bool(r["partial"]),
                    "sources": list(r["sources"]),
                    "partial_sources": list(r["partial_sources"]),
                    "missing_sources": list(r["missing_sources"]),
                    "unlinked_2024_codes": list(r["unlinked_2024_codes"]),
                }
            )
        extra["aggregation"] = ind.aggregation
        extra["note"] = (
            "pre-2025 values shown on 2025 communes through the GSO crosswalk; a sum over a "
            "partly merged source is not split (value null, partial true)"
        )
    return {
        "indicator": ind.describe(lang),
        "vintage": params.vintage,
        "source_vintage": src,
        "year": params.year,
        "count": len(rows),
        "values": rows,
        **extra,
    }
