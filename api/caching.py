"""HTTP caching in one place: Cache-Control, ETags and 304 answers, and one data version per request.

- `ConditionalGetMiddleware`: the OGC documents, whose ETag is known before the handler runs
  (data version, indicator revision, path, query, Accept, Accept-Language).
- `conditional`: handlers that know their ETag only from their parameters (tiles).
- `cache_headers`: Cache-Control alone (map pages, lookups, downloads).
- `PinVersionMiddleware`: a request is answered from one data version, so ETag and body agree.
- `HeadMiddleware`: HEAD on every GET resource: the GET's status and headers, no body.
- `CORSMiddleware`: starlette's, with the request that has no Origin header (nearly all of them)
  answered by a plain send that adds `Vary: Origin`, as starlette's does, without its header objects.

The max-age is the setting `cache_max_age` (GEOBORDER_CACHE_MAX_AGE).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date

from fastapi import Request
from starlette.middleware.cors import CORSMiddleware as _StarletteCORS
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geoborder.records.open import records_for

#: collections whose features carry border records (api/routes: gates, markers)
_RECORD_PATHS = re.compile(r"^/collections/(gates|markers)(/|$)")


def cache_control(max_age: int) -> str:
    return f"public, max-age={max_age}"


def cache_headers(request: Request) -> dict[str, str]:
    """Cache-Control of the app's settings."""
    return {"Cache-Control": cache_control(request.app.state.settings.cache_max_age)}


def etag_of(key: bytes, *, weak: bool = False) -> str:
    tag = f'"{hashlib.blake2b(key, digest_size=12).hexdigest()}"'
    return f"W/{tag}" if weak else tag


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag[:2] in ("W/", "w/") else tag


def matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match names `etag` (or is `*`): the client's copy is current. The weak comparison
    of RFC 9110 13.1.2: `W/"x"` and `"x"` match."""
    if if_none_match.strip() == "*":
        return True
    mine = _opaque(etag)
    return any(_opaque(t) == mine for t in if_none_match.split(","))


# what a negotiated document varies by: the ETag covers Accept and Accept-Language, and the
# GZip middleware adds Accept-Encoding to a compressed 200 (a 304 carries all three)
VARY = "Accept, Accept-Language"
VARY_304 = "Accept, Accept-Language, Accept-Encoding"


class HeadMiddleware:
    """HEAD is answered as the GET of the same URL without its body (RFC 9110 9.3.2): the routes
    declare GET only (so the OpenAPI document lists GET), and this passes HEAD to them as GET,
    keeping the status and every header (Content-Length, ETag, Link...) and dropping the body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        done = False

        async def send_headers_only(message: Message) -> None:
            nonlocal done
            if message["type"] == "http.response.start":
                await send(message)
            elif message["type"] == "http.response.body" and not done and not message.get("more_body", False):
                done = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app(dict(scope, method="GET"), receive, send_headers_only)
        if not done:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def conditional(request: Request, etag: str, respond: Callable[[dict[str, str]], Response]) -> Response:
    """304 when the client has `etag`, else `respond(headers)`; both with the ETag and Cache-Control."""
    headers = {"ETag": etag, **cache_headers(request)}
    inm = request.headers.get("if-none-match", "")
    if inm and matches(inm, etag):
        return Response(status_code=304, headers=headers)
    return respond(headers)


