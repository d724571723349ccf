"""The spatial queries on PostGIS (issue 8): touching, roadless, nearest gates and border zone run
their spatial work in SQL (geoborder.store.postgis.queries) and answer the same documents as on the
GeoPackage; hostile parameter values are 400/404 and change nothing.

The PostgreSQL cluster and the shared fixtures are in pg_fixtures.py.
"""

from __future__ import annotations

import math

import pytest
import shapely
from pg_fixtures import pg_count as _count
from shapely.geometry import shape

pytestmark = pytest.mark.realpack

#: figures in metres may differ by this much between GEOS (shapely) and PostGIS; km figures are
#: rounded to 3 decimals, so they may differ by one unit of the last decimal
TOL_M = 1.0
TOL_KM = 1.001e-3
#: geometries are the same features (or the same lines reprojected): within 1e-5 degree (~1 m)
TOL_DEG = 1e-5


def _diff(a, b, path="", out=None) -> list[str]:
    """Differences between two answer documents, figures compared with the tolerances above."""
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            out.append(f"{path}: keys {sorted(set(a) ^ set(b))}")
        for k in a.keys() & b.keys():
            if k == "geometry" and isinstance(a[k], dict) and isinstance(b[k], dict):
                ga, gb = shape(a[k]), shape(b[k])
                if ga.geom_type != gb.geom_type or shapely.hausdorff_distance(ga, gb) > TOL_DEG:
                    out.append(f"{path}.geometry differs")
            else:
                _diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items != {len(b)}")
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                _diff(x, y, f"{path}[{i}]", out)
    elif isinstance(a, float) and isinstance(b, float):
        tol = TOL_KM if path.endswith("_km") else TOL_M
        if not (math.isclose(a, b, rel_tol=1e-6, abs_tol=tol)):
            out.append(f"{path}: {a} != {b}")
    elif a != b:
        out.append(f"{path}: {a!r} != {b!r}")
    return out


PARITY = [
    # touching across the border (segments) and within Vietnam (adjacency in SQL)
    ("/queries/touching", {"unit": "Houaphanh", "within": "14"}),
    ("/queries/touching", {"unit": "Luang Prabang", "within": "Sơn La", "geometry": "shared"}),
    ("/queries/touching", {"unit": "Lào Cai", "within": "Xín Mần", "vintage": 2009}),
    ("/queries/touching", {"unit": "Si Ma Cai", "within": "Xín Mần", "vintage": 2009}),
    ("/queries/touching", {"unit": "Xín Mần", "vintage": 2009}),
    ("/queries/touching", {"unit": "Xín Mần", "vintage": 2009, "geometry": "shared", "min_shared_km": 0.1}),
    ("/queries/touching", {"unit": "Lào Cai", "within": "Sơn La"}),
    ("/queries/touching", {"unit": "Sơn La", "geometry": "shared"}),
    ("/queries/touching", {"unit": "Quảng Ninh", "within": "Sơn La"}),
    ("/queries/touching", {"unit": "Điện Biên", "min_shared_km": 5}),
    # roadless: thresholds, classes, countries, border filters, per commune
    ("/queries/roadless-villages", {"min_distance_m": 2000}),
    ("/queries/roadless-villages", {"min_distance_m": 0, "countries": "all"}),
    ("/queries/roadless-villages", {"min_distance_m": 0, "countries": "all", "layer": "towns"}),
    ("/queries/roadless-villages", {"min_distance_m": 500, "road_classes": "quoc gia"}),
    ("/queries/roadless-villages", {"min_distance_m": 500, "road_classes": "quoc gia", "layer": "towns"}),
    (
        "/queries/roadless-villages",
        {"min_distance_m": 1000, "road_classes": "Cấp Tỉnh,Asean", "countries": "VN,LA", "layer": "towns"},
    ),
    ("/queries/roadless-villages", {"min_distance_m": 2000, "border_km": 10}),
    ("/queries/roadless-villages", {"min_distance_m": 1000, "border_km": 25, "partner": "LA-HO", "vintage": 2009}),
    ("/queries/roadless-villages", {"min_distance_m": 0, "border_km": 15, "partner": "CHN"}),
    ("/queries/roadless-villages", {"min_distance_m": 99_000}),
    ("/queries/roadless-villages/by-commune", {"min_distance_m": 2000}),
    ("/queries/roadless-villages/by-commune", {"min_distance_m": 5000, "countries": "all", "vintage": 2009}),
    ("/queries/roadless-villages/by-commune", {"min_distance_m": 5000, "layer": "towns", "vintage": 2009}),
    ("/queries/roadless-villages/by-commune", {"min_distance_m": 1000, "border_km": 20, "partner": "Vân Nam"}),
    # nearest gates from a point, a commune (seat, or a point inside for 2009) and a settlement
    ("/queries/nearest-gates", {"lon": 103.9, "lat": 21.3, "k": 3, "international_only": True}),
    ("/queries/nearest-gates", {"lon": 105.8, "lat": 21.0, "k": 100}),
    ("/queries/nearest-gates", {"lon": 106.2, "lat": 10.9, "k": 5, "partner": "Campuchia"}),
    ("/queries/nearest-gates", {"commune": "04045", "k": 5}),
    ("/queries/nearest-gates", {"commune": "04240", "k": 100, "published_only": True}),
    ("/queries/nearest-gates", {"commune": "3031939", "k": 4}),
    ("/queries/nearest-gates", {"geonameid": "10631710", "k": 2, "partner": "Trung Quốc"}),
    ("/queries/nearest-gates", {"geonameid": "10314760", "k": 3}),  # a village
    # border zone: widths, partners (country, province, Lao district), parts, countries, vintages
    ("/queries/border-zone", {"distance_km": 10}),
    ("/queries/border-zone", {"distance_km": 5, "partner": "Houaphanh", "include": "communes"}),
    ("/queries/border-zone", {"distance_km": 3, "partner": "Vân Nam", "include": "communes,roads"}),
    ("/queries/border-zone", {"distance_km": 20, "partner": "KHM", "countries": "all"}),
    ("/queries/border-zone", {"distance_km": 8, "partner": "Mường Ét", "vintage": 2009}),
    ("/queries/border-zone", {"distance_km": 0.5, "include": "settlements,roads", "countries": "VN,CN"}),
    ("/queries/border-zone", {"distance_km": 40, "partner": "LAO", "include": "roads"}),
    ("/queries/border-zone", {"distance_km": 10, "partner": "Houaphanh", "include": "villages"}),
    ("/queries/border-zone", {"distance_km": 2, "include": "villages", "vintage": 2009}),
]


