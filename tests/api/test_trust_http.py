"""Issue 13 at the HTTP layer, through the ASGI app on the real store: unknown and repeated
parameters refused everywhere, HEAD on every GET resource, caching headers (Vary, weak ETag
comparison, ETags on the questions and the indicators), Link headers, specific error codes."""

from __future__ import annotations

import re

import pytest

GATES = "/queries/nearest-gates?lon=103.91&lat=21.33&k=3"


# --------------------------------------------------------------------------- unknown and repeated parameters


@pytest.mark.parametrize(
    "url, unknown, allowed",
    [
        (GATES + "&international_onyl=true", "international_onyl", "international_only"),
        ("/queries/border-zone?distance=3", "distance", "distance_km"),
        ("/queries/touching?unit=LAO&vintag=2009", "vintag", "vintage"),
        ("/queries/commune-profile?code=04045&langg=en", "langg", "code"),
        ("/indicators?lan=en", "lan", "lang"),
        ("/indicators/poverty_rate/values?yaer=2024", "yaer", "year"),
        ("/indicators/links?statsu=code", "statsu", "status"),
        ("/maps/legend?indicator=population&clases=natural_breaks", "clases", "classes"),
        ("/health?verbose=1", "verbose", "no query parameters"),
        ("/layers?x=1", "x", "lang"),
        ("/collections/communes_2025/queryables?filter=1", "filter", "f"),
    ],
)
def test_unknown_query_parameter_is_400_naming_it_and_the_allowed_ones(client, url, unknown, allowed):
    r = client.get(url)
    assert r.status_code == 400, (url, r.status_code, r.text[:300])
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    assert f"unknown query parameter(s): {unknown};" in body["description"]
    assert allowed in body["description"].split("accepts:")[1]


def test_map_page_with_unknown_parameter_is_an_html_400_in_the_pages_language(client):
    """A person on a map page gets a page in their language with a way back (issue 15), still a 400."""
    r = client.get("/maps/population?area=14&clases=quantiles")
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html") and "clases" in r.text
    assert 'lang="vi"' in r.text and 'href="/maps' in r.text
    r = client.get("/maps/population?area=14&clases=quantiles&lang=en")
    assert r.status_code == 400 and 'lang="en"' in r.text


def test_layers_take_f_json_and_refuse_other_formats(client):
    assert client.get("/layers", params={"f": "json"}).status_code == 200
    assert client.get("/layers/gates", params={"f": "json"}).status_code == 200
    r = client.get("/layers", params={"f": "html"})
    assert r.status_code == 400 and "f" in r.json()["description"]


@pytest.mark.parametrize(
    "url, name",
    [
        ("/collections/communes_2025/items?crs=EPSG:3857&crs=EPSG:4326&limit=1", "crs"),
        ("/queries/border-zone?distance_km=3&distance_km=5&include=communes", "distance_km"),
        (GATES + "&k=5", "k"),
        ("/collections/communes_2025/items?province_code=14&province_code=11&limit=1", "province_code"),
        ("/indicators?lang=en&lang=vi", "lang"),
    ],
)
def test_repeated_parameter_is_400(client, url, name):
    r = client.get(url)
    assert r.status_code == 400, (url, r.text[:300])
    assert r.json()["description"] == f"query parameter(s) given more than once: {name}; give each one once"


def test_known_parameters_still_answer(client):
    assert client.get(GATES + "&international_only=true").status_code == 200
    r = client.get("/collections/communes_2025/items?province_code=14&limit=2&bbox-crs=EPSG:4326&bbox=20,103,23,105")
    assert r.status_code == 200 and all(f["properties"]["province_code"] == "14" for f in r.json()["features"])
    # items still refuse an unknown name (a property of no layer) with their own message
    r = client.get("/collections/communes_2025/items?provinc_code=14")
    assert r.status_code == 400 and "provinc_code" in r.json()["description"]


# --------------------------------------------------------------------------- HEAD


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/health",
        "/layers",
        "/conformance",
        "/collections",
        "/collections/communes_2025",
        "/collections/communes_2025/items?limit=3",
        "/collections/gates/items?f=csv",
        "/queries/touching?unit=LAO&within=14",
        "/indicators",
        "/maps",
    ],
)
def test_head_is_the_get_without_its_body(client, url):
    get = client.get(url)
    head = client.head(url)
    assert get.status_code == 200 and head.status_code == 200, (url, head.status_code, head.text[:200])
    assert head.content == b""
    skip = {"date", "content-length", "content-encoding", "vary"}  # httpx decodes the GET's gzip
    assert {k: v for k, v in head.headers.items() if k not in skip} == {
        k: v for k, v in get.headers.items() if k not in skip
    }


def test_head_of_an_error_is_the_error_without_body(client):
    r = client.head("/collections/nope/items")
    assert r.status_code == 404 and r.content == b"" and r.headers["content-type"] == "application/json"


# --------------------------------------------------------------------------- caching headers


def test_weak_comparison_of_if_none_match():
    from api.caching import matches

    assert matches('"abc"', 'W/"abc"') and matches('W/"abc"', '"abc"') and matches('W/"x", W/"abc"', 'W/"abc"')
    assert matches("*", 'W/"abc"') and not matches('"abcd"', 'W/"abc"')