class PinVersionMiddleware:
    """Every request is answered from one data version: a store that can switch versions under
    a running worker (PostgisStore) pins its current snapshot for the whole request, so the
    ETag, cache keys and body agree; on the other stores `pinned()` does nothing."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with scope["app"].state.store.pinned():
            await self.app(scope, receive, send)


def request_headers(scope: Scope) -> tuple[bytes, bytes, bytes, bytes, bool]:
    """Accept, Accept-Language and If-None-Match (the last of each), Accept-Encoding (the first, as
    starlette's GZip reads it) and whether an Origin is given, in one pass over the raw headers."""
    accept = accept_language = inm = b""
    accept_encoding = None
    origin = False
    for k, v in scope["headers"]:
        k = k.lower()
        if k == b"accept":
            accept = v
        elif k == b"accept-language":
            accept_language = v
        elif k == b"if-none-match":
            inm = v
        elif k == b"accept-encoding":
            if accept_encoding is None:
                accept_encoding = v
        elif k == b"origin":
            origin = True
    return accept, accept_language, inm, accept_encoding or b"", origin


def data_version(scope: Scope) -> tuple[str, str]:
    """(data version with the indicator revision, indicator revision) of a request to an OGC
    document: what its ETag is keyed on."""
    state = scope["app"].state
    version = state.store.version
    indicators = getattr(state, "indicators", None)  # commune items carry indicator values
    if indicators is None:
        return version, ""
    revision = indicators.revision()
    # read once per request: the collection dependency reuses it (same data as the ETag)
    scope.setdefault("state", {})["indicator_revision"] = revision
    if _RECORD_PATHS.match(scope["path"]):
        # gates and markers carry the border records (gate state of the day, latest inspection):
        # their ETag follows the records too (on PostgreSQL a records import does not change the
        # indicator revision), and, for gates, the day (a state can change at midnight)
        day = date.today().isoformat() if scope["path"].startswith("/collections/gates") else ""
        return f"{version}/{revision}/{records_for(indicators).revision()}/{day}", revision
    return f"{version}/{revision}", revision


def etag_key(version: str, scope: Scope, accept: bytes, accept_language: bytes) -> bytes:
    """What the ETag of an OGC document is the hash of."""
    return b"\x00".join(
        (version.encode(), scope["path"].encode(), scope.get("query_string", b""), accept, accept_language)
    )


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
    # the spatial questions and the indicator reads depend on the same two versions (profiles and
    # indicator values on the indicator revision)
    PATHS = re.compile(
        r"^/(conformance|api|collections(/[^/]+(/queryables|/items(/[^/]+)?)?)?"
        r"|queries/[a-z-]+(/by-commune)?|indicators(/[^/]+(/values)?)?|indicators/imports/[^/]+)?/?$"
    )

    def __init__(self, app: ASGIApp, max_age: int = 300, fast=None):
        self.app = app
        self.cache_control = cache_control(max_age)
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
        version, revision = data_version(scope)
        accept, accept_language, inm, _, _ = request_headers(scope)
        etag = etag_of(etag_key(version, scope, accept, accept_language), weak=True)
        if inm and matches(inm.decode("latin-1"), etag):
            await Response(
                status_code=304, headers={"ETag": etag, "Cache-Control": self.cache_control, "Vary": VARY_304}
            )(scope, receive, send)
            return
        send_with_etag = self._sender(send, etag.encode(), self.cache_control.encode())
        if self.fast is not None and scope["method"] == "GET":
            try:
                response = self.fast(scope, revision)
            except Exception:  # e.g. a StoreError: the route raises it again, into the one error map
                response = None
            if response is not None:
                await response(scope, receive, send_with_etag)
                return
        await self.app(scope, receive, send_with_etag)

    @staticmethod
    def _sender(send: Send, etag: bytes, cache_control: bytes) -> Send:
        """`send` that adds the ETag and Cache-Control to a 200 that has none, and Vary: Accept,
        Accept-Language to every answer (an error can be HTML or JSON by Accept too)."""

        async def send_with_etag(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.setdefault("headers", [])
                if not isinstance(raw, list):
                    raw = message["headers"] = list(raw)
                names = {k.lower() for k, _ in raw}
                if message["status"] == 200:
                    if b"etag" not in names:
                        raw.append((b"etag", etag))
                    if b"cache-control" not in names:
                        raw.append((b"cache-control", cache_control))
                merge_vary(raw, VARY)
            await send(message)

        return send_with_etag


def merge_vary(raw: list, value: str) -> None:
    """Merge `value`'s names into the Vary header of raw ASGI headers (names already there are not
    repeated)."""
    for i, (k, v) in enumerate(raw):
        if k.lower() == b"vary":
            have = {t.strip().lower() for t in v.decode("latin-1").split(",")}
            extra = [t for t in value.split(", ") if t.lower() not in have]
            if extra:
                raw[i] = (k, v + b", " + ", ".join(extra).encode())
            return
    raw.append((b"vary", value.encode()))


class CORSMiddleware(_StarletteCORS):
    """Starlette's CORS middleware; a request without an Origin header is not a CORS request, and
    all starlette does to its answer is `Vary: ..., Origin` (the Vary values joined into one
    header where the first was): done here on the raw headers (issue 18)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(k == b"origin" for k, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_vary_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                _vary_origin(message)
            await send(message)

        await self.app(scope, receive, send_vary_origin)


def _vary_origin(message: Message) -> None:
    """`headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])` of starlette's
    MutableHeaders, on the raw list of a start message."""
    raw = message.setdefault("headers", [])
    if not isinstance(raw, list):
        raw = message["headers"] = list(raw)
    join_vary(raw, b"Origin")


def join_vary(raw: list, name: bytes) -> None:
    """starlette's `MutableHeaders.add_vary_header(name)` on raw ASGI headers: the Vary values and
    `name` joined into one header, in the place of the first (appended if there was none)."""
    at = [i for i, (k, _) in enumerate(raw) if k == b"vary"]
    value = b", ".join([*(raw[i][1] for i in at), name])
    for i in reversed(at[1:]):
        del raw[i]
    if at:
        raw[at[0]] = (b"vary", value)
    else:
        raw.append((b"vary", value))
