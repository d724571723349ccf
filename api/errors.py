"""One map from library exceptions to HTTP answers, installed by create_app.

Every error body is `{"code": ..., "description": ...}` (the OGC exception schema); a rejected
import adds its `report`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from geoborder.core.errors import (
    CatalogError,
    Forbidden,
    GeoborderError,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    StoreError,
    Unauthorized,
    Unavailable,
)
from geoborder.indicators.importing import ImportRejected

from .responses import JSONResponse

log = logging.getLogger("geoborder.api")

# library error -> (status, code): the first class that matches wins, so subclasses come first
STATUS: dict[type[GeoborderError], tuple[int, str]] = {
    ImportRejected: (422, "ImportRejected"),
    InvalidParameter: (400, "InvalidParameterValue"),
    Unauthorized: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "NotFound"),
    PayloadTooLarge: (413, "PayloadTooLarge"),
    Unavailable: (503, "Unavailable"),
    StoreError: (503, "StoreUnavailable"),
    CatalogError: (500, "ServerError"),
}
# the one way to send an API key (see api/routes/indicators.py)
HEADERS = {Unauthorized: {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}}
# 5xx errors whose message the caller may read; any other is logged and not described
PUBLIC_5XX = (Unavailable,)
# codes of the framework's own answers (unknown path, method not allowed, a body that is not a
# form ...); any other status gets its reason phrase in CamelCase (413 "ContentTooLarge")
HTTP_CODES = {
    400: "InvalidRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    413: "PayloadTooLarge",
    414: "URITooLong",
    415: "UnsupportedMediaType",
}
HIDDEN = "the server could not answer; the error is logged"


def http_code(status: int) -> str:
    """The `code` of an error body for an HTTP status."""
    if status in HTTP_CODES:
        return HTTP_CODES[status]
    try:
        return "".join(w[:1].upper() + w[1:] for w in HTTPStatus(status).phrase.replace("-", " ").split())
    except ValueError:
        return "ServerError" if status >= 500 else "InvalidRequest"


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """The methods of the path that matched, as the OpenAPI document lists them (the framework's
    405 names only the first route it tried: GET on /indicators/imports, which also takes POST).
    Where a literal path and a templated one both match (/collections/gates_unplaced/items and
    /collections/{collectionId}/items), the literal one is the resource, as in OpenAPI's path
    matching: its methods only. Asked of the routes' own `matches` (only on a 405)."""
    by_path: dict[str, set[str]] = {}
    for r in iter_route_contexts(request.app.routes):  # through the included routers
        methods = r.methods
        if not methods or not getattr(r, "include_in_schema", True):
            continue
        for m in METHODS:
            if m in methods and r.matches({**request.scope, "method": m})[0] is Match.FULL:
                by_path.setdefault(r.path or "", set()).add(m)
    if not by_path:
        return ""
    # the most literal template: fewest {parameters}, then the longest literal text
    path = min(by_path, key=lambda p: (p.count("{"), -len(p.replace("{", "").replace("}", ""))))
    allowed = [m for m in METHODS if m in by_path[path]]
    if "GET" in allowed:
        allowed.insert(1, "HEAD")  # api/caching.py HeadMiddleware
    return ", ".join(allowed)


def _body(status: int, code: str, description: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse({"code": code, "description": description, **extra}, status_code=status, headers=headers)


def error_response(request: Request, exc: GeoborderError) -> JSONResponse:
    """The answer to a library error."""
    status, code = next((mapped for cls, mapped in STATUS.items() if isinstance(exc, cls)), (500, "ServerError"))
    if isinstance(exc, ImportRejected):
        status = 409 if exc.report.get("kind") == "duplicate_file" else status
        return _body(status, code, exc.report.get("message", ""), report=exc.report)
    if status >= 500 and not isinstance(exc, PUBLIC_5XX):
        log.error("%s %s failed: %r", request.method, request.url.path, exc, exc_info=exc)
        return _body(status, code, HIDDEN)
    headers = next((h for cls, h in HEADERS.items() if isinstance(exc, cls)), None)
    return _body(status, code, str(exc), headers)


def status_of(exc: GeoborderError) -> int:
    """The HTTP status of a library error (STATUS; 500 for one it does not name)."""
    return next((status for cls, (status, _) in STATUS.items() if isinstance(exc, cls)), 500)


def validation_detail(exc: RequestValidationError) -> str:
    """A request validation error as one line: `name: message; ...`."""
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path"))
        parts.append(f"{loc}: {e.get('msg')}")
    return "; ".join(parts) or "invalid request"


ErrorPage = Callable[[Request, int, str, Exception], Response]


def html_error_route(page: ErrorPage, wants_html: Callable[[Request], bool] = lambda request: True) -> type[APIRoute]:
    """A route class for pages people read (maps, answers, reviews): when `wants_html(request)`, a
    4xx — an invalid parameter or a library error — is `page(request, status, detail, exc)` (an HTML
    page in the page's language with a way back) instead of the JSON of the error map; 5xx and
    requests for JSON go to the error map as everywhere else."""

    class HtmlErrorRoute(APIRoute):
        def get_route_handler(self):
            handler = super().get_route_handler()

            async def route(request: Request):
                if not wants_html(request):
                    return await handler(request)
                try:
                    return await handler(request)
                except RequestValidationError as exc:
                    return page(request, 400, validation_detail(exc), exc)
                except GeoborderError as exc:
                    status = status_of(exc)
                    if status >= 500:
                        raise
                    return page(request, status, str(exc), exc)

            return route

    return HtmlErrorRoute


def install(app: FastAPI) -> None:
    @app.exception_handler(GeoborderError)
    async def _library_error(request: Request, exc: GeoborderError):
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path"))
            parts.append(f"{loc}: {e.get('msg')}")
        return _body(400, "InvalidParameterValue", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        # keep the framework's headers, with the Allow of a 405 naming every route's methods
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return _body(exc.status_code, http_code(exc.status_code), str(exc.detail), headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _body(500, "ServerError", HIDDEN)
