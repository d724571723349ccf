"""The PostGIS store (issue 8): `geoborder publish`, `PostgisStore`, parity with the GeoPackage,
switching versions under readers, crash safety and hostile identifiers.

The PostgreSQL cluster and the shared fixtures are in pg_fixtures.py (CI=true: fail, not skip,
when it cannot start).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pg_fixtures import HOSTILE, free_port
from pg_fixtures import pg_client as _client
from pg_fixtures import pg_count as _count
from pg_fixtures import pg_store as _store
from pg_fixtures import publish_store as _publish

pytestmark = pytest.mark.realpack

ROOT = Path(__file__).resolve().parents[2]
# --------------------------------------------------------------------------- publish = GeoPackage


def test_published_layers_equal_the_geopackage(real_store, published_url):
    from geoborder.store.postgis.publish import schema_for

    pst = _store(published_url)
    assert pst.version == real_store.version
    schema = schema_for(pst.version)
    assert pst.layers() == real_store.layers()  # ids, titles, counts, extents, licences
    assert pst.build_info() == real_store.build_info()
    for info in real_store.layers():
        assert _count(published_url, schema, info.id) == info.feature_count, info.id
        a, b = real_store.frame(info.id), pst.frame(info.id)
        assert_geodataframe_equal(a, b)  # same columns, dtypes, fid index, values, CRS
        sample = np.arange(0, len(a), max(1, len(a) // 25))
        wa = shapely.to_wkb(np.asarray(a.geometry.values[sample], dtype=object))
        wb = shapely.to_wkb(np.asarray(b.geometry.values[sample], dtype=object))
        assert list(wa) == list(wb), info.id  # the geometries, byte for byte
    for name in ("markers_unplaced", "geoborder_layers", "geoborder_sources", "geoborder_build"):
        pd.testing.assert_frame_equal(pst.table(name), real_store.table(name))
    assert pst.frame("communes_2025") is pst.frame("communes_2025")  # read once per version


def test_published_schema_has_keys_gist_indexes_and_current_views(published_url, real_store):
    import psycopg

    from geoborder.store.postgis.publish import schema_for

    schema = schema_for(real_store.version)
    with psycopg.connect(published_url) as con:
        idx = con.execute("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)).fetchall()
        pk = dict(
            con.execute(
                """
            SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
            WHERE c.contype = 'p' AND c.connamespace = %s::regnamespace""",
                (schema,),
            ).fetchall()
        )
        analyzed = {
            r[0] for r in con.execute("SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = %s", (schema,))
        }  # ANALYZE's statistics
        views = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.views WHERE table_schema = 'geoborder_current'"
            )
        }
        n_view = con.execute("SELECT count(*) FROM geoborder_current.communes_2025").fetchone()[0]
    gist = {t for t, d in idx if "USING gist (geometry)" in d}
    for info in real_store.layers():
        assert info.id in gist, info.id
        assert pk[f"{schema}.{info.id}"] == (info.key_field or "fid")
        assert info.id in analyzed, info.id
        assert info.id in views
    assert n_view == real_store.layer("communes_2025").feature_count


# --------------------------------------------------------------------------- API parity

PARITY_PATHS = ["/layers", "/health", "/?f=json", "/layers?lang=en"]
OGC_PATHS = [
    "/collections",
    "/collections/communes_2025",
    "/collections/communes_2025/queryables",
    "/collections/communes_2025/items?limit=5",
    "/collections/communes_2025/items?bbox=103.5,21.0,104.5,22.0&limit=20",
    "/collections/communes_2025/items?filter=population>10000&limit=10",
    "/collections/gates/items?limit=100",
    "/collections/border_communes_2009/items?limit=3&offset=100",
]


def _body(r):
    body = r.json()
    if isinstance(body, dict):
        body.pop("timeStamp", None)  # the time of the answer
    return body


def test_the_api_answers_the_same_on_postgis(client, published_url):
    # the same indicator database as `client`: ETags are keyed by its revision too
    with _client(_store(published_url), client.app.state.indicators) as pclient:
        paths = list(PARITY_PATHS)
        if client.get("/collections").status_code == 200:
            paths += OGC_PATHS
            first = client.get("/collections/communes_2025/items?limit=1").json()["features"][0]["id"]
            paths.append(f"/collections/communes_2025/items/{first}")
        for path in paths:
            a, b = client.get(path), pclient.get(path)
            assert a.status_code == 200, (path, a.text[:300])
            assert b.status_code == a.status_code, (path, b.text[:300])
            assert _body(b) == _body(a), path
            assert b.headers.get("etag") == a.headers.get("etag"), path  # keyed by the same version


# --------------------------------------------------------------------------- versions under readers


def test_new_version_is_picked_up_whole_and_rolled_back(pg, v1_template, v2_store, real_store):
    from click.testing import CliRunner

    from geoborder.cli.main import main

    url = pg.new_db(v1_template)
    v1 = real_store.version
    live = _store(url, refresh=0)  # re-reads the pointer at every access
    lazy = _store(url, refresh=3600)  # a worker between two pointer checks
    pop_v1 = int(live.frame("communes_2025").loc[1, "population"])
    lazy.frame("communes_2025")

    res = _publish(v2_store, url)
    v2 = res.version
    assert (res.previous, res.loaded) == (v1, True) and v2 != v1
    assert live.version == v2
    assert int(live.frame("communes_2025").loc[1, "population"]) == pop_v1 + 1000
    # the lazy worker keeps answering one whole version (v1) until its next check, then all of v2
    assert lazy.version == v1 and int(lazy.frame("communes_2025").loc[1, "population"]) == pop_v1
    assert lazy.refresh() == v2 and int(lazy.frame("communes_2025").loc[1, "population"]) == pop_v1 + 1000
    assert lazy.build_info()["fingerprint"].startswith(v2)

    runner = CliRunner()
    out = runner.invoke(main, ["publish", "--to", url, "--list"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"  {v1}") and lines[1].startswith(f"* {v2}")

    with _client(live) as c:
        assert c.get("/health").json()["data_version"] == v2
        out = runner.invoke(main, ["publish", "--to", url, "--rollback"])
        assert out.exit_code == 0, out.output
        assert f"{v2} -> {v1}" in out.output
        assert c.get("/health").json()["data_version"] == v1
        assert c.get("/layers").json()["data_version"] == v1
    assert int(live.frame("communes_2025").loc[1, "population"]) == pop_v1
    out = runner.invoke(main, ["publish", "--to", url, "--rollback"])  # nothing older than v1
    assert out.exit_code == 2 and "nothing to roll back to" in out.output
    # publishing v2 again only switches (it is still loaded); v1 can then be dropped, v2 cannot
    res = _publish(v2_store, url)
    assert (res.version, res.loaded, res.previous) == (v2, False, v1)
    out = runner.invoke(main, ["publish", "--to", url, "--drop", v2])
    assert out.exit_code == 2 and "is current" in out.output
    out = runner.invoke(main, ["publish", "--to", url, "--drop", v1])
    assert out.exit_code == 0, out.output
    out = runner.invoke(main, ["publish", "--to", url, "--list"])
    assert out.output.splitlines() == [line for line in out.output.splitlines() if v2 in line] != []
    live.close()
    lazy.close()


def test_ogc_items_follow_a_new_version(pg, v1v2_template):
    """The OGC layer's per-layer cache follows `store.version` (items and their ETag change together)."""
    from geoborder.store.postgis.versions import activate

    url = pg.new_db(v1v2_template)
    store = _store(url, refresh=0)
    with _client(store) as c:
        r1 = c.get("/collections/communes_2025/items?limit=1")
        activate(url, "ab" + store.version[2:])
        r2 = c.get("/collections/communes_2025/items?limit=1")
    before, after = r1.json()["features"][0], r2.json()["features"][0]
    assert after["properties"]["population"] == before["properties"]["population"] + 1000
    assert r1.headers["etag"] != r2.headers["etag"]
    store.close()