@pytest.mark.parametrize("url,params", PARITY, ids=[f"{u.rsplit('/', 1)[1]}-{i}" for i, (u, _) in enumerate(PARITY)])
def test_same_answer_on_postgis_and_geopackage(client, pclient, url, params):
    a, b = client.get(url, params=params), pclient.get(url, params=params)
    assert a.status_code == b.status_code == 200, (a.text[:300], b.text[:300])
    assert b.headers["content-type"].startswith("application/geo+json")
    fa, fb = a.json(), b.json()
    # ids (commune codes, geonameids, gate ids, road ids) equal, in the same order
    assert [f.get("id") for f in fa["features"]] == [f.get("id") for f in fb["features"]]
    assert _diff(fa, fb) == []


@pytest.mark.parametrize(
    "url,params",
    [
        ("/queries/touching", {"unit": "Houaphanx"}),
        ("/queries/touching", {"unit": "LA-ZZ"}),
        ("/queries/touching", {"unit": "Lào Cai", "within": "99", "vintage": 2009}),
        ("/queries/roadless-villages", {"road_classes": "autobahn"}),
        ("/queries/roadless-villages", {"countries": "XX"}),
        ("/queries/roadless-villages", {"partner": "LAO"}),
        ("/queries/roadless-villages", {"border_km": 0}),
        ("/queries/nearest-gates", {"lon": 2.35, "lat": 48.85}),
        ("/queries/nearest-gates", {"lon": 120.0, "lat": 30.0}),  # inside the extent, far from Vietnam
        ("/queries/nearest-gates", {"commune": "99999"}),
        ("/queries/nearest-gates", {"commune": "04045", "partner": "LA-HO"}),
        ("/queries/border-zone", {"distance_km": 0}),
        ("/queries/border-zone", {"partner": "Narnia"}),
        ("/queries/border-zone", {"include": "houses"}),
    ],
)
def test_same_errors_on_postgis_and_geopackage(client, pclient, url, params):
    a, b = client.get(url, params=params), pclient.get(url, params=params)
    assert a.status_code == b.status_code and a.status_code in (400, 404), (a.text, b.text)
    assert a.json() == b.json()


# --------------------------------------------------------------------------- the SQL path is taken


