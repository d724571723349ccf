"""One map from library exceptions to HTTP answers, installed by create_app."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from geoborder.core.errors import CatalogError, GeoborderError, InvalidParameter, NotFound, StoreError

from .responses import JSONResponse

log = logging.getLogger("geoborder.api")

STATUS = {
    InvalidParameter: (400, "InvalidParameterValue"),
    NotFound: (404, "NotFound"),
    StoreError: (503, "StoreUnavailable"),
    CatalogError: (500, "ServerError"),
}


def _body(status: int, code: str, description: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "description": description}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(GeoborderError)
    async def _library_error(request: Request, exc: GeoborderError):
        status, code = next((mapped for cls, mapped in STATUS.items() if isinstance(exc, cls)), (500, "ServerError"))
        if status >= 500:
            log.error("%s %s failed: %r", request.method, request.url.path, exc, exc_info=exc)
            return _body(status, code, "the server could not answer; the error is logged")
        return _body(status, code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path"))
            parts.append(f"{loc}: {e.get('msg')}")
        return _body(400, "InvalidParameterValue", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {
            401: "Unauthorized",
            403: "Forbidden",
            404: "NotFound",
            405: "MethodNotAllowed",
            406: "NotAcceptable",
        }.get(exc.status_code, "Error")
        # keep the handler's headers: WWW-Authenticate on a 401, Allow on a 405
        return _body(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _body(500, "ServerError", "the server could not answer; the error is logged")
