"""Shared pieces of the OGC API - Features routers: media types, links, HTML pages."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request
from starlette.responses import HTMLResponse

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
GPKG = "application/geopackage+sqlite3"
CSV = "text/csv"
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


#: base_url() of each (scheme, Host header, server address, root path) seen, up to _BASES_MAX
_BASES: dict[tuple, str] = {}
_BASES_MAX = 64


def base_url(request: Request) -> str:
    """`str(request.base_url)` without the final slash: the URL of the app's root. starlette makes
    it anew for every request from what the scope says of the server (a URL object, parsed again);
    here it is made once for each such set (a Host header the client chose among them: bounded)."""
    scope = request.scope
    host = None
    for k, v in scope["headers"]:
        if k == b"host":
            host = v
            break
    server = scope.get("server")
    key = (
        scope.get("scheme"),
        host,
        None if server is None else tuple(server),  # a list in some servers' scopes
        scope.get("app_root_path", scope.get("root_path", "")),
    )
    base = _BASES.get(key)
    if base is None:
        base = str(request.base_url).rstrip("/")
        if len(_BASES) >= _BASES_MAX:
            _BASES.clear()
        _BASES[key] = base
    return base


def href(request: Request, path: str, **params) -> str:
    """An absolute URL on this server (path from the app root) with query parameters."""
    base = base_url(request)
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


def _param(name: str, value: str) -> str:
    if value.isascii() and value.isprintable():
        return f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
    return f"{name}*=UTF-8''{quote(value, safe='')}"  # RFC 8187: a title in Vietnamese


def link_header(links: list[dict]) -> dict[str, str]:
    """The `Link` header (RFC 8288) of a document's links: `{"Link": ...}` for a response's
    headers, so clients that read headers only (HEAD, ogctests Part 3) find self, alternate,
    next, prev and queryables. Hrefs are absolute and percent-encoded (self_href), so a comma or
    a semicolon in them is always escaped."""
    parts = []
    for lk in links:
        params = [f"<{lk['href']}>", _param("rel", lk["rel"])]
        if lk.get("type"):
            params.append(_param("type", lk["type"]))
        if lk.get("title"):
            params.append(_param("title", lk["title"]))
        parts.append("; ".join(params))
    return {"Link": ", ".join(parts)} if parts else {}


def queryables_link(request: Request, collection_id: str) -> dict:
    """rel=queryables of a collection (its document and its items' Link header)."""
    return link(
        href(request, f"/collections/{collection_id}/queryables"),
        REL_QUERYABLES,
        SCHEMA_JSON,
        "Queryable properties of this collection",
    )


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
