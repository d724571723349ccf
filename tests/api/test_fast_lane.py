"""The fast lane (api/fastlane.py, issue 18): plain GETs of one feature and of items pages are
answered when the app is entered, ahead of the middleware stack, with the headers the stack would
add. Compared here at the ASGI level with the stack's own answer to the same request (the lane
switched off): the same status, the same raw headers in the same order, the same body."""

from __future__ import annotations

import asyncio
import gzip
import re

import pytest

pytestmark = pytest.mark.realpack

# (path, query): big and small features (a place is under GZip's 1,024 bytes), pages, a layer
# whose ETag follows the border records (gates)
REQUESTS = [
    ("/collections/communes_2025/items/00004", b""),
    ("/collections/places/items/10631710", b""),
    ("/collections/gates/items/a-dot", b""),
    ("/collections/communes_2025/items", b"limit=100"),
    ("/collections/communes_2025/items", b"limit=2&offset=5"),
    ("/collections/places/items", b"limit=1"),
    ("/collections/communes_2025/items", b""),
]
HEADER_SETS = [
    [],
    [(b"accept-encoding", b"gzip")],
    [(b"accept", b"application/geo+json"), (b"accept-encoding", b"gzip, deflate")],
    [(b"accept-encoding", b"identity")],
    [(b"accept-encoding", b"br"), (b"accept-encoding", b"gzip")],  # starlette reads the first
    [(b"accept-language", b"en"), (b"accept-encoding", b"gzip")],
]


def _scope(app, path: str, query: bytes, headers: list, method: str = "GET") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
        "state": {},
    }


async def _call(app, scope: dict) -> tuple[int, list, bytes]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], [tuple(h) for h in start["headers"]], body


def _plain(headers: list, body: bytes) -> bytes:
    """The body decoded, its time stamp masked (a page says when it was made)."""
    if (b"content-encoding", b"gzip") in headers:
        body = gzip.decompress(body)
    return re.sub(rb'"timeStamp":"[^"]*"', b'"timeStamp":"-"', body)


@pytest.fixture()
def app(real_store, tmp_path):
    from api.main import create_app
    from geoborder.indicators.open import open_indicators

    return create_app(store=real_store, indicators=open_indicators(tmp_path / "ind.sqlite"))


def _run(app, work):
    async def main():
        async with app.router.lifespan_context(app):
            return await work()

    return asyncio.run(main())


def test_the_lane_answers_as_the_stack_does(app, real_store, monkeypatch):
    from geoborder.store.base import IN_MEMORY_ITEMS

    lane = app.lane
    fast_pages = real_store.items("communes_2025")[1] is IN_MEMORY_ITEMS
    answered: list[bool] = []
    real_call = type(lane).__call__

    async def counted(self, scope, send):
        done = await real_call(self, scope, send)
        answered.append(done)
        return done

    async def work():
        # first use of each layer: the route makes and prepares it
        for path, query in REQUESTS:
            app.lane = None
            assert (await _call(app, _scope(app, path, query, [])))[0] == 200, path
        n = 0
        for path, query in REQUESTS:
            for headers in HEADER_SETS:
                app.lane = None
                s_status, s_headers, s_body = await _call(app, _scope(app, path, query, headers))
                app.lane = lane
                l_status, l_headers, l_body = await _call(app, _scope(app, path, query, headers))
                n += 1
                # pages only where the layer is selected in memory (on PostGIS they wait on the
                # database: the route's thread pool); one feature on every store
                expected = "/items/" in path or fast_pages
                assert len(answered) == n and answered[-1] is expected, (path, query, headers)
                assert l_status == s_status == 200
                stamped = b"timeStamp" in _plain(s_headers, s_body)
                if stamped and (b"content-encoding", b"gzip") in s_headers:
                    # a page's time stamp may differ by a second: then so does its gzip length
                    s_headers = [h for h in s_headers if h[0] != b"content-length"]
                    l_headers = [h for h in l_headers if h[0] != b"content-length"]
                assert l_headers == s_headers, (path, query, headers)
                assert _plain(l_headers, l_body) == _plain(s_headers, s_body), (path, query, headers)
                if not stamped:
                    assert l_body == s_body, (path, query, headers)  # byte for byte, gzip included
        return n

    monkeypatch.setattr(type(lane), "__call__", counted)
    n = _run(app, work)
    assert n == len(REQUESTS) * len(HEADER_SETS)