# --------------------------------------------------------------------------- crash safety


def _publish_paused(url: str, store: Path, point: str) -> subprocess.Popen:
    """`geoborder publish` in a subprocess, stopped by the test-only hook at `point`."""
    env = dict(os.environ, GEOBORDER_TEST_PUBLISH_PAUSE=point)
    proc = subprocess.Popen(
        [sys.executable, "-m", "geoborder.cli.main", "publish", "--to", url, "--store", str(store)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,
    )
    marker = f"geoborder-test: paused at {point}".encode()
    seen = b""
    while marker not in seen:
        ready, _, _ = select.select([proc.stdout], [], [], 120)  # a guard against a hung publish only
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        if not chunk:
            _kill(proc)
            pytest.fail(f"publish did not reach the pause at {point}: {seen.decode(errors='replace')[-2000:]}")
        seen += chunk
    return proc


def _kill(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    proc.stdout.close()


def test_publish_killed_while_loading_leaves_nothing(pg, v1_template, v2_store, real_store):
    import psycopg

    from geoborder.store.postgis.publish import schema_for
    from geoborder.store.postgis.versions import list_versions

    url = pg.new_db(v1_template)
    v1 = real_store.version
    store = _store(url, refresh=0)
    with _client(store) as c:
        proc = _publish_paused(url, v2_store, "loading")  # inside the load transaction, 2 tables copied
        try:
            assert store.version == v1
            assert c.get("/health").json()["data_version"] == v1
            assert c.get("/layers").status_code == 200
        finally:
            _kill(proc)
        assert c.get("/health").json()["data_version"] == v1
        r = c.get("/layers")
        assert r.status_code == 200 and r.json()["data_version"] == v1
    with psycopg.connect(url) as con:  # the half-loaded schema went with the transaction
        v2 = "ab" + v1[2:]
        assert con.execute("SELECT to_regnamespace(%s)", (schema_for(v2),)).fetchone()[0] is None
    assert [(v.version, v.current) for v in list_versions(url)] == [(v1, True)]
    assert len(store.frame("communes_2025")) == real_store.layer("communes_2025").feature_count
    res = _publish(v2_store, url)  # the lock was released: a new publish goes through
    assert res.loaded and store.version == res.version
    store.close()


def test_publish_killed_before_the_switch_keeps_readers_on_the_previous_version(pg, v1_template, v2_store, real_store):
    from geoborder.store.postgis.versions import list_versions

    url = pg.new_db(v1_template)
    v1 = real_store.version
    store = _store(url, refresh=0)
    with _client(store) as c:
        proc = _publish_paused(url, v2_store, "switch")  # v2 loaded and committed, not switched
        try:
            assert store.version == v1
            assert c.get("/health").json()["data_version"] == v1
        finally:
            _kill(proc)
        assert c.get("/health").json()["data_version"] == v1
        versions = list_versions(url)
        assert [(v.version, v.current) for v in versions] == [(v1, True), ("ab" + v1[2:], False)]
        assert (
            store.frame("communes_2025").loc[1, "population"] == real_store.frame("communes_2025").loc[1, "population"]
        )
        res = _publish(v2_store, url)  # the next publish of the same store only switches
        assert (res.loaded, res.previous) == (False, v1)
        assert c.get("/health").json()["data_version"] == res.version
    store.close()


# --------------------------------------------------------------------------- identifiers and roles


def _hostile_gpkg(folder: Path, *, layer: str = "communes_2025", column: str = "population") -> Path:
    import geopandas as gpd
    import pyogrio

    path = folder / "hostile.gpkg"
    path.unlink(missing_ok=True)
    gdf = gpd.GeoDataFrame(
        {"commune_code": ["00001"], column: [1]}, geometry=[shapely.box(104, 21, 104.1, 21.1)], crs="EPSG:4326"
    )
    pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG")
    for name, df in (
        ("geoborder_build", pd.DataFrame({"key": ["fingerprint"], "value": ["cd" * 32]})),
        ("geoborder_layers", pd.DataFrame({"layer_id": [layer]})),
    ):
        pyogrio.write_dataframe(df, path, layer=name, driver="GPKG")
    return path


@pytest.mark.parametrize("what", ["layer", "column", "unknown_layer", "role"])
def test_hostile_identifiers_are_refused_before_sql(tmp_path, pg, published_url, real_store, what):
    from geoborder.store.postgis.publish import PublishError, publish, schema_for

    kw, grant = {}, ()
    if what == "layer":
        kw["layer"] = HOSTILE
    elif what == "column":
        kw["column"] = 'population"; DROP SCHEMA geoborder CASCADE; --'
    elif what == "unknown_layer":
        kw["layer"] = "evil_layer"
    path = _hostile_gpkg(tmp_path, **kw) if what != "role" else real_store.path
    if what == "role":
        grant = ['reader"; DROP SCHEMA geoborder CASCADE; --']
    # refused before any connection: a URL where nothing listens gives the refusal, not a
    # connection error
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    with pytest.raises(PublishError, match="refused"):
        publish(path, nowhere, grant=grant)
    with pytest.raises(PublishError, match="refused"):
        publish(path, published_url, grant=grant)
    store = _store(published_url)
    assert store.version == real_store.version
    assert (
        _count(published_url, schema_for(store.version), "communes_2025")
        == real_store.layer("communes_2025").feature_count
    )


def test_hostile_ids_and_filters_on_postgis_reach_no_sql(published_url, real_store):
    from geoborder.core.errors import NotFound
    from geoborder.store.postgis.publish import schema_for

    store = _store(published_url)
    for bad in (HOSTILE, "communes_2025;", "geoborder.published", "../communes_2025", ""):
        with pytest.raises(NotFound):
            store.frame(bad)
        with pytest.raises(NotFound):
            store.table(bad)
    with _client(store) as c:
        assert c.get("/collections/" + HOSTILE.replace(" ", "%20") + "/items").status_code == 404
        ogc = c.get("/collections").status_code == 200
        if ogc:
            for q in (
                "filter=name = 'x''; DROP SCHEMA geoborder CASCADE; --'",
                "filter=name = 'x; DROP SCHEMA geoborder CASCADE; --'",
                "filter=commune_code = '1'' OR ''1''=''1'",
                'filter="population; DROP SCHEMA geoborder CASCADE" > 1',
                "sortby=population;DROP SCHEMA geoborder CASCADE",
                "filter=population > 1; DROP SCHEMA geoborder CASCADE",
            ):
                r = c.get("/collections/communes_2025/items?" + q)
                assert r.status_code == 400 or (r.status_code == 200 and r.json()["features"] == []), (q, r.text[:200])
            r = c.get("/collections/communes_2025/items/" + "1'%20OR%20'1'='1")
            assert r.status_code in (400, 404)
        assert c.get("/health").json()["data_version"] == real_store.version
    assert (
        _count(published_url, schema_for(store.version), "communes_2025")
        == real_store.layer("communes_2025").feature_count
    )
    store.close()


def test_service_role_reads_but_cannot_write(pg, v1_template, real_store):
    import psycopg

    from geoborder.store.postgis.publish import schema_for

    url = pg.new_db(v1_template)
    with pg.admin() as con:
        con.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gb_reader') "
            "THEN CREATE ROLE gb_reader LOGIN; END IF; END $$"
        )
    res = _publish(real_store.path, url, grant=["gb_reader"])
    assert not res.loaded  # already loaded: only the grants and the switch
    reader_url = url.replace("postgres@", "gb_reader@")
    store = _store(reader_url)
    assert store.version == real_store.version
    assert len(store.frame("gates")) == real_store.layer("gates").feature_count
    schema = schema_for(store.version)
    with psycopg.connect(reader_url) as con:
        assert (
            con.execute("SELECT count(*) FROM geoborder_current.gates").fetchone()[0]
            == real_store.layer("gates").feature_count
        )
        for stmt in (
            f"DELETE FROM {schema}.gates",
            "UPDATE geoborder.published SET version = 'x'",
            f"CREATE TABLE {schema}.x (a int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(stmt)
            con.rollback()
    store.close()


def test_a_publisher_that_cannot_add_crss_is_told_and_the_service_reprojects_in_python(pg, real_store, client):
    """spatial_ref_sys lacks the VN-2000 TM-3 zones; a publisher without INSERT on it publishes all
    the same, is told, and the service answers those CRSs through pyproj (same coordinates)."""
    from urllib.parse import quote

    url = pg.new_db()  # PostGIS only: nothing published, no CRS added
    db = url.rsplit("/", 1)[1]
    with pg.admin() as con:
        con.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gb_publisher') "
            "THEN CREATE ROLE gb_publisher LOGIN; END IF; END $$"
        )
        con.execute(f'GRANT CREATE ON DATABASE "{db}" TO gb_publisher')
    said: list[str] = []
    res = _publish(real_store.path, url.replace("postgres@", "gb_publisher@"), emit=said.append)
    assert res.version == real_store.version
    assert any("cannot add them" in m and "9206" in m for m in said), said
    store = _store(url)
    try:
        assert 9206 not in store.transform_srids() and 3405 in store.transform_srids()
        path = "/collections/communes_2025/items?limit=5&crs=" + quote("http://www.opengis.net/def/crs/EPSG/0/9206")
        with _client(store, client.app.state.indicators) as c:
            a, b = client.get(path), c.get(path)
        assert a.status_code == b.status_code == 200
        assert _body(a) == _body(b)  # the same pyproj transform, to the byte
    finally:
        store.close()


def test_open_store_chooses_the_implementation_from_the_setting(published_url, real_store_path, monkeypatch):
    from geoborder.core.settings import StoreSettings
    from geoborder.store.gpkg import GpkgStore
    from geoborder.store.open import open_store
    from geoborder.store.postgis.store import PostgisStore

    monkeypatch.setenv("GEOBORDER_STORE", published_url)
    monkeypatch.setenv("GEOBORDER_STORE_REFRESH_SECONDS", "7")
    monkeypatch.setenv("GEOBORDER_STORE_POOL_SIZE", "3")
    s = StoreSettings()
    assert s.store == published_url
    st = open_store(s.store, settings=s)
    assert isinstance(st, PostgisStore) and st.refresh_seconds == 7 and st.pool_size == 3
    assert "postgres@127.0.0.1" in st.path
    st.close()
    # the settings given reach the store; the environment is not read again behind them
    given = StoreSettings(store=published_url, store_refresh_seconds=2, store_pool_size=5)
    st = open_store(given.store, settings=given)
    assert st.refresh_seconds == 2 and st.pool_size == 5
    st.close()
    monkeypatch.setenv("GEOBORDER_STORE", str(real_store_path))
    assert StoreSettings().store == real_store_path
    assert isinstance(open_store(StoreSettings().store), GpkgStore)


def test_the_settings_given_to_create_app_reach_the_store(published_url, monkeypatch, tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.core.settings import StoreSettings

    monkeypatch.setenv("GEOBORDER_STORE_POOL_SIZE", "9")  # the environment says otherwise
    given = StoreSettings(
        store=published_url, store_refresh_seconds=3, store_pool_size=2, indicators=tmp_path / "i.sqlite"
    )
    with TestClient(create_app(store_settings=given)) as client:
        store = client.app.state.store
        assert (store.refresh_seconds, store.pool_size) == (3, 2)
        assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    "name,value",
    [
        ("GEOBORDER_STORE_POOL_SIZE", "0"),
        ("GEOBORDER_STORE_POOL_SIZE", "many"),
        ("GEOBORDER_STORE_REFRESH_SECONDS", "-1"),
    ],
)
def test_bad_store_settings_are_refused_naming_the_setting(monkeypatch, name, value):
    from click.testing import CliRunner
    from pydantic import ValidationError

    from geoborder.cli.main import main
    from geoborder.core.settings import StoreSettings

    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as e:
        StoreSettings()
    assert name.removeprefix("GEOBORDER_").lower() in str(e.value)
    r = CliRunner().invoke(main, ["info"])  # the command line: one line, no traceback
    assert r.exit_code == 2 and f"invalid setting: {name}={value!r}" in r.output, r.output


def test_nothing_published_is_a_clear_store_error(pg):
    from geoborder.core.errors import StoreError

    url = pg.new_db()
    with pytest.raises(StoreError, match="nothing is published"):
        _store(url)


def test_several_workers_follow_the_switch_and_the_rollback(pg, v1v2_template, real_store, tmp_path):
    """`uvicorn --workers 2` on GEOBORDER_STORE=postgresql://…: every answer after a switch (publish,
    rollback, activate) is from the new version, whichever worker answers it."""
    import json
    import urllib.request

    from geoborder.store.postgis.versions import activate, rollback

    url = pg.new_db(v1v2_template)
    v1 = real_store.version
    v2 = "ab" + v1[2:]
    port = free_port()
    env = dict(
        os.environ,
        GEOBORDER_STORE=url,
        GEOBORDER_STORE_REFRESH_SECONDS="0",
        GEOBORDER_INDICATORS=str(tmp_path / "indicators.sqlite"),
    )
    log = tmp_path / "uvicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app_from_env",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def versions(n: int = 12) -> set[str]:
        seen = set()
        for _ in range(n):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as r:
                seen.add(json.loads(r.read())["data_version"])
        return seen

    try:
        import time

        deadline = time.monotonic() + 90  # a guard against a server that never starts
        while True:
            try:
                versions(1)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"uvicorn did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        assert versions() == {v1}
        assert activate(url, v2) == v1
        assert versions() == {v2}
        assert rollback(url) == (v2, v1)
        assert versions() == {v1}
    finally:
        proc.terminate()
        proc.wait()


def test_a_worker_keeps_answering_when_the_database_goes_away(pg, v1_template, real_store):
    """Connections cut, then the database refusing connections: the worker keeps its version and
    what it has in memory (landing, layers, features by id of a layer it has served); selections,
    which run in SQL, and layers it never read are a 503 that says so (after a short wait for a
    connection); it picks up again when the database is back."""
    import psycopg

    url = pg.new_db(v1_template)
    db = url.rsplit("/", 1)[1]
    store = _store(url, refresh=0)
    store.frame("gates")

    def cut(allow: bool):
        with pg.admin() as con:
            con.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS {str(allow).lower()}')
            con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (db,))

    cut(True)  # connection lost: one reconnect, nothing to see
    assert store.version == real_store.version
    with _client(store) as c:
        assert c.get("/collections/gates/items?limit=2").status_code == 200
        cut(False)  # no connection possible at all
        assert c.get("/health").json()["data_version"] == real_store.version
        r = c.get("/layers")
        assert r.status_code == 200 and len(r.json()["layers"]) == len(real_store.layers())
        assert len(store.frame("gates")) == real_store.layer("gates").feature_count
        first = real_store.frame("gates")["gate_id"].iloc[0]  # a layer with a key: the key is the id
        assert c.get(f"/collections/gates/items/{first}").status_code == 200  # prepared before the cut
        r = c.get("/collections/gates/items?limit=2")  # a selection: SQL
        assert r.status_code == 503 and "is logged" in r.json()["description"]
        r = c.get("/collections/roads/items?limit=2")  # never read by this worker
        assert r.status_code == 503 and "is logged" in r.json()["description"]
        cut(True)
        assert len(store.frame("roads")) == real_store.layer("roads").feature_count
        assert c.get("/collections/gates/items?limit=2").status_code == 200
        assert c.get("/health").json()["data_version"] == real_store.version
    with psycopg.connect(url) as con:
        assert con.execute("SELECT count(*) FROM geoborder.published").fetchone()[0] == 1
    store.close()


def test_a_request_is_answered_from_one_version_even_across_a_switch(pg, v1v2_template, real_store):
    """The store is pinned per request (PinVersionMiddleware, PostgisStore.pinned): a switch made
    while a request runs does not reach it; the next request sees the new version."""
    from geoborder.store.postgis.versions import activate, list_versions

    url = pg.new_db(v1v2_template)
    v1 = real_store.version
    (v2,) = [v.version for v in list_versions(url) if v.version != v1]
    store = _store(url, refresh=0)
    try:
        with store.pinned():
            assert store.version == v1
            before = store.frame("communes_2025")
            activate(url, v2)
            assert store.refresh() == v1  # still the pinned snapshot
            assert store.snapshot().schema.endswith(v1)
            assert store.frame("communes_2025") is before
        assert store.version == v2  # the next request: the new version
        assert store.frame("communes_2025").loc[1, "population"] == before.loc[1, "population"] + 1000
    finally:
        store.close()
