"""The fast paths of the OGC reads (api/routes/ogc_items.py `fast_answer`, issue 18): plain items
pages (limit, offset, bbox) and one feature by id are answered ahead of the framework's routing.
They must answer exactly as the route does, every header and byte, and leave everything else,
errors included, to the route."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.realpack

COMMUNES = "communes_2025"
ITEMS = f"/collections/{COMMUNES}/items"


def _fast_pages(store) -> bool:
    """Whether the fast page path answers on this store: only for layers selected in memory (on
    PostGIS a selection waits on the database, so it stays in the route's thread pool)."""
    from geoborder.store.base import IN_MEMORY_ITEMS

    return store.items(COMMUNES)[1] is IN_MEMORY_ITEMS


# plain pages the fast path takes: limit, offset, bbox in their plain form, each once
FAST_QUERIES = [
    "",
    "limit=100",
    "limit=100&offset=2656",
    "offset=0",
    "limit=100&bbox=107.357447,12.558967,112.179723,17.764503",
    "bbox=103.5,21,104.5,22&offset=3&limit=5",
    "limit=20000",
    "offset=999999",  # past the end: an empty page
]
# what it leaves to the route: other or repeated parameters, values the route refuses or reads
# its own way, other formats
ROUTE_QUERIES = [
    ("limit=0", 400),
    ("limit=20001", 400),
    ("limit=abc", 400),
    ("limit=100&limit=5", 400),
    ("limit=10&foo=1", 400),
    ("offset=-1", 400),
    ("bbox=1,2,3", 400),
    ("bbox=104,22,103,21", 400),
    ("limit=010", 200),
    ("f=json&limit=3", 200),
    ("crs=http://www.opengis.net/def/crs/EPSG/0/3857&limit=2", 200),
    ("province_code=14&limit=2", 200),
]
HEADERS = [
    {},
    {"Accept-Encoding": "identity"},
    {"Accept": "application/geo+json", "Accept-Encoding": "gzip"},
    {"Origin": "http://example.org"},
    {"Accept-Language": "en"},
]


@pytest.fixture()
def fast_and_route(real_store, tmp_path, monkeypatch):
    """(client, answer(url, headers, method, fast) -> response, served): the same app answering
    with its fast page path or without it (then the route answers)."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.routes import ogc_items
    from geoborder.indicators.open import open_indicators

    real = ogc_items.fast_items
    served: list[str] = []

    def spy(scope, revision=""):
        response = real(scope, revision)
        if response is not None:
            served.append(scope["query_string"].decode())
        return response

    app = create_app(store=real_store, indicators=open_indicators(tmp_path / "ind.sqlite"))
    with TestClient(app) as c:
        assert c.get(f"{ITEMS}?limit=1").status_code == 200  # first use: the route makes the layer

        def answer(url, headers, method="GET", fast=True):
            monkeypatch.setattr(ogc_items, "fast_items", spy if fast else (lambda scope, revision="": None))
            return c.request(method, url, headers=headers)

        yield c, answer, served


def _stamped(body: bytes) -> bytes:
    """The body with its timeStamp masked (the time of each answer)."""
    return re.sub(rb'"timeStamp":"[^"]*"', b'"timeStamp":"-"', body)


def test_fast_pages_answer_exactly_like_the_route(fast_and_route, real_store):
    c, answer, served = fast_and_route
    fast_pages = _fast_pages(real_store)
    n = 0
    for q in FAST_QUERIES:
        url = f"{ITEMS}?{q}" if q else ITEMS
        for headers in HEADERS:
            for method in ("GET", "HEAD"):
                fast = answer(url, headers, method, fast=True)
                route = answer(url, headers, method, fast=False)
                n += fast_pages
                assert len(served) == n, (url, headers, method)  # the fast path answered the first (in memory)
                assert fast.status_code == route.status_code == 200, (url, headers)
                # every header but the date and, gzip, the length (the body has its time stamp)
                skip = {"date", "content-length"} if fast.headers.get("content-encoding") else {"date"}
                fh = {k: v for k, v in fast.headers.items() if k not in skip}
                rh = {k: v for k, v in route.headers.items() if k not in skip}
                assert fh == rh, (url, headers, method)
                assert _stamped(fast.content) == _stamped(route.content), (url, headers, method)
                if method == "GET":
                    assert fast.json()["type"] == "FeatureCollection"
    # a 304 for the ETag of a fast page, as for the route's
    etag = answer(f"{ITEMS}?limit=100", {}).headers["etag"]
    assert answer(f"{ITEMS}?limit=100", {"If-None-Match": etag}).status_code == 304


def test_the_fast_page_is_the_selection_asked_for(fast_and_route, real_store):
    """Not only equal to the route: the page holds the features of the query (computed here from
    the store's frame with shapely)."""
    import shapely

    _, answer, served = fast_and_route
    frame = real_store.frame(COMMUNES)
    box = (107.357447, 12.558967, 112.179723, 17.764503)
    page = answer(f"{ITEMS}?limit=100&bbox={','.join(map(str, box))}", {}).json()
    hits = frame[shapely.intersects(frame.geometry.values, shapely.box(*box))]
    assert page["numberMatched"] == len(hits) and len(page["features"]) == min(100, len(hits))
    assert {f["id"] for f in page["features"]} <= set(hits["commune_code"])
    deep = answer(f"{ITEMS}?limit=100&offset=2656", {}).json()
    assert deep["numberMatched"] == len(frame)
    assert [f["id"] for f in deep["features"]] == list(frame["commune_code"].iloc[2656:2756])
    assert {l["rel"] for l in deep["links"]} >= {"self", "alternate", "collection", "next", "prev"}
    assert len(served) == (2 if _fast_pages(real_store) else 0)


def test_what_the_fast_path_leaves_to_the_route(fast_and_route):
    """Unknown, repeated or refused parameters, other formats and CRSs: the route answers, and a
    bad request is refused (400 with a message) as before."""
    c, answer, served = fast_and_route
    for q, status in ROUTE_QUERIES:
        r = answer(f"{ITEMS}?{q}", {})
        assert r.status_code == status, (q, r.text[:200])
        if status == 400:
            assert r.json()["description"], q
    assert answer(ITEMS, {"Accept": "text/html"}).headers["content-type"].startswith("text/html")
    assert answer(f"{ITEMS}?limit=2", {"Accept": "text/csv"}).status_code == 200
    assert answer("/collections/no_such_layer/items?limit=2", {}).status_code == 404
    assert served == []


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [(b"content-type", b"application/json")],
        [(b"vary", b"Accept-Encoding")],
        [(b"vary", b"Accept-Encoding"), (b"etag", b'W/"x"'), (b"vary", b"Accept, Accept-Language")],
        [(b"etag", b'W/"x"'), (b"vary", b"Accept")],
    ],
)
def test_cors_without_origin_adds_vary_origin_as_starlette_does(raw):
    """api/caching.py CORSMiddleware answers a request without Origin by a plain send: the same
    headers, in the same order, as starlette's MutableHeaders code it replaces."""
    from starlette.datastructures import MutableHeaders

    from api.caching import _vary_origin

    theirs = {"type": "http.response.start", "status": 200, "headers": list(raw)}
    headers = MutableHeaders(scope=theirs)
    headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
    mine = {"type": "http.response.start", "status": 200, "headers": tuple(raw)}
    _vary_origin(mine)
    assert mine["headers"] == theirs["headers"]


@pytest.mark.parametrize(
    "url", ["/conformance", "/collections/communes_2025", f"{ITEMS}?limit=2", "/health", "/nowhere"]
)
def test_cors_headers_with_and_without_origin(client, url):
    """Without Origin: Vary ends with Origin and no Access-Control header; with one, starlette's
    own code answers (the settings' origins are `*`)."""
    plain = client.get(url)
    assert plain.headers["vary"].split(", ")[-1] == "Origin"
    assert not any(k.startswith("access-control-") for k in plain.headers)
    cors = client.get(url, headers={"Origin": "http://example.org"})
    assert cors.headers["vary"] == plain.headers["vary"]
    assert cors.headers["access-control-allow-origin"] == "*"