def _no_memory(monkeypatch):
    """Make the in-memory spatial machinery (metric geometries, STRtree) fail if it is used."""
    from geoborder.queries import _common, _local

    def refuse(*a, **k):
        raise AssertionError("the in-memory spatial path was used on PostGIS")

    monkeypatch.setattr(_common._Metric, "geoms", refuse)
    monkeypatch.setattr(_common._Metric, "tree", refuse)
    monkeypatch.setattr(_local, "STRtree", refuse)
    # the store answers with its SQL engine: no primitive of the in-memory engine is called
    for name in (
        "distance_to_vietnam",
        "origin",
        "nearest_gates",
        "roadless",
        "settlements_per_commune",
        "adjacency",
        "zone",
    ):
        monkeypatch.setattr(_local.LocalSpatial, name, refuse)


def _count_sql(monkeypatch) -> list:
    from geoborder.store.postgis import spatial_sql as _sql

    seen = []
    real = _sql.fetch

    def counting(store, query, params=None):
        seen.append(query)
        return real(store, query, params)

    monkeypatch.setattr(_sql, "fetch", counting)
    return seen


def test_the_spatial_work_runs_in_sql(pstore, real_store, monkeypatch):
    from geoborder import queries as q
    from geoborder.core.cache import LRU
    from geoborder.store.postgis import spatial_sql as _sql

    _no_memory(monkeypatch)
    # what the SQL path keeps per version (nearest roads, communes of settlements, ...) is computed
    # in SQL: each question below starts from an empty cache, so it reaches the database
    monkeypatch.setattr(_sql, "_CACHE", LRU(_sql._CACHE_SIZE))
    seen = _count_sql(monkeypatch)
    calls = [
        lambda s: q.touching(s, "Lào Cai", within="Xín Mần", vintage=2009, geometry="shared"),
        lambda s: q.touching(s, "Lào Cai", within="Sơn La"),
        lambda s: q.roadless_villages(s, min_distance_m=2000, border_km=10),
        lambda s: q.roadless_by_commune(s, min_distance_m=2000),
        lambda s: q.roadless_villages(s, min_distance_m=2000, border_km=10, layer="towns"),
        lambda s: q.nearest_gates(s, geonameid="10314760", k=3),
        lambda s: q.nearest_gates(s, lon=103.9, lat=21.3, k=3),
        lambda s: q.nearest_gates(s, commune="3031939", k=3),
        lambda s: q.nearest_gates(s, geonameid="10631710", k=3),
        lambda s: q.border_zone(s, distance_km=5, partner="Houaphanh"),
    ]
    for call in calls:
        before = len(seen)
        _sql._CACHE.clear()
        q.ANSWERS.clear()  # and no held answer (geoborder.queries.answers)
        assert call(pstore)["type"] == "FeatureCollection"
        assert len(seen) > before  # at least one statement per question
    # every statement reads the published version's own schema, never the current views
    schema = pstore.snapshot().schema
    with pstore._get_pool().connection() as con:
        texts = [x.as_string(con) for x in seen]
    assert all(f'"{schema}".' in t for t in texts)
    assert not any("geoborder_current" in t for t in texts)
    # and the in-memory store still answers in memory (the guard above refuses it)
    with pytest.raises(AssertionError, match="in-memory"):
        q.border_zone(real_store, distance_km=5)


def test_a_request_reads_one_snapshot(pstore, monkeypatch):
    """One request reads one snapshot (the store's `pinned()` block, opened by the query itself
    and by the API's middleware): when the published version changes under it, its SQL and frames
    still read the version it started on, so they never mix two versions."""
    import dataclasses
    import time

    from geoborder import queries as q

    real = pstore.snapshot()
    other = dataclasses.replace(real, version="0" * 16, schema="gb_" + "0" * 16, frames={})
    seen = _count_sql(monkeypatch)
    with pstore.pinned():
        monkeypatch.setattr(pstore, "_snap", other)  # the pointer moved while the request runs
        monkeypatch.setattr(pstore, "_checked", time.monotonic())
        assert pstore.snapshot() is real and pstore.version == real.version
        fc = q.nearest_gates(pstore, lon=103.9, lat=21.3, k=2)
    assert pstore.snapshot() is other  # outside the block: the new version
    assert len(fc["features"]) == 2 and seen
    with pstore._get_pool().connection() as con:
        texts = [x.as_string(con) for x in seen]
    assert all(f'"{real.schema}".' in t for t in texts)
    assert not any(other.schema in t for t in texts)


# --------------------------------------------------------------------------- hostile values

