"""Real clients written by others against a live server on loopback: GDAL's OAPIF driver (via
pyogrio), OWSLib's ogcapi.features.Features and the OGC Part 1 Core abstract tests (`ogctests`).

The server is uvicorn in a subprocess on a free loopback port, serving the session's real store;
it is stopped when the module's tests end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import shapely

pytestmark = pytest.mark.realpack

BBOX = (103.5, 21.0, 104.5, 22.0)  # around Sơn La


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_url(real_store_path, real_store, tmp_path_factory):
    """uvicorn in a subprocess (GDAL holds the GIL while it reads, so not a thread of this process),
    serving the session's store: the GeoPackage, or its PostGIS database (GEOBORDER_TEST_STORE)."""
    import urllib.request

    port = _free_port()
    log = tmp_path_factory.mktemp("live") / "uvicorn.log"
    env = dict(
        os.environ,
        GEOBORDER_STORE=getattr(real_store, "url", None) or str(real_store_path),
        GEOBORDER_INDICATORS=str(tmp_path_factory.mktemp("live-ind") / "indicators.sqlite"),
    )
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
                "--log-level",
                "warning",
            ],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _count_in_bbox(frame, bbox) -> int:
    return int(frame.geometry.intersects(shapely.box(*bbox)).sum())


# --------------------------------------------------------------------------- GDAL (pyogrio)


def test_gdal_lists_every_collection_with_its_geometry_type(live_url, real_store):
    import pyogrio

    layers = pyogrio.list_layers(f"OAPIF:{live_url}")
    assert dict(layers) == {i.id: i.geometry_type for i in real_store.layers()}


def test_gdal_reads_whole_layer_with_the_store_count_and_attributes(live_url, real_store):
    import pyogrio

    info = pyogrio.read_info(f"OAPIF:{live_url}", layer="communes_2025")
    store = real_store.frame("communes_2025")
    assert info["features"] == len(store)  # numberMatched, which QGIS and GDAL use for the count
    df = pyogrio.read_dataframe(f"OAPIF:{live_url}", layer="communes_2025")
    assert len(df) == len(store)
    assert set(df["commune_code"]) == set(store["commune_code"])
    assert df.crs.to_epsg() == 4326 or "CRS84" in df.crs.to_string()
    # Vietnamese names come through intact
    assert sorted(df["name"]) == sorted(store["name"])


def test_gdal_reads_filtered_items_with_store_counts(live_url, real_store):
    import pyogrio

    store = real_store.frame("communes_2025")
    url = f"OAPIF:{live_url}"
    by_where = pyogrio.read_dataframe(url, layer="communes_2025", where="population > 10000 AND province_code = '14'")
    assert len(by_where) == int(((store.population > 10000) & (store.province_code == "14")).sum()) > 0
    by_bbox = pyogrio.read_dataframe(url, layer="communes_2025", bbox=BBOX)
    # GDAL sends the bbox to the server, then also filters on the envelope itself
    assert len(by_bbox) == _count_in_bbox(store, BBOX) > 0


def test_gdal_reads_a_layer_with_features_without_geometry(live_url, real_store):
    import pyogrio

    gates = real_store.frame("gates")
    df = pyogrio.read_dataframe(f"OAPIF:{live_url}", layer="gates")
    assert len(df) == len(gates)
    assert int(df.geometry.isna().sum()) == int(gates.geometry.isna().sum())


# --------------------------------------------------------------------------- OWSLib


def test_owslib_conformance_collections_queryables(live_url, real_store):
    from owslib.ogcapi.features import Features

    api = Features(live_url)
    conf = api.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in conf
    assert sorted(api.feature_collections()) == sorted(i.id for i in real_store.layers())
    q = api.collection_queryables("communes_2025")
    assert set(q["properties"]) == set(real_store.frame("communes_2025").columns)  # incl. geometry
    assert q["properties"]["population"]["type"] == "integer"


def test_owslib_items_with_bbox_and_filter_match_store_counts(live_url, real_store):
    from owslib.ogcapi.features import Features

    api = Features(live_url)
    store = real_store.frame("communes_2025")
    everything = api.collection_items("communes_2025", limit=1)
    assert everything["numberMatched"] == len(store)
    in_box = api.collection_items("communes_2025", bbox=list(BBOX), limit=1000)
    assert in_box["numberMatched"] == in_box["numberReturned"] == _count_in_bbox(store, BBOX)
    assert {f["properties"]["commune_code"] for f in in_box["features"]} == set(
        store[store.geometry.intersects(shapely.box(*BBOX))]["commune_code"]
    )
    filtered = api.collection_items(
        "communes_2025", filter="population > 10000 AND province_name = 'Sơn La'", limit=1000
    )
    expected = store[(store.population > 10000) & (store.province_name == "Sơn La")]
    assert filtered["numberMatched"] == len(expected) > 0
    assert all(f["properties"]["population"] > 10000 for f in filtered["features"])
    both = api.collection_items("communes_2025", bbox=list(BBOX), filter="population > 10000", limit=1000)
    mask = store.geometry.intersects(shapely.box(*BBOX)) & (store.population > 10000)
    assert both["numberMatched"] == int(mask.sum())


# --------------------------------------------------------------------------- ogctests (OGC Part 1 Core)


def _null_geometry_layers(store) -> list[str]:
    return [i.id for i in store.layers() if int(store.frame(i.id).geometry.isna().sum())]


def test_ogc_core_abstract_tests(live_url, real_store, tmp_path):
    """ogctests' Part 1 Core abstract tests (29) against the live server, in a subprocess.

    ogctests bundles a GeoJSON feature schema that refuses `"geometry": null` (RFC 7946 and the
    OGC schema allow it). The store keeps features without a position out of its point layers,
    in tables (`gates_unplaced`, `markers_unplaced`), so every collection has geometries and all
    29 tests must pass.
    """
    import ogctests

    suite = Path(ogctests.__file__).parent
    junit = tmp_path / "ogctests.xml"
    env = dict(os.environ, INSTANCE_URL=live_url)
    env.pop("CLIENT_OVERRIDDEN", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(suite / "features" / "core"),
            f"--rootdir={suite}",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:warnings",
            "-q",
            "--tb=line",
            f"--junit-xml={junit}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    cases = ET.parse(junit).getroot().iter("testcase")
    results = {}
    for c in cases:
        failure = c.find("failure")
        results[c.get("name")] = (
            None
            if failure is None and c.find("error") is None
            else ((failure if failure is not None else c.find("error")).get("message", ""))
        )
    assert len(results) == 29, proc.stdout[-2000:]
    failed = {k: v for k, v in results.items() if v is not None}
    assert _null_geometry_layers(real_store) == []
    assert failed == {}, failed
    print("ogctests Part 1 Core: 29/29 passed")
