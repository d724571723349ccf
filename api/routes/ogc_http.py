"""Shared pieces of the OGC API - Features routers: media types, links, HTML pages, conditional GET."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
GPKG = "application/geopackage+sqlite3"
CSV = "text/csv"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


class GeoJSONResponse(Response):
    media_type = GEOJSON


class RawJSONResponse(Response):
    media_type = JSON


def href(request: Request, path: str, **params) -> str:
    """An absolute URL on this server (path from the app root) with query parameters."""
    base = str(request.base_url).rstrip("/")
    q = {k: v for k, v in params.items() if v is not None}
    return base + path + ("?" + urlencode(q) if q else "")


def self_href(request: Request, **override) -> str:
    """The request's own URL with some query parameters replaced (None removes one)."""
    params = dict(request.query_params)
    for k, v in override.items():
        k = k.replace("_", "-") if k in ("bbox_crs", "filter_lang", "filter_crs") else k
        if v is None:
            params.pop(k, None)
        else:
            params[k] = str(v)
    return href(request, request.url.path, **params)


def link(href_: str, rel: str, type_: str, title: str | None = None, **extra) -> dict:
    d = {"href": href_, "rel": rel, "type": type_}
    if title:
        d["title"] = title
    d.update(extra)
    return d


def json_and_html_links(request: Request, fmt_is_html: bool, json_type: str = JSON) -> list[dict]:
    """self + alternate for a document offered as JSON and HTML."""
    as_json = self_href(request, f="json")
    as_html = self_href(request, f="html")
    if fmt_is_html:
        return [
            link(as_html, "self", HTML, "This document"),
            link(as_json, "alternate", json_type, "This document as JSON"),
        ]
    return [
        link(self_href(request), "self", json_type, "This document"),
        link(as_html, "alternate", HTML, "This document as HTML"),
    ]


def html_page(
    request: Request,
    *,
    title: str,
    lang: str = "vi",
    description: str | None = None,
    summary: str | None = None,
    columns: list[str] | None = None,
    rows: list[dict] | None = None,
    items: list[tuple[str, object]] | None = None,
    links: list[dict] | None = None,
) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request,
        "ogc_page.html",
        {
            "title": title,
            "lang": lang,
            "description": description,
            "summary": summary,
            "columns": columns or [],
            "rows": rows or [],
            "items": items or [],
            "links": links or [],
        },
    )


def accepts_gzip(request: Request) -> bool:
    """The client takes gzip (Accept-Encoding: gzip, not with q=0)."""
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


GZIP_HEADERS = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}


def content_crs(uri: str) -> dict[str, str]:
    return {"Content-Crs": f"<{uri}>"}


# --------------------------------------------------------------------------- conditional GET


class PinVersionMiddleware:
    """Every request is answered from one data version: a store that can switch versions under
    a running worker (PostgisStore) pins its current snapshot for the whole request, so the
    ETag, cache keys and body agree. Stores without `pinned` pass through."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        store = getattr(scope["app"].state, "store", None) if scope["type"] == "http" else None
        pinned = getattr(store, "pinned", None)
        if pinned is None:
            await self.app(scope, receive, send)
            return
        with pinned():
            await self.app(scope, receive, send)


class ConditionalGetMiddleware:
    """ETag from (data version, indicator revision, path, query, Accept, Accept-Language) + Cache-Control.

    The ETag is known before the handler runs, so If-None-Match is answered with 304 without
    computing or streaming the body. Only for the read-only OGC documents (`PATHS`).

    `fast`: optional `fast(scope, indicator_revision) -> Response | None`, tried before the app for
    the OGC documents; it answers the common cases of a hot route directly (one feature by id,
    see ogc_items.fast_item) and returns None for anything else, which then goes to the app.
    Its responses get the same ETag and Cache-Control, and pass the same outer middlewares.
    """

    # the OGC documents only: other routes under /collections (tiles, maps) may depend on more than
    # the store version (e.g. indicator values), so they are left alone
    PATHS = re.compile(r"^/(conformance|api|collections(/[^/]+(/queryables|/items(/[^/]+)?)?)?)?/?$")

    def __init__(self, app: ASGIApp, max_age: int = 300, fast=None):
        self.app = app
        self.max_age = max_age
        self.cache_control = f"public, max-age={max_age}".encode()
        self.fast = fast

    def _applies(self, scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and self.PATHS.match(scope["path"]) is not None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        store = getattr(state, "store", None)
        version = getattr(store, "version", "") if store is not None else ""
        indicators = getattr(state, "indicators", None)  # commune items carry indicator values
        revision = ""
        if indicators is not None:
            revision = indicators.revision()
            version = f"{version}/{revision}"
            # read once per request: the collection dependency reuses it (same data as the ETag)
            scope.setdefault("state", {})["indicator_revision"] = revision
        accept = accept_language = inm = b""
        for k, v in scope["headers"]:  # one pass over the raw headers, no dict
            k = k.lower()
            if k == b"accept":
                accept = v
            elif k == b"accept-language":
                accept_language = v
            elif k == b"if-none-match":
                inm = v
        key = b"\x00".join(
            (version.encode(), scope["path"].encode(), scope.get("query_string", b""), accept, accept_language)
        )
        etag = f'W/"{hashlib.blake2b(key, digest_size=12).hexdigest()}"'
        if inm:
            inm_s = inm.decode("latin-1")
            if inm_s.strip() == "*" or etag in [t.strip() for t in inm_s.split(",")]:
                await Response(status_code=304, headers={"ETag": etag, "Cache-Control": self.cache_control.decode()})(
                    scope, receive, send
                )
                return
        etag_b = etag.encode()
        cache_control = self.cache_control

        async def send_with_etag(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                raw = message.setdefault("headers", [])
                if not isinstance(raw, list):
                    raw = message["headers"] = list(raw)
                names = {k.lower() for k, _ in raw}
                if b"etag" not in names:
                    raw.append((b"etag", etag_b))
                if b"cache-control" not in names:
                    raw.append((b"cache-control", cache_control))
            await send(message)

        if self.fast is not None and scope["method"] == "GET":
            response = self.fast(scope, revision)
            if response is not None:
                await response(scope, receive, send_with_etag)
                return
        await self.app(scope, receive, send_with_etag)