HOSTILE_VALUES = [
    "'; DROP SCHEMA geoborder CASCADE; --",
    "x') OR 1=1; DELETE FROM geoborder.published; --",
    'communes_2025"; DROP TABLE places; --',
    "LA-HO' UNION SELECT version() --",
    "04045; DROP TABLE gates",
    "$1::text; SELECT pg_sleep(5)",
]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_values_are_400_or_404_and_change_nothing(pstore, pclient, published_url, value):
    schema = pstore.snapshot().schema
    before = {t: _count(published_url, schema, t) for t in ("places", "gates", "roads", "communes_2025")}
    attempts = [
        ("/queries/touching", {"unit": value}),
        ("/queries/touching", {"unit": "Lào Cai", "within": value, "vintage": 2009}),
        ("/queries/roadless-villages", {"countries": value}),
        ("/queries/roadless-villages", {"road_classes": value}),
        ("/queries/roadless-villages", {"border_km": 10, "partner": value}),
        ("/queries/roadless-villages/by-commune", {"countries": f"VN,{value}"}),
        ("/queries/nearest-gates", {"commune": value}),
        ("/queries/nearest-gates", {"geonameid": value}),
        ("/queries/nearest-gates", {"lon": 103.9, "lat": 21.3, "partner": value}),
        ("/queries/nearest-gates", {"lon": value, "lat": 21.3}),
        ("/queries/border-zone", {"partner": value}),
        ("/queries/border-zone", {"include": value}),
        ("/queries/border-zone", {"countries": value}),
        ("/queries/border-zone", {"distance_km": value}),
    ]
    for url, params in attempts:
        r = pclient.get(url, params=params)
        assert r.status_code in (400, 404), (url, params, r.status_code, r.text[:300])
        assert "Traceback" not in r.text and "psycopg" not in r.text
    after = {t: _count(published_url, schema, t) for t in before}
    assert after == before
    assert pstore.refresh() == schema.removeprefix("gb_")  # the pointer still names the same version
    ok = pclient.get("/queries/nearest-gates", params={"commune": "04045", "k": 1})
    assert ok.status_code == 200 and ok.json()["features"][0]["id"] == "long-sap"


# --------------------------------------------------------------------------- the indexes the SQL uses


def test_publish_stores_the_metric_geometry(published_url, pstore):
    """The layers the queries measure hold `geometry_m` (the metric geometry, repaired where
    invalid, as shapely repairs it) with a GiST index; it is not a property, nor in the views."""
    import psycopg
    from psycopg import sql

    from geoborder.store.postgis.naming import METRIC_COLUMN, METRIC_LAYERS, metric_srid

    srid = metric_srid(pstore.catalog)
    schema = pstore.snapshot().schema
    with psycopg.connect(published_url) as con:
        idx = con.execute("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)).fetchall()
        cols = con.execute(
            """SELECT f_table_name, type, srid FROM geometry_columns
                              WHERE f_table_schema = %s AND f_geometry_column = %s""",
            (schema, METRIC_COLUMN),
        ).fetchall()
        plan = "\n".join(
            r[0]
            for r in con.execute(
                sql.SQL(
                    "EXPLAIN SELECT fid FROM {}.places ORDER BY {} <-> "
                    "ST_Transform(ST_SetSRID(ST_MakePoint(104, 21), 4326), {}) LIMIT 1"
                ).format(sql.Identifier(schema), sql.Identifier(METRIC_COLUMN), sql.Literal(srid))
            ).fetchall()
        )
        invalid = con.execute(
            sql.SQL("SELECT count(*) FROM {}.communes_2025 WHERE NOT ST_IsValid({})").format(
                sql.Identifier(schema), sql.Identifier(METRIC_COLUMN)
            )
        ).fetchone()[0]
        view_cols = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'geoborder_current'"
            )
        }
    assert {t for t, _, s in cols if s == srid} == set(METRIC_LAYERS)
    assert {t: ty for t, ty, _ in cols}["places"] == "POINT"
    gist = {t for t, d in idx if f"USING gist ({METRIC_COLUMN})" in d}
    assert gist == set(METRIC_LAYERS)
    assert not any("st_transform" in d.lower() for _, d in idx)  # no expression index left
    assert invalid == 0
    assert f"places_{METRIC_COLUMN}_gist" in plan  # KNN through the index
    assert METRIC_COLUMN not in view_cols and "geometry" in view_cols
    assert METRIC_COLUMN not in pstore.table_columns("communes_2025")
    assert METRIC_COLUMN not in pstore.frame("places").columns
