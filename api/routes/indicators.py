"""/indicators: the indicator catalog, values per commune, imports (history and upload).

Reads are public; an upload needs an API key (X-API-Key header, or Authorization: Bearer KEY),
created with `geoborder indicators add-key NAME`. Errors are library errors (geoborder.core.errors,
ImportRejected), answered by the one error map of api/errors.py.

`UploadGuard` (installed by create_app) refuses an upload by its headers before a byte of its body
is read: too large by Content-Length (413), no key (401), a key that is not valid (403); and
stops reading a body without Content-Length once it passes the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geoborder.core.errors import Forbidden, GeoborderError, PayloadTooLarge, Unauthorized, Unavailable
from geoborder.indicators.catalog import load_indicators
from geoborder.indicators.importing import import_file
from geoborder.indicators.values import check_vintages, reform_links_json, value_rows

from ..deps import IndicatorsDep, LangDep, OptionalIndicatorsDep, StoreDep
from ..errors import error_response
from ..responses import JSONResponse

router = APIRouter(tags=["indicators"])
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_PATH = "/indicators/imports"
# the whole multipart body: the file plus its part headers and the form fields
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
_TOO_LARGE = f"the file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB"


def _key_of(x_api_key: str | None, authorization: str | None) -> str | None:
    key = x_api_key
    if not key and authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    return key or None


def _check_key(db, key: str | None) -> str:
    """The name of the caller's API key: 401 without a key, 403 with a key that is not valid."""
    if not key:
        raise Unauthorized("an API key is needed to upload: send it as the X-API-Key header")
    name = db.check_key(key)
    if name is None:
        raise Forbidden("this API key is not valid")
    return name


def require_key(
    request: Request,
    db: IndicatorsDep,
    x_api_key: Annotated[str | None, Header(description="API key for uploads")] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """The name of the caller's API key (UploadGuard has checked it before the body was read)."""
    checked = request.scope.get("state", {}).get("upload_key_name")
    return checked if checked is not None else _check_key(db, _key_of(x_api_key, authorization))


class UploadGuard:
    """Pure ASGI, ahead of the multipart parsing: POST /indicators/imports is refused by its
    headers, before its body is read (a 200 MB body is not received to be refused, and no
    scrypt key check waits for it). A body without Content-Length is counted as it arrives, and
    reading stops at the limit with 413."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            name = await self._check(request)
        except GeoborderError as exc:
            response = error_response(request, exc)
            response.headers["Connection"] = "close"  # the unread body is not waited for
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["upload_key_name"] = name
        await self.app(scope, self._counting(receive), send)

    @staticmethod
    async def _check(request: Request) -> str:
        length = request.headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > MAX_BODY_BYTES:
            raise PayloadTooLarge(_TOO_LARGE)
        db = getattr(request.app.state, "indicators", None)
        if db is None:
            raise Unavailable("the indicator database is not open")
        key = _key_of(request.headers.get("x-api-key"), request.headers.get("authorization"))
        return await run_in_threadpool(_check_key, db, key)  # scrypt: off the event loop

    @staticmethod
    def _counting(receive: Receive) -> Receive:
        read = 0

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > MAX_BODY_BYTES:
                    # an HTTPException passes FastAPI's body parsing as it is (anything else becomes a 400)
                    raise HTTPException(413, _TOO_LARGE, headers={"Connection": "close"})
            return message

        return counted


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
        check_vintages(self.vintage, self.source_vintage)


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
    check_vintages(vintage, None)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(_TOO_LARGE)
    # ImportRejected (nothing written): 409 for a file already imported, else 422, with the report
    report = import_file(
        store, db, data, file.filename or "upload", vintage=vintage, year=year, who=who, skip_unmatched=skip_unmatched
    )
    return JSONResponse(report, status_code=201)


@router.get("/indicators/links", summary="How pre-2025 (2009 census) units link to GSO 2024 codes and 2025 communes")
def reform_links(
    store: StoreDep,
    status: Annotated[
        str | None, Query(pattern="^(code|group|unlinked)$", description="only the units with this link status")
    ] = None,
) -> JSONResponse:
    return JSONResponse(reform_links_json(store, status))  # built once per data version and crosswalk


@router.get("/indicators/{name}/values", summary="Values of one indicator per commune")
def indicator_values(
    name: str, store: StoreDep, db: OptionalIndicatorsDep, lang: LangDep, params: Annotated[ValuesParams, Depends()]
) -> dict:
    ind = load_indicators().get(name)
    rows, extra = value_rows(
        store, db, name, vintage=params.vintage, year=params.year, source_vintage=params.source_vintage
    )
    return {
        "indicator": ind.describe(lang),
        "vintage": params.vintage,
        "source_vintage": params.source_vintage or params.vintage,
        "year": params.year,
        "count": len(rows),
        "values": rows,
        **extra,
    }
