"""`area=` on the spatial questions (issue 18): a saved area (saved through /reports/areas with
an upload key) or a province code of the vintage keeps the answer to the area's communes. Each
answer is checked against the same question asked without an area, kept to the area's communes
by the test itself; both stores."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.saved_areas import find_saved_area

pytestmark = pytest.mark.realpack

NAME = "Biên giới Sơn La"


@pytest.fixture(scope="module")
def env(real_store, tmp_path_factory):
    db = IndicatorDB(tmp_path_factory.mktemp("query_areas") / "indicators.sqlite")
    key = db.add_key("ban-chi-dao-son-la")
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        r = c.post("/reports/areas", data={"name": NAME, "area": "border:14"}, headers={"X-API-Key": key})
        assert r.status_code == 201, r.text
        codes = set(find_saved_area(db, NAME).codes(2025))
        assert len(codes) > 5
        yield c, db, key, codes


def _get(client, url, **params):
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_roadless_villages_of_a_saved_area(env):
    c, _, _, codes = env
    whole = _get(c, "/queries/roadless-villages")
    mine = _get(c, "/queries/roadless-villages", area=NAME)
    expected = [f["id"] for f in whole["features"] if f["properties"]["commune_code"] in codes]
    assert expected and [f["id"] for f in mine["features"]] == expected
    assert mine["query"]["area"] == {"asked": NAME, "kind": "saved", "name": NAME, "communes": len(codes)}
    assert mine["settlements_considered"] < whole["settlements_considered"]


def test_roadless_by_commune_of_a_saved_area_found_without_diacritics(env):
    c, _, _, codes = env
    whole = _get(c, "/queries/roadless-villages/by-commune")
    mine = _get(c, "/queries/roadless-villages/by-commune", area="bien gioi son la")
    expected = {f["id"]: f["properties"]["roadless_settlements"] for f in whole["features"] if f["id"] in codes}
    assert expected and {f["id"]: f["properties"]["roadless_settlements"] for f in mine["features"]} == expected
    assert mine["query"]["area"]["name"] == NAME


def test_border_zone_of_a_saved_area(env):
    c, _, _, codes = env
    whole = _get(c, "/queries/border-zone")
    mine = _get(c, "/queries/border-zone", area=NAME)

    def of(fc, kind):
        return [f["properties"] for f in fc["features"] if f["properties"]["feature_kind"] == kind]

    communes = [p["commune_code"] for p in of(whole, "commune") if p["commune_code"] in codes]
    assert communes and [p["commune_code"] for p in of(mine, "commune")] == communes
    villages = [p["geonameid"] for p in of(whole, "village") if p["commune_code"] in codes]
    assert villages and [p["geonameid"] for p in of(mine, "village")] == villages
    assert mine["counts"]["communes"] == len(communes) and mine["counts"]["villages"] == len(villages)


def test_touching_of_a_saved_area_and_of_a_province_code(env):
    c, _, _, codes = env
    whole = _get(c, "/queries/touching", unit="LAO")
    mine = _get(c, "/queries/touching", unit="LAO", area=NAME)
    expected = [f["id"] for f in whole["features"] if f["id"] in codes]
    assert expected and [f["id"] for f in mine["features"]] == expected
    # a province code of the vintage is an area too: the same communes as within=
    by_area = _get(c, "/queries/touching", unit="Lào Cai", area="14")
    within = _get(c, "/queries/touching", unit="Lào Cai", within="14")
    assert [f["id"] for f in by_area["features"]] == [f["id"] for f in within["features"]] != []
    assert by_area["query"]["area"]["kind"] == "province" and by_area["query"]["area"]["name"] == "Sơn La"


def test_an_unknown_area_is_a_404_naming_the_saved_areas(env):
    c, _, _, _ = env
    for url, params in (("/queries/border-zone", {}), ("/queries/touching", {"unit": "LAO"})):
        r = c.get(url, params={**params, "area": "Biên giới Lai Chau xyz"})
        assert r.status_code == 404, r.text
        assert NAME in r.json()["description"] and "14" in r.json()["description"]
    page = c.get("/queries/border-zone", params={"area": "không có", "f": "html"})
    assert page.status_code == 404 and "text/html" in page.headers["content-type"] and NAME in page.text


def test_saving_the_area_again_with_other_communes_changes_the_answer(env, real_store):
    c, db, key, codes = env
    url, params = "/queries/roadless-villages/by-commune", {"area": NAME}
    first = _get(c, url, **params)
    assert {f["id"] for f in first["features"]} <= codes
    etag = c.get(url, params=params).headers["etag"]
    assert c.get(url, params=params, headers={"If-None-Match": etag}).status_code == 304
    r = c.post(
        "/reports/areas", data={"name": NAME, "area": "border:11", "replace": "true"}, headers={"X-API-Key": key}
    )
    assert r.status_code in (200, 201), r.text
    now = set(find_saved_area(db, NAME).codes(2025))
    assert now and now != codes
    again = _get(c, "/queries/roadless-villages/by-commune", area=NAME)
    ids = {f["id"] for f in again["features"]}
    assert ids and ids <= now and not ids & codes
    # the ETag follows the area's communes: the old one no longer answers 304
    r = c.get(url, params=params, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag and r.json() == again
    # saved back as it was: the first answer again
    c.post("/reports/areas", data={"name": NAME, "area": "border:14", "replace": "true"}, headers={"X-API-Key": key})
    assert _get(c, "/queries/roadless-villages/by-commune", area=NAME) == first


def test_the_page_of_an_area_answer(env):
    c, _, _, _ = env
    r = c.get("/queries/border-zone", params={"area": NAME, "f": "html"})
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert NAME in r.text  # the area among the parameters of the question


def test_the_cli_questions_take_an_area(env, real_store_path):
    """`geoborder query ... --area NAME --indicators DB`: the same answer as the API's, and an unknown
    area exits 2 naming the saved areas."""
    import json

    from click.testing import CliRunner

    from geoborder.cli.main import main

    c, db, _, _ = env
    runner = CliRunner()
    base = ["query", "--store", str(real_store_path)]
    for args, url in (
        (["border-zone", "--include", "communes"], "/queries/border-zone?include=communes"),
        (["roadless", "--by-commune"], "/queries/roadless-villages/by-commune"),
    ):
        r = runner.invoke(main, [*base, *args, "--area", "bien gioi son la", "--indicators", str(db.path)])
        assert r.exit_code == 0, r.output
        cli = json.loads(r.output)
        api = c.get(url, params={"area": "bien gioi son la"}).json()
        assert cli["features"] and cli["features"] == api["features"]
    r = runner.invoke(main, [*base, "border-zone", "--area", "nowhere", "--indicators", str(db.path)])
    assert r.exit_code == 2 and NAME in r.output
