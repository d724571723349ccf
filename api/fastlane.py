"""The hot OGC reads answered ahead of the middleware stack (issue 18).

A plain `GET /collections/{id}/items/{featureId}` or `GET /collections/{id}/items?limit=..` passes
nine ASGI layers inside the app before its answer is made (starlette's error and FastAPI's
telemetry middlewares, HEAD, CORS, the upload guard, FastAPI's body limit, the version pin, GZip,
the conditional GET) and back through each of them with its answer: under load that cost more
than twice the answer itself (one feature: 3,500 req/s against 10,500 for the same bytes
from a bare ASGI app under the same uvicorn).

`FastLane` answers these requests when the app is entered (`LaneApp.__call__`) with
`ogc_items.fast_answer`, the code the conditional GET middleware calls for them anyway, and adds
to the answer what the layers it skips would add, in their order:

- the conditional GET: ETag and Cache-Control of a 200, `Vary: Accept, Accept-Language`;
- GZip (starlette's rules: from `minimum_size` bytes, not an excluded media type, not an answer
  already encoded or partial): the body compressed at `compresslevel` when the client takes gzip,
  `Vary: Accept-Encoding` whether or not, Content-Encoding and Content-Length;
- CORS for a request without Origin: `Vary: ..., Origin`.

It leaves to the stack everything else: another method (HEAD), a CORS request (Origin), a
conditional request (If-None-Match), other paths, and whatever `fast_answer` does not answer
(None) or fails on. tests/api/test_fast_paths.py checks every header and byte against the stack.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

import anyio.to_thread
from fastapi import FastAPI
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .caching import VARY, cache_control, data_version, etag_key, etag_of, join_vary, merge_vary, request_headers

#: bodies from this size on are compressed in a worker thread, as starlette's GZip does
THREAD_MINIMUM_SIZE = 128 * 1024
_EXCLUDED = frozenset(DEFAULT_EXCLUDED_CONTENT_TYPES)
_PATH = re.compile(r"^/collections/[A-Za-z0-9_.-]+/items(/[A-Za-z0-9_.-]+)?$")


def _excluded(content_type: bytes) -> bool:
    """starlette GZip's test of the media type (IdentityResponder.send_with_compression)."""
    media = content_type.decode("latin-1").partition(";")[0].strip().lower()
    types = {media, media.partition("/")[0] + "/*"}
    if media.startswith("application/grpc+"):
        types.add("application/grpc")
    return not types.isdisjoint(_EXCLUDED)


class FastLane:
    """`await lane(scope, send)`: True when it has answered, False to pass the request on."""

    def __init__(
        self, answer: Callable[[Scope, str], Response | None], *, max_age: int, minimum_size: int, compresslevel: int
    ):
        self.answer = answer
        self.cache_control = cache_control(max_age).encode()
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, send: Send) -> bool:
        if _PATH.match(scope["path"]) is None:
            return False
        accept, accept_language, inm, accept_encoding, origin = request_headers(scope)
        if origin or inm:
            return False  # CORS and conditional requests: the stack's own code
        state = scope["app"].state
        with state.store.pinned():
            try:
                version, revision = data_version(scope)
                response = self.answer(scope, revision)
            except Exception:  # e.g. a StoreError: the stack meets it again and answers it (the error map)
                response = None
            if response is None:
                return False
            key = etag_key(version, scope, accept, accept_language)
            await self._send(response, etag_of(key, weak=True).encode(), accept_encoding, send)
        return True

    async def _send(self, response: Response, etag: bytes, accept_encoding: bytes, send: Send) -> None:
        raw = list(response.raw_headers)
        body = bytes(response.body)  # bytes already (render's); a memoryview is copied
        status = response.status_code
        # the conditional GET's headers (ConditionalGetMiddleware._sender)
        names = {k for k, _ in raw}
        if status == 200:
            if b"etag" not in names:
                raw.append((b"etag", etag))
            if b"cache-control" not in names:
                raw.append((b"cache-control", self.cache_control))
        merge_vary(raw, VARY)
        # GZip (starlette.middleware.gzip, for an answer of one body message)
        content_type = next((v for k, v in raw if k == b"content-type"), b"")
        if (
            b"content-encoding" not in names
            and status != 206
            and not _excluded(content_type)
            and len(body) >= self.minimum_size
        ):
            if b"gzip" in accept_encoding:
                if len(body) >= THREAD_MINIMUM_SIZE:
                    compressed = await anyio.to_thread.run_sync(self._compress, body)
                else:
                    compressed = self._compress(body)
            else:
                compressed = body
            join_vary(raw, b"Accept-Encoding")
            if compressed != body:
                raw.append((b"content-encoding", b"gzip"))
                at = [i for i, (k, _) in enumerate(raw) if k == b"content-length"]
                for i in reversed(at[1:]):
                    del raw[i]
                length = (b"content-length", str(len(compressed)).encode())
                if at:
                    raw[at[0]] = length
                else:
                    raw.append(length)
                body = compressed
        # CORS, a request without Origin (caching.CORSMiddleware)
        join_vary(raw, b"Origin")
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    def _compress(self, body: bytes) -> bytes:
        c = zlib.compressobj(self.compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return c.compress(body) + c.flush()


class LaneApp(FastAPI):
    """FastAPI with a `FastLane` tried first for GET (`lane`, set by create_app; None: no lane)."""

    lane: FastLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.lane
        if lane is not None and scope["type"] == "http" and scope["method"] == "GET":
            scope["app"] = self
            if await lane(scope, send):
                return
        await super().__call__(scope, receive, send)
