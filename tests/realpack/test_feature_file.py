"""The store's features file (geoborder.features.text) on the real store: every layer read from it
gives the bytes the in-memory GeoJSON gives (pages, scattered features, gzip, other CRSs, whole
layers over HTTP), and a file that is not this build's is never used."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from geoborder.core.crs import supported_crs
from geoborder.features.cache import FeatureCache, ensure_feature_file, feature_file_path
from geoborder.features.gzip import GzipMember
from geoborder.features.layer import LayerFeatures
from geoborder.features.text import FORMAT, FeatureFile, runs
from geoborder.store.gpkg import GpkgStore


@pytest.fixture(scope="module")
def store(real_store_path):
    return GpkgStore(real_store_path)


def _gzip_of(lf: LayerFeatures, positions: np.ndarray, first: bool) -> bytes:
    gz = GzipMember()
    gz.plain(b"[")
    lf.add_gzip(gz, positions, first)
    gz.plain(b"]")
    return gz.finish()


def _cases(n: int, rng) -> list[np.ndarray]:
    k = min(n, 60)
    return [
        np.arange(n),  # a whole layer: one run
        np.arange(min(3, n), min(103, n)),  # a page by offset
        np.sort(rng.choice(n, k, replace=False)),  # a bbox selection: many runs
        rng.choice(n, k, replace=False),  # sortby: out of order
        np.array([n - 1]),  # the last feature
        np.arange(0),  # nothing
    ]


def test_every_layer_from_the_file_gives_the_in_memory_bytes(store):
    fc = FeatureCache(store)
    rng = np.random.default_rng(18)
    from_file = []
    for info in store.layers():
        lf = fc.get(info.id)
        if lf.from_file:
            from_file.append(info.id)
        held = LayerFeatures(info.id, lf.frame, info.key_field)  # no file: built in memory
        assert not held.from_file
        for pos in _cases(len(lf), rng):
            assert lf.feature_bytes(pos) == held.feature_bytes(pos), info.id
            assert lf.features_joined(pos) == b",".join(held.feature_bytes(pos)), info.id
            for first in (True, False):
                body = _gzip_of(lf, pos, first)
                assert body == _gzip_of(held, pos, first), (info.id, first)
                plain = b",".join(held.feature_bytes(pos))
                assert gzip.decompress(body) == b"[" + (plain if first or not len(pos) else b"," + plain) + b"]"
    # every layer but those served with their border records joined on (built in memory)
    assert set(from_file) == {i.id for i in store.layers()} - {"gates", "markers"}


def test_other_crs_takes_the_properties_from_the_file(store):
    fc = FeatureCache(store)
    crs = next(c for c in supported_crs().values() if not c.is_crs84)
    for layer in ("communes_2025", "villages", "roads"):
        lf = fc.get(layer)
        assert lf.from_file
        held = LayerFeatures(layer, lf.frame, store.layer(layer).key_field)
        pos = np.array([5, 1, 2, 3, 40])
        assert lf.feature_bytes(pos, crs) == held.feature_bytes(pos, crs)


def test_runs():
    assert list(runs(np.array([3, 4, 5, 9, 2, 3]))) == [(3, 6), (9, 10), (2, 4)]
    assert list(runs(np.array([], dtype=int))) == []


def _copy(store_path, tmp_path):
    dst = tmp_path / "geoborder.gpkg"
    shutil.copyfile(store_path, dst)
    shutil.copyfile(feature_file_path(store_path), feature_file_path(dst))
    return dst


def test_a_file_of_another_build_or_format_is_not_used(real_store_path, tmp_path):
    path = _copy(real_store_path, tmp_path)
    fpath = feature_file_path(path)
    store = GpkgStore(path)
    assert FeatureFile.open(fpath, store.version) is not None
    assert FeatureFile.open(fpath, "0123456789abcdef") is None  # another build's
    data = fpath.read_bytes()
    fpath.write_bytes(data.replace(b'"format": %d' % FORMAT, b'"format": %d' % (FORMAT + 1), 1))
    assert FeatureFile.open(fpath, store.version) is None  # another format
    fpath.write_bytes(data[: len(data) // 2])  # truncated
    assert FeatureFile.open(fpath, store.version) is None
    lf = FeatureCache(store).get("communes_2025")
    assert not lf.from_file  # built in memory instead
    assert lf.feature_bytes(np.arange(3)) == LayerFeatures("communes_2025", lf.frame, "commune_code").feature_bytes(
        np.arange(3)
    )
    # written again for this build, then used
    ensure_feature_file(path)
    assert FeatureCache(GpkgStore(path)).get("communes_2025").from_file


def test_a_layer_whose_features_changed_is_built_in_memory(real_store_path, tmp_path):
    path = _copy(real_store_path, tmp_path)
    store = GpkgStore(path)
    file = FeatureFile.open(feature_file_path(path), store.version)
    assert file is not None
    lf = FeatureCache(store).get("roads")
    assert file.layer("roads", lf.property_names, lf.feature_ids) is not None
    assert file.layer("roads", lf.property_names[:-1], lf.feature_ids) is None  # a property less
    assert file.layer("roads", lf.property_names, lf.feature_ids[::-1]) is None  # other order
    assert file.layer("roads", lf.property_names, lf.feature_ids[:-1]) is None  # a feature less
    file.close()


def test_a_failed_write_keeps_the_previous_file(real_store_path, tmp_path, monkeypatch):
    path = _copy(real_store_path, tmp_path)
    fpath = feature_file_path(path)
    before = fpath.read_bytes()
    fpath.write_bytes(before.replace(b"GBFEATS1", b"GBFEATS0"))  # stale: will be written again
    stale = fpath.read_bytes()

    def broken(self):
        raise OSError("disk full (planted)")

    monkeypatch.setattr(LayerFeatures, "serialised", broken)
    with pytest.raises(OSError, match="planted"):
        ensure_feature_file(path)
    assert fpath.read_bytes() == stale  # untouched
    assert not list(tmp_path.glob("*.tmp"))
    monkeypatch.undo()
    ensure_feature_file(path)
    assert fpath.read_bytes() == before  # the same bytes as the first write


def test_build_cli_writes_it(real_store_path, tmp_path, monkeypatch):
    """`geoborder build --if-stale` on an up-to-date store writes a missing features file."""
    from geoborder.cli.main import main

    path = _copy(real_store_path, tmp_path)
    fpath = feature_file_path(path)
    fpath.unlink()
    pack = GpkgStore(path).build_info()["pack"]
    res = CliRunner().invoke(main, ["build", "--pack", pack, "--store", str(path), "--if-stale"])
    assert res.exit_code == 0, res.output
    assert fpath.is_file()
    assert FeatureFile.open(fpath, GpkgStore(path).version) is not None


def test_pages_over_http_equal_with_and_without_the_file(real_store_path, tmp_path):
    """The items routes answer the same bodies (plain and gzip, page and whole layer) from a store
    with its features file and from the same store without one."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.core.settings import ApiSettings

    with_file = _copy(real_store_path, tmp_path)
    bare_dir = tmp_path / "bare"
    bare_dir.mkdir()
    bare = bare_dir / "geoborder.gpkg"
    shutil.copyfile(real_store_path, bare)
    urls = [
        "/collections/communes_2025/items?limit=100&offset=7",
        "/collections/villages/items?limit=50&bbox=103.5,21,104.5,22",
        "/collections/communes_2009/items?limit=20&sortby=-population",
        "/collections/roads/items/" + "1",
        "/collections/provinces_2025/items?f=json&limit=1000",
    ]
    bodies = {}
    for name, store in (("file", with_file), ("bare", bare)):
        app = create_app(ApiSettings(warmup=False), store=GpkgStore(store))
        with TestClient(app) as c:
            for url in urls:
                for enc in ("identity", "gzip"):
                    r = c.get(url, headers={"Accept": "application/geo+json", "Accept-Encoding": enc})
                    assert r.status_code in (200, 404), (url, r.text[:200])
                    body = r.content  # decoded by the client
                    doc = r.json()
                    doc.pop("timeStamp", None)
                    bodies.setdefault((url, enc), []).append((r.status_code, doc, len(body)))
        assert app.state.ogc_features.get("communes_2025").from_file == (name == "file")
    for key, (a, b) in bodies.items():
        assert a == b, key