def test_what_the_lane_leaves_to_the_stack(app, monkeypatch):
    """CORS, conditional and HEAD requests, other parameters and paths go through the stack,
    and are answered as before (304, Access-Control-*, 400 with a message)."""
    lane = app.lane
    item = "/collections/communes_2025/items/00004"

    async def work():
        out = {}
        status, headers, _ = await _call(app, _scope(app, item, b"", []))
        assert status == 200
        etag = dict(headers)[b"etag"]
        out["origin"] = await lane(_scope(app, item, b"", [(b"origin", b"http://example.org")]) | {"app": app}, None)
        out["inm"] = await lane(_scope(app, item, b"", [(b"if-none-match", etag)]) | {"app": app}, None)
        out["other"] = await lane(_scope(app, "/collections/communes_2025", b"", []) | {"app": app}, None)
        out["param"] = await lane(_scope(app, item, b"f=json", []) | {"app": app}, None)
        assert not any(out.values()), out
        status, _, _ = await _call(app, _scope(app, item, b"", [(b"if-none-match", etag)]))
        assert status == 304
        status, headers, _ = await _call(app, _scope(app, item, b"", [(b"origin", b"http://example.org")]))
        assert status == 200 and dict(headers)[b"access-control-allow-origin"] == b"*"
        status, headers, body = await _call(app, _scope(app, item, b"", [], method="HEAD"))
        assert status == 200 and body == b"" and dict(headers)[b"etag"] == etag
        # a fast answer that fails is the route's to answer (here it can: 200)
        from api.routes import ogc_items

        def broken(scope, revision=""):
            raise RuntimeError("planted")

        with monkeypatch.context() as m:
            m.setattr(ogc_items, "fast_item", broken)
            assert await lane(_scope(app, item, b"", []) | {"app": app}, None) is False
            status, _, body = await _call(app, _scope(app, item, b"", []))
            assert status == 200 and b'"id":"00004"' in body
        status, _, body = await _call(app, _scope(app, "/collections/communes_2025/items", b"limit=0", []))
        assert status == 400 and b"limit" in body
        status, _, _ = await _call(app, _scope(app, "/collections/communes_2025/items/nope", b"", []))
        assert status == 404

    _run(app, work)


def test_gzip_as_starlette_compresses():
    """The lane's compression gives starlette GZip's bytes (same level, window and header)."""
    from starlette.middleware.gzip import GZipResponder

    from api.fastlane import FastLane

    body = b'{"type":"Feature","properties":{"name":"Lao Cai"}}' * 200
    theirs = GZipResponder(None, 1024, compresslevel=1)._compress_body(body, more_body=False)
    assert FastLane(lambda s, r: None, max_age=1, minimum_size=1024, compresslevel=1)._compress(body) == theirs


def test_links_follow_the_host_asked_and_the_bases_held_stay_bounded(app):
    """The base URL of the links is memoised per Host header (api/routes/ogc_http.py base_url): each
    request's links still name the host it asked, and a client sending many Hosts does not grow it."""
    import orjson

    from api.routes import ogc_http

    item = "/collections/communes_2025/items/00004"

    async def work():
        await _call(app, _scope(app, item, b"", []))  # first use: the route makes the layer
        for n in range(ogc_http._BASES_MAX * 3):
            scope = _scope(app, item, b"", [])
            scope["headers"] = [(b"host", f"h{n}.example:8{n % 10}00".encode())]
            for path, query in (("/collections/communes_2025/items", b"limit=1"), (item, b"")):
                scope = dict(scope, path=path, raw_path=path.encode(), query_string=query)
                status, _, body = await _call(app, scope)
                assert status == 200
                hrefs = [link["href"] for link in orjson.loads(body)["links"]]
                assert hrefs and all(h.startswith(f"http://h{n}.example:8{n % 10}00/") for h in hrefs), hrefs
            assert len(ogc_http._BASES) <= ogc_http._BASES_MAX

    _run(app, work)
