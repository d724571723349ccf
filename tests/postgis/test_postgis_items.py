"""Items on the PostGIS store are selected in SQL (geoborder.store.postgis.items, geoborder.store.postgis.cql2):
the same answers as the GeoPackage store for bbox, property equality, CQL2 (text and JSON),
sortby and paging; other CRSs through ST_Transform; hostile input only as bound parameters.

The cluster and the published database come from pg_fixtures.py (CI=true: fail, not skip).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pyogrio
import pytest
import shapely
from pg_fixtures import pg_client, pg_store

pytestmark = pytest.mark.realpack

C = "/collections/communes_2025/items"

FILTERS = [
    "population>10000",
    "population BETWEEN 5000 AND 8000",
    "NOT (population > 10000)",
    "population NOT BETWEEN 2000 AND 30000",
    "name LIKE 'Mường%'",
    "name NOT LIKE '%a%'",
    "CASEI(name) LIKE 'mường%'",
    "name = 'Mường Lèo'",
    "name <> 'Mường Lèo' AND province_code = '14'",
    "province_code IN ('14', '11') OR population < 1000",
    "province_code NOT IN ('14')",
    "population / area_km2 > 500",
    "population * 2 + 1 >= 20001",
    "area_km2 - 10 < 0",
    "population IS NULL",
    "population IS NOT NULL AND name > 'Xã'",
    "S_INTERSECTS(geometry, POLYGON((103.5 21, 104.5 21, 104.5 22, 103.5 22, 103.5 21)))",
    "S_WITHIN(geometry, POLYGON((103 20.5, 105 20.5, 105 22.5, 103 22.5, 103 20.5)))",
    "S_CONTAINS(geometry, POINT(103.9 21.3))",
    "S_DISJOINT(geometry, BBOX(102, 20, 110, 24))",
    "BBOX(geometry, 103.5, 21, 104.5, 22) AND population > 3000",
    "S_TOUCHES(geometry, POINT(103.9 21.3)) OR S_CROSSES(geometry, LINESTRING(103 21, 104 22))",
    "population = 'abc'",
]
QUERIES = [f"{C}?limit=20&filter={quote(f)}" for f in FILTERS] + [
    f"{C}?limit=7&offset=3&sortby=-population",
    f"{C}?limit=50&sortby=name",
    f"{C}?limit=50&sortby=province_code,-population",
    f"{C}?limit=50&sortby=%2Bunit_type,name",
    f"{C}?limit=30&province_code=14",
    f"{C}?limit=30&population=4000",
    f"{C}?bbox=103.5,21.0,104.5,22.0&limit=25&offset=10&sortby=-area_km2",
    f"{C}?bbox=103.5,21.0,104.5,22.0&filter={quote('population>5000')}&sortby=name&limit=15",
    f"{C}?limit=10&offset=3315",
    f"{C}?limit=10&offset=9000",
    f"{C}?limit=10&offset=5000&filter={quote('population>10000')}",
    f"{C}?filter-lang=cql2-json&limit=30&filter="
    + quote(
        json.dumps(
            {
                "op": "and",
                "args": [
                    {"op": ">", "args": [{"property": "population"}, 20000]},
                    {
                        "op": "s_intersects",
                        "args": [
                            {"property": "geometry"},
                            {
                                "type": "Polygon",
                                "coordinates": [[[102, 20], [106, 20], [106, 23], [102, 23], [102, 20]]],
                            },
                        ],
                    },
                ],
            }
        )
    ),
    # a filter geometry in metres (VN-2000 / UTM 48N), the same box as above
    f"{C}?limit=40&filter-crs={quote('http://www.opengis.net/def/crs/EPSG/0/3405')}&filter="
    + quote("S_INTERSECTS(geometry, BBOX(380000, 2320000, 480000, 2430000))"),
    "/collections/gates/items?limit=100&sortby=-lat",
    "/collections/gates/items?filter=" + quote("partner_iso3 = 'LAO' AND lat > 20"),
    "/collections/roads/items?limit=20&filter=" + quote("is_railway = TRUE") + "&sortby=-length_m",
    "/collections/roads/items?limit=20&is_railway=true&sortby=length_m",
    "/collections/communes_2009/items?limit=30&filter=" + quote("population > 20000 AND province_code = '14'"),
]
ERRORS = [
    f"{C}?filter={quote('name > 5')}",
    f"{C}?filter={quote('population > ' + chr(39) + 'abc' + chr(39))}",
    f"{C}?filter={quote('nosuch > 5')}",
    f"{C}?filter={quote('population LIKE ' + chr(39) + '1%' + chr(39))}",
    f"{C}?sortby=nosuch",
    f"{C}?population=many",
    f"{C}?filter={quote('T_AFTER(population, TIMESTAMP(' + chr(39) + '2020-01-01T00:00:00Z' + chr(39) + '))')}",
    f"{C}?filter={quote('population')}",
]


def _body(r):
    body = r.json()
    body.pop("timeStamp", None)
    return body


@pytest.fixture
def statements(pclient, monkeypatch):
    """The statements the PostGIS store sends, with their parameters."""
    store = pclient.app.state.store
    seen: list[tuple[str, object]] = []
    real = store.fetch

    def fetch(query, params=None, **kw):
        text = query if isinstance(query, str) else query.as_string(None)
        seen.append((text, params))
        return real(query, params, **kw)

    monkeypatch.setattr(store, "fetch", fetch)
    return seen


@pytest.mark.parametrize("path", QUERIES)
def test_items_answer_the_same_on_both_stores(client, pclient, statements, path):
    a, b = client.get(path), pclient.get(path)
    assert a.status_code == 200, (path, a.text[:300])
    assert b.status_code == 200, (path, b.text[:300])
    assert _body(b) == _body(a), path
    assert b.headers["etag"] == a.headers["etag"]
    # the selection was made by the database, in one statement against the version's schema
    selects = [t for t, _ in statements if "LIMIT" in t]
    assert len(selects) == 1, statements
    assert re.search(r'FROM "gb_[0-9a-f]+"\."', selects[0]), selects[0]


def test_the_filter_is_sql_with_bound_values(pclient, statements):
    r = pclient.get(f"{C}?limit=5&filter=" + quote("name LIKE 'Mường%' AND population > 4321"))
    assert r.status_code == 200
    ((text, params),) = [(t, p) for t, p in statements if "LIMIT" in t]
    assert "Mường" not in text and "4321" not in text  # values are parameters, not SQL text
    assert "Mường%" in params.values() and 4321 in params.values()
    assert '"name" LIKE' in text and '"population" >' in text


@pytest.mark.parametrize("path", ERRORS)
def test_bad_filters_are_the_same_400_on_both_stores(client, pclient, path):
    a, b = client.get(path), pclient.get(path)
    assert a.status_code == 400, (path, a.text[:300])
    assert b.status_code == 400, (path, b.text[:300])


HOSTILE_VALUES = [
    "x'; DROP SCHEMA geoborder CASCADE; --",
    "' OR 1=1 --",
    "\\'; DELETE FROM geoborder.published; --",
    "%' UNION SELECT version() --",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_values_are_parameters_and_change_nothing(pclient, published_url, value):
    import psycopg

    paths = [
        f"{C}?filter=" + quote(f"name = '{value.replace(chr(39), chr(39) * 2)}'"),
        f"{C}?filter=" + quote(f"name LIKE '{value.replace(chr(39), chr(39) * 2)}'"),
        f"{C}?name=" + quote(value),
        f"{C}?province_code=" + quote(value) + "&sortby=name",
        f"{C}?filter-lang=cql2-json&filter=" + quote(json.dumps({"op": "=", "args": [{"property": "name"}, value]})),
    ]
    for path in paths:
        r = pclient.get(path)
        # pygeofilter's CQL2-text grammar has no escaped quote: such a text filter is a 400
        # (it never reaches SQL); every other form is a bound value that matches nothing
        if r.status_code == 400 and "filter=name" in path:
            assert "malformed cql2-text" in r.json()["description"]
            continue
        assert r.status_code == 200, (path, r.text[:300])
        assert r.json()["numberMatched"] == 0, path
    for path in [
        f"{C}?filter=" + quote(f'"{value}" = 1'),
        f"{C}?sortby=" + quote(value),
        f"{C}?filter-lang=cql2-json&filter=" + quote(json.dumps({"op": "=", "args": [{"property": value}, 1]})),
        f"/collections/{quote(value, safe='')}/items",
    ]:
        r = pclient.get(path)
        assert r.status_code in (400, 404), (path, r.status_code, r.text[:300])
    with psycopg.connect(published_url) as con:
        assert con.execute("SELECT count(*) FROM geoborder.published").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM geoborder_current.communes_2025").fetchone()[0] == 3321


# --------------------------------------------------------------------------- other CRSs


def _coords(doc) -> np.ndarray:
    out = []
    for f in doc["features"]:
        g = shapely.geometry.shape(f["geometry"])
        out.append(shapely.get_coordinates(g))
    return np.concatenate(out)


@pytest.mark.parametrize("epsg", [3405, 9206, 9210, 3857, 4756])
def test_other_crs_through_st_transform(client, pclient, statements, epsg):
    uri = f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"
    path = f"{C}?limit=15&offset=400&crs={quote(uri)}"
    a, b = client.get(path), pclient.get(path)
    assert a.status_code == b.status_code == 200, b.text[:300]
    assert b.headers["content-crs"] == a.headers["content-crs"] == f"<{uri}>"
    da, db = a.json(), b.json()
    assert [f["id"] for f in da["features"]] == [f["id"] for f in db["features"]]
    assert [f["properties"] for f in da["features"]] == [f["properties"] for f in db["features"]]
    ca, cb = _coords(da), _coords(db)
    assert ca.shape == cb.shape
    tol = 1e-6 if epsg == 4756 else 0.02  # degrees / metres: both PROJ pipelines agree to ~1 cm
    assert np.abs(ca - cb).max() <= tol, (epsg, np.abs(ca - cb).max())
    assert any("ST_Transform" in t for t, _ in statements)


def test_downloads_in_vn2000_through_st_transform(client, pclient, statements, tmp_path):
    uri = quote("http://www.opengis.net/def/crs/EPSG/0/9206")
    path = f"{C}?f=gpkg&crs={uri}&filter=" + quote("province_code = '14'")
    files = {}
    for name, c in (("gpkg", client), ("pg", pclient)):
        r = c.get(path)
        assert r.status_code == 200, r.text[:300]
        files[name] = tmp_path / f"{name}.gpkg"
        files[name].write_bytes(r.content)
    a = pyogrio.read_dataframe(files["gpkg"])
    b = pyogrio.read_dataframe(files["pg"])
    assert len(a) == len(b) > 50
    assert a.crs.to_epsg() == b.crs.to_epsg() == 9206
    assert list(a["commune_code"]) == list(b["commune_code"])
    assert float(shapely.hausdorff_distance(a.geometry.values, b.geometry.values).max()) < 0.02
    csv_path = f"{C}?f=csv&crs={uri}&limit=40&sortby=name"
    ta, tb = client.get(csv_path).text, pclient.get(csv_path).text
    ra, rb = list(io.StringIO(ta)), list(io.StringIO(tb))
    assert len(ra) == len(rb) == 41 and ra[0] == rb[0]
    assert [r.split(",")[1] for r in ra] == [r.split(",")[1] for r in rb]
    assert sum("ST_Transform" in t for t, _ in statements) >= 2


def test_indicator_columns_fall_back_to_memory_with_the_same_answer(real_store, published_url, tmp_path):
    """A filter or sort on a value joined from the indicator database is evaluated in memory (the
    published table does not hold it); the answer is still the GeoPackage store's. Values: the
    made-up fixture, imported into a throwaway indicator database shared by both apps."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.indicators.importing import import_file
    from geoborder.indicators.open import open_indicators

    fixture = Path(__file__).parent.parent / "fixtures" / "indicators_madeup_sonla_long_codes.csv"
    db = open_indicators(tmp_path / "indicators.sqlite")
    import_file(real_store, db, fixture.read_bytes(), fixture.name, who="test")
    store = pg_store(published_url)
    try:
        with TestClient(create_app(store=real_store, indicators=db)) as a_client, pg_client(store, db) as b_client:
            for path in [
                f"{C}?limit=10&filter=" + quote("poor_households > 300"),
                f"{C}?limit=10&sortby=-poor_households&filter=" + quote("poor_households IS NOT NULL"),
                f"{C}?limit=10&filter=" + quote("population > 5000 AND poverty_rate < 30"),
            ]:
                a, b = a_client.get(path), b_client.get(path)
                assert a.status_code == b.status_code == 200, (path, b.text[:300])
                assert a.json()["numberMatched"] > 0, path
                assert _body(a) == _body(b), path
    finally:
        store.close()


def test_a_filter_the_database_cannot_evaluate_is_a_400_not_a_503(pclient, published_url):
    """A data exception raised by PostgreSQL while evaluating a client's filter (here a float
    overflow; in memory the same filter gives infinity, and matches) is the client's 400, with the
    database's reason and no SQL; the store keeps answering."""
    import psycopg

    r = pclient.get(f"{C}?filter=" + quote("population * 1e300 * 1e300 > 1"))
    assert r.status_code == 400, r.text[:300]
    desc = r.json()["description"]
    assert desc.startswith("filter: cannot be evaluated") and "overflow" in desc and "SELECT" not in desc
    assert pclient.get(f"{C}?limit=1&filter=" + quote("population > 1")).status_code == 200
    with psycopg.connect(published_url) as con:
        assert con.execute("SELECT count(*) FROM geoborder_current.communes_2025").fetchone()[0] == 3321