@pytest.mark.parametrize("url", ["/", "/collections/communes_2025", "/collections/communes_2025/items?limit=2"])
def test_negotiated_documents_vary_by_accept_and_the_304_keeps_vary(client, url):
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    vary = {t.strip().lower() for t in r.headers["vary"].split(",")}
    assert {"accept", "accept-language"} <= vary
    etag = r.headers["etag"]
    strong_form = etag.removeprefix("W/")
    again = client.get(url, headers={"If-None-Match": strong_form, "Accept-Encoding": "gzip"})
    assert again.status_code == 304
    vary_304 = {t.strip().lower() for t in again.headers["vary"].split(",")}
    assert {"accept", "accept-language", "accept-encoding"} <= vary_304
    assert again.headers["etag"] == etag and "max-age" in again.headers["cache-control"]


@pytest.mark.parametrize(
    "url",
    [
        "/queries/touching?unit=LAO&within=14",
        GATES,
        "/queries/commune-profile?code=04045",
        "/indicators",
        "/indicators/population/values",
        "/indicators/imports",
        "/indicators/links?status=group",
    ],
)
def test_queries_and_indicators_have_etag_and_cache_control(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.headers["etag"].startswith('W/"'), url
    assert re.search(r"max-age=\d+", r.headers["cache-control"])
    assert client.get(url, headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_an_import_changes_the_etag_of_indicator_reads(tmp_path, real_store):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.indicators.db import IndicatorDB

    db = IndicatorDB(tmp_path / "ind.sqlite")
    key = db.add_key("t")
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        before = c.get("/indicators/imports").headers["etag"]
        csv = b"commune_code,year,poverty_rate\n04045,2024,12.5\n"
        up = c.post("/indicators/imports", files={"file": ("t.csv", csv, "text/csv")}, headers={"X-API-Key": key})
        assert up.status_code == 201, up.text
        r = c.get("/indicators/imports", headers={"If-None-Match": before})
        assert r.status_code == 200 and r.headers["etag"] != before


# --------------------------------------------------------------------------- Link headers


def test_link_header_mirrors_links():
    from api.routes.ogc_http import link_header

    links = [
        {"href": "http://h/collections/a/items?limit=2&offset=2", "rel": "next", "type": "application/geo+json"},
        {"href": "http://h/collections/a/queryables", "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables"},
        {"href": "http://h/a", "rel": "self", "type": "text/html", "title": 'Xã "Mường Lèo"'},
    ]
    value = link_header(links)["Link"]
    assert value.isascii()
    assert value.split(", ") == [
        '<http://h/collections/a/items?limit=2&offset=2>; rel="next"; type="application/geo+json"',
        '<http://h/collections/a/queryables>; rel="http://www.opengis.net/def/rel/ogc/1.0/queryables"',
        '<http://h/a>; rel="self"; type="text/html"; title*=UTF-8\'\'X%C3%A3%20%22M%C6%B0%E1%BB%9Dng%20L%C3%A8o%22',
    ]
    assert link_header([]) == {}


# --------------------------------------------------------------------------- error codes, Allow


def test_405_names_every_method_of_the_path(client):
    r = client.put("/indicators/imports")
    assert r.status_code == 405 and r.json()["code"] == "MethodNotAllowed"
    assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "HEAD", "POST"}
    r = client.delete("/collections")
    assert r.status_code == 405 and {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "HEAD"}


def test_framework_errors_have_specific_codes(client):
    # a body that is not multipart: the framework's 400 (was code "Error")
    key = client.app.state.indicators.add_key("trust-http-codes")
    r = client.post(
        "/indicators/imports", content=b"x", headers={"Content-Type": "multipart/form-data", "X-API-Key": key}
    )
    assert r.status_code == 400 and r.json()["code"] == "InvalidRequest", r.text
    from api.errors import http_code

    assert [http_code(s) for s in (400, 413, 414, 422, 429, 503)] == [
        "InvalidRequest",
        "PayloadTooLarge",
        "URITooLong",
        "UnprocessableEntity",
        "TooManyRequests",
        "ServiceUnavailable",
    ]


def test_bad_accept_headers_answer_json(client):
    for accept in ("garbage", "text/html;q=abc", "image/png", ";;;,", "*/*;q=0"):
        r = client.get("/collections", headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), accept


def test_items_pages_carry_their_links_as_a_link_header(client):
    """ogctests Part 3 and header-only clients find next and queryables in the Link header (RFC 8288)."""
    for headers in ({}, {"Accept-Encoding": "gzip"}):
        r = client.get("/collections/communes_2025/items", params={"limit": 5}, headers=headers)
        assert r.status_code == 200
        link = r.headers["link"]
        rels = {part.split('rel="', 1)[1].split('"', 1)[0] for part in link.split(", <") if 'rel="' in part}
        assert {"self", "next", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels, link
        body_next = next(lk["href"] for lk in r.json()["links"] if lk["rel"] == "next")
        assert f"<{body_next}>" in link
