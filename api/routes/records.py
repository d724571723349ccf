"""/records: the border's own records (issue 16): gate events and states, crossings per gate
and period, marker inspections, cooperation between provinces.

Reads are public; an upload needs an API key, the same keys as indicator uploads (they live in
the same database). The logic is in geoborder.records; errors are library errors answered by
api/errors.py (ImportRejected: 422 with the report, 409 for a file already imported).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from geoborder.core.errors import PayloadTooLarge
from geoborder.core.text import fold
from geoborder.records.cooperation import cooperation
from geoborder.records.crossings import GROUPS, PERIODS, crossing_totals
from geoborder.records.db import RecordsStore
from geoborder.records.gates import check_class, gate_state, gates_at
from geoborder.records.importing import import_records, kind_of
from geoborder.records.kinds import KINDS
from geoborder.records.markers import marker_history, markers, uninspected_since
from geoborder.records.open import records_for

from ..deps import IndicatorsDep, StoreDep
from ..responses import JSONResponse
from .indicators import MAX_UPLOAD_BYTES, require_key

router = APIRouter(tags=["records"])

AtQuery = Annotated[
    str | None,
    Query(
        description="The date (2023-06-01 or 01/06/2023; a month or a year counts from its first day); default today.",
        openapi_examples={"2023-06-01": {"value": "2023-06-01"}},
    ),
]
BorderQuery = Annotated[
    str | None, Query(description="VN-LA, VN-CN or VN-KH", openapi_examples={"VN-LA": {"value": "VN-LA"}})
]
ProvinceQuery = Annotated[
    str | None,
    Query(description="A province name, with or without diacritics", openapi_examples={"Sơn La": {"value": "Sơn La"}}),
]


def records(db: IndicatorsDep) -> RecordsStore:
    """The records of the app's indicator database."""
    return records_for(db)


RecordsDep = Annotated[RecordsStore, Depends(records)]


@router.get("/records/imports", summary="Every records import (version): kind, file, checksum, time, who, summary")
def record_imports(
    rdb: RecordsDep,
    kind: Annotated[
        str | None,
        Query(description=f"only imports of this kind: {', '.join(KINDS)}", json_schema_extra={"enum": list(KINDS)}),
    ] = None,
) -> dict:
    if kind is not None:
        kind_of(kind)
    out = []
    for r in rdb.imports(kind):
        rep = r.pop("report")
        out.append({**r, "summary": rep.get("summary")})
    return {"imports": out}


@router.get("/records/imports/{import_id}", summary="One records import with its full report")
def record_import(import_id: int, rdb: RecordsDep) -> dict:
    return rdb.get_import(import_id)


@router.post(
    "/records/imports",
    status_code=201,
    summary="Upload border records (CSV or XLSX) of one kind; needs an API key",
    responses={
        401: {"description": "no API key"},
        403: {"description": "wrong API key"},
        409: {"description": "this file was already imported"},
        422: {"description": "the file has problems; nothing was written (the report lists them)"},
    },
)
def record_upload(
    store: StoreDep,
    rdb: RecordsDep,
    who: Annotated[str, Depends(require_key)],
    file: Annotated[UploadFile, File(description="the table: .csv (UTF-8) or .xlsx")],
    kind: Annotated[str, Form(description=f"what the file holds: {', '.join(KINDS)}")],
    skip_unmatched: Annotated[bool, Form(description="import matched rows, report the others")] = False,
):
    kind_of(kind)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    report = import_records(
        store, rdb, data, file.filename or "upload", kind=kind, who=who, skip_unmatched=skip_unmatched
    )
    return JSONResponse(report, status_code=201)


@router.get("/records/gates", summary="Every crossing point's class and status at a date")
def gates(
    store: StoreDep,
    rdb: RecordsDep,
    at: AtQuery = None,
    in_operation: Annotated[
        bool | None, Query(description="only those open (or listed, no event known), or only the others")
    ] = None,
    gate_class: Annotated[
        str | None, Query(alias="class", description="only this class: international, main, secondary, opening")
    ] = None,
    province: ProvinceQuery = None,
) -> dict:
    cls = check_class(gate_class)
    out = gates_at(store, rdb, at, in_operation=in_operation)
    if cls:
        out = [g for g in out if g["class"] == cls]
    if province:
        out = [g for g in out if fold(str(g["province"])) == fold(province)]
    return {"at": out[0]["at"] if out else at, "count": len(out), "gates": out}


@router.get("/records/gates/{gate_id}", summary="One crossing point's class and status at a date, and its events")
def gate(gate_id: str, store: StoreDep, rdb: RecordsDep, at: AtQuery = None) -> dict:
    return gate_state(store, rdb, gate_id, at=at)


@router.get("/records/crossings", summary="Crossing totals per gate, province, partner country and period")
def crossings(
    store: StoreDep,
    rdb: RecordsDep,
    by: Annotated[
        str, Query(description=f"one of {', '.join(GROUPS)}", json_schema_extra={"enum": list(GROUPS)})
    ] = "gate",
    period: Annotated[
        str, Query(description=f"one of {', '.join(PERIODS)}", json_schema_extra={"enum": list(PERIODS)})
    ] = "year",
    gate: Annotated[str | None, Query(description="a gate id or name")] = None,
    province: ProvinceQuery = None,
    partner: Annotated[str | None, Query(description="LAO, CHN or KHM")] = None,
    start: Annotated[str | None, Query(description="first period, as written: 2023, 2023-Q2, 2023-05")] = None,
    end: Annotated[str | None, Query(description="last period, as written")] = None,
) -> dict:
    return crossing_totals(
        store, rdb, by=by, period=period, gate=gate, province=province, partner=partner, start=start, end=end
    )


@router.get(
    "/records/markers", summary="Every marker with its latest condition (the pack's and those known only by number)"
)
def marker_list(
    store: StoreDep,
    rdb: RecordsDep,
    condition: Annotated[str | None, Query(description="intact, damaged, displaced, lost, rebuilt")] = None,
    border: BorderQuery = None,
    province: ProvinceQuery = None,
) -> dict:
    out = markers(store, rdb, condition=condition, border=border, province=province)
    return {"count": len(out), "markers": out}


@router.get("/records/markers/uninspected", summary="Markers not inspected since a date")
def markers_uninspected(
    store: StoreDep,
    rdb: RecordsDep,
    since: Annotated[str, Query(description="the date", openapi_examples={"2025-01-01": {"value": "2025-01-01"}})],
    border: BorderQuery = None,
    province: ProvinceQuery = None,
) -> dict:
    return uninspected_since(store, rdb, since, border=border, province=province)


@router.get("/records/markers/{marker}/history", summary="Every inspection of one marker")
def marker_inspections(
    marker: str, store: StoreDep, rdb: RecordsDep, border: BorderQuery = None, province: ProvinceQuery = None
) -> dict:
    return marker_history(store, rdb, marker, border=border, province=province)


@router.get("/records/cooperation", summary="A province's partner provinces, and which of them share its border")
def cooperation_of(
    store: StoreDep,
    rdb: RecordsDep,
    province: Annotated[
        str, Query(description="a Vietnamese (2025) province", openapi_examples={"Sơn La": {"value": "Sơn La"}})
    ],
    partner_country: Annotated[str | None, Query(description="LAO, CHN or KHM")] = None,
) -> dict:
    return cooperation(store, rdb, province, partner_country=partner_country)
