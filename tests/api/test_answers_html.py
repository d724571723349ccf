"""The spatial questions as pages (issue 15): f=html or a browser's Accept gives the answer on a
map and in a table (one row per feature of the JSON answer, same ids, same order), in the page's
language; the JSON is the same bytes as before without f or with Accept JSON; an error asked as a
page is an HTML page in the page's language with a way back."""

from __future__ import annotations

import re
from html import unescape

import pytest

pytestmark = pytest.mark.realpack

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

QUESTIONS = [
    ("/queries/touching", {"unit": "Hủa Phăn", "within": "14"}),
    ("/queries/touching", {"unit": "Hủa Phăn", "within": "14", "geometry": "shared"}),
    ("/queries/roadless-villages", {"border_km": 10, "partner": "LA-HO"}),
    ("/queries/roadless-villages/by-commune", {"border_km": 10}),
    ("/queries/nearest-gates", {"commune": "04240", "k": 4}),
    ("/queries/nearest-gates", {"lon": 103.9, "lat": 21.3}),
    ("/queries/border-zone", {"distance_km": 10, "partner": "LA-HO"}),
    ("/queries/commune-profile", {"code": "04045"}),
]

ROW = re.compile(r'<tr data-k="(\d+)" data-id="([^"]*)" data-kind="([^"]*)"')


def _rows(html: str) -> list[tuple[str, str, str]]:
    return [(k, unescape(i), kind) for k, i, kind in ROW.findall(html)]


def _json(client, url, params):
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r


@pytest.mark.parametrize("url,params", QUESTIONS)
def test_page_lists_every_feature_of_the_json_answer(client, url, params):
    fc = _json(client, url, params).json()
    r = client.get(url, params={**params, "f": "html"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    rows = _rows(r.text)
    assert len(rows) == len(fc["features"]) > 0
    assert [i for _, i, _ in rows] == ["" if f.get("id") is None else str(f["id"]) for f in fc["features"]]
    assert [k for k, _, _ in rows] == [str(i) for i in range(len(fc["features"]))]
    # the map is drawn from the vendored Leaflet, never a CDN, and links to the JSON and /maps
    assert "/static/vendor/leaflet/leaflet.js" in r.text
    assert not re.search(r'(src|href)="https?://', r.text)
    assert 'id="gb-json"' in r.text and "f=json" in r.text and 'download="' in r.text
    assert 'href="/maps?lang=vi"' in r.text
    assert '<html lang="vi">' in r.text


def test_the_touching_title_says_the_question_in_both_languages(client):
    params = {"unit": "Houaphan", "within": "14", "f": "html"}
    vi = client.get("/queries/touching", params=params).text
    en = client.get("/queries/touching", params={**params, "lang": "en"}).text
    assert '<h1 id="gb-title">Các xã giáp Hủa Phăn (thuộc Sơn La)</h1>' in vi
    assert '<h1 id="gb-title">Communes touching Houaphan (in Sơn La)</h1>' in en
    assert '<html lang="en">' in en and "Ranh giới chung (km)" in vi and "Shared (km)" in en
    # the figures in the table: shared length per commune, as people read it in each language
    fc = client.get("/queries/touching", params={"unit": "Houaphan", "within": "14"}).json()
    first = fc["features"][0]["properties"]["shared_length_km"]
    assert f'data-s="{float(first)!r}"' in vi
    assert f"{first:,}".replace(",", "X").replace(".", ",").replace("X", ".") in vi


def test_roadless_caveats_are_shown_as_a_note(client):
    r = client.get("/queries/roadless-villages", params={"border_km": 10, "partner": "LA-HO", "f": "html"})
    fc = client.get("/queries/roadless-villages", params={"border_km": 10, "partner": "LA-HO"}).json()
    assert 'id="gb-caveats"' in r.text
    assert unescape(fc["caveats"]["road_layer"]["note"]) in unescape(r.text)
    assert fc["caveats"]["road_layer"]["source_file"] in r.text


def test_nearest_gates_draws_the_origin(client):
    r = client.get("/queries/nearest-gates", params={"lon": 103.9, "lat": 21.3, "f": "html", "lang": "en"})
    assert "The 3 border gates nearest to 21.3, 103.9" in r.text
    assert "Origin (1)" in r.text and "Border gates (3)" in r.text


@pytest.mark.parametrize("url,params", QUESTIONS[:1] + QUESTIONS[6:7])
def test_json_is_unchanged_without_f_or_with_accept_json(client, url, params):
    plain = client.get(url, params=params)
    for headers, extra in (
        ({"Accept": "*/*"}, {}),
        ({"Accept": "application/json"}, {}),
        ({"Accept": "application/geo+json"}, {}),
        ({"Accept": BROWSER}, {"f": "json"}),  # f wins over Accept
        ({}, {"f": "json"}),
    ):
        r = client.get(url, params={**params, **extra}, headers=headers)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/geo+json")
        assert r.content == plain.content, (headers, extra)


def test_a_browser_accept_gets_the_page(client):
    r = client.get("/queries/border-zone", params={"partner": "LA-HO"}, headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Vùng 10 km dọc biên giới với Hủa Phăn" in r.text
    assert "Accept" in r.headers.get("vary", "")


@pytest.mark.parametrize(
    "url,params,lang,status,words",
    [
        (
            "/queries/border-zone",
            {"distance_km": -1},
            "vi",
            400,
            "Một tham số của câu hỏi không hợp lệ («distance_km»)",
        ),
        (
            "/queries/border-zone",
            {"distance_km": "far"},
            "en",
            400,
            "A parameter of the question is not valid (“distance_km”)",
        ),
        ("/queries/nearest-gates", {"k": 0, "lon": 104, "lat": 21}, "en", 400, "not valid (“k”)"),
        ("/queries/touching", {"unit": "Houaphanh", "colour": "red"}, "vi", 400, "«colour»"),
        ("/queries/touching", {"unit": "Houaphanx"}, "en", 404, "is not found"),
        ("/queries/commune-profile", {"code": "99999"}, "vi", 400, "không hợp lệ"),
    ],
)
def test_an_error_asked_as_a_page_is_html_in_the_pages_language(client, url, params, lang, status, words):
    q = {**params, "f": "html"} if lang == "vi" else {**params, "f": "html", "lang": "en"}
    r = client.get(url, params=q)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in r.text
    assert words in unescape(r.text)
    assert f'id="gb-maps" href="/maps?lang={lang}"' in r.text  # the way back
    # the same error asked by an API client stays JSON
    j = client.get(url, params=params)
    assert j.status_code == status and j.headers["content-type"].startswith("application/json")
    assert j.json()["description"]


def test_an_error_asked_by_a_browser_is_html_too(client):
    r = client.get("/queries/touching", params={"unit": "Houaphanx"}, headers={"Accept": BROWSER})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Không tìm thấy" in r.text


def test_f_is_declared_and_documented(client):
    doc = client.get("/api", params={"f": "json"}).json()
    for path in ("/queries/touching", "/queries/border-zone", "/queries/commune-profile"):
        op = doc["paths"][path]["get"]
        f = next(p for p in op["parameters"] if p["name"] == "f")
        assert "html" in f["description"]
        assert "text/html" in op["responses"]["200"]["content"]
    r = client.get("/queries/touching", params={"unit": "Houaphanh", "f": "csv"})
    assert r.status_code == 400
