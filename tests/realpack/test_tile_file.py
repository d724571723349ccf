"""The store's tile file (geoborder.tiles.packed_file) on the real store: tiles drawn from it are
byte-identical to tiles drawn from the layers projected and simplified in memory (choropleth PNG,
context-layer PNG and MVT, at low and high zooms, empty tiles), every layer and zoom reads back
the same geometries, and a file that is not this build's or not intact is never used."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from geoborder.core import tilegrid as G
from geoborder.maps import choropleth as C
from geoborder.store.gpkg import GpkgStore
from geoborder.tiles import packed_file as PF
from geoborder.tiles import render as T
from geoborder.tiles.packed_file import FORMAT, FilePacked, LayerParts, Packed, TileFile, write_tile_file
from geoborder.tiles.render import ensure_tile_file, tile_file_path


@pytest.fixture(autouse=True)
def _fresh_caches():
    T.clear_cache()
    yield
    T.clear_cache()


def _copies(store_path, tmp_path):
    """Two copies of the store: one with its tile file, one without."""
    with_file, bare = tmp_path / "file" / "geoborder.gpkg", tmp_path / "bare" / "geoborder.gpkg"
    for p in (with_file, bare):
        p.parent.mkdir()
        shutil.copyfile(store_path, p)
    shutil.copyfile(tile_file_path(store_path), tile_file_path(with_file))
    return with_file, bare


@pytest.fixture(scope="module")
def stores(real_store_path, tmp_path_factory):
    """A store read with its tile file and the same store without one (both kept open, so their
    caches never share an entry)."""
    with_file, bare = _copies(real_store_path, tmp_path_factory.mktemp("tile-file"))
    return GpkgStore(with_file), GpkgStore(bare)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    t = G.tms().tile(lon, lat, z)
    return z, t.x, t.y


SON_LA, HA_GIANG, LANG_SON = (103.9, 21.3), (105.0, 23.0), (106.76, 21.85)
SEA = _tile(107.9, 19.6, 9)  # the Gulf of Tonkin: inside the communes' extent, no commune on it
AFAR = _tile(0.0, 0.0, 6)  # outside every layer


def _tiles(zooms) -> list[tuple[int, int, int]]:
    return [_tile(*p, z) for z in zooms for p in (SON_LA, HA_GIANG, LANG_SON)]


def _both(stores, render) -> tuple[list, int]:
    """Every tile `render(store)` gives from both stores: asserted equal; the non-empty count."""
    with_file, bare = stores
    a, b = render(with_file), render(bare)
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, i
    return a, sum(x is not None for x in a)


def test_read_from_the_file_only_with_it(stores):
    with_file, bare = stores
    for layer in ("communes_2025", "roads", "villages", "gates"):
        assert isinstance(T.projected(with_file, layer).packed, FilePacked)
        assert isinstance(T.projected(bare, layer).packed, Packed)
    for z in T.FILE_ZOOMS:
        assert isinstance(T.simplified(with_file, "communes_2009", z), FilePacked)
        assert isinstance(T.simplified(bare, "communes_2009", z), Packed)
    assert T.simplified(with_file, "communes_2025", T.SIMPLIFY_BELOW_ZOOM) is None


def test_choropleth_png_tiles_are_byte_identical(stores):
    tiles = [*_tiles((4, 6, 8, 9, 11, 12, 13, 15)), SEA, AFAR]

    def render(store):
        out = []
        for vintage in C.VINTAGES:
            ch = C.choropleth(store, None, C.MapSpec("density", vintage, "border"))
            out += [T.choropleth_png(store, ch, *t) for t in tiles]
        return out

    out, drawn = _both(stores, render)
    assert drawn >= 30  # most tiles have communes drawn
    assert out[tiles.index(SEA)] is None and out[tiles.index(AFAR)] is None


def test_context_layer_png_tiles_are_byte_identical(stores):
    def render(store):
        out = []
        for layer in ("roads", "places", "commune_seats_2025", "gates", "provinces_2025"):
            out += [T.layer_png(store, layer, *t) for t in [*_tiles((5, 7, 9, 12, 14)), SEA, AFAR]]
        line = store.frame("border_lines").geometry.iloc[0]
        on = line.interpolate(0.3, normalized=True)  # a point on the border line
        out += [T.layer_png(store, "border_lines", *_tile(on.x, on.y, z)) for z in (8, 13)]
        return out

    out, drawn = _both(stores, render)
    assert drawn >= 25 and out.count(None) >= 10
    assert out[-1] is not None and out[-2] is not None  # the border line on both tiles


def test_mvt_tiles_are_byte_identical(stores):
    tiles = [*_tiles((4, 7, 9, 12, 13, 15)), SEA, AFAR]

    def render(store):
        return [
            T.layer_mvt(store, layer, *t)
            for layer in ("communes_2025", "communes_2009", "villages", "roads", "border_segments_2025")
            for t in tiles
        ]

    out, drawn = _both(stores, render)
    assert drawn >= 40
    assert out[tiles.index(SEA)] is None and out[tiles.index(AFAR)] is None  # communes_2025


def test_every_layer_and_zoom_reads_back_the_same_geometries(stores):
    with_file, bare = stores
    file = TileFile.open(tile_file_path(with_file.path), with_file.version)
    assert file is not None
    ids = [info.id for info in with_file.layers()]
    assert file.contents == {i: list(T.FILE_ZOOMS) if i in T.SIMPLIFIED_LAYERS else [] for i in ids}
    for layer in ids:
        a, b = T.projected(with_file, layer), T.projected(bare, layer)
        assert isinstance(a.packed, FilePacked) and a.file is not None
        assert list(shapely.to_wkb(a.geoms)) == list(shapely.to_wkb(b.geoms)), layer
        assert np.array_equal(a.envelopes, b.envelopes, equal_nan=True) and a.bounds == b.bounds, layer
        if a.bounds is not None:  # the tree from the envelopes answers in the same order
            x0, y0, x1, y1 = a.bounds
            boxes = [(x0, y0, x1, y1), (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2), ((x0 + x1) / 2, y0, x1, y1)]
            for box in boxes:
                assert list(a.query(box)) == list(b.query(box)), layer
    rng = np.random.default_rng(18)
    for layer in T.SIMPLIFIED_LAYERS:
        n = len(with_file.frame(layer))
        idx = np.concatenate([rng.permutation(n)[:300], [0, 0, n - 1]])
        for z in T.FILE_ZOOMS:
            a, b = T.simplified(with_file, layer, z), T.simplified(bare, layer, z)
            assert isinstance(a, FilePacked) and isinstance(b, Packed)
            assert list(shapely.to_wkb(a.take(np.arange(n)))) == list(shapely.to_wkb(b.take(np.arange(n))))
            assert list(shapely.to_wkb(a.take(idx))) == list(shapely.to_wkb(b.take(idx))), (layer, z)


# --------------------------------------------------------------------------- reading


def _lines(n: int, vertices: int) -> np.ndarray:
    return np.array(
        [shapely.LineString(np.c_[np.arange(vertices) + i, np.arange(vertices) * 0.5]) for i in range(n)], dtype=object
    )


def _synthetic(tmp_path, geoms: np.ndarray) -> FilePacked:
    packed = Packed.of(geoms)
    envelopes = shapely.bounds(geoms)
    path = tmp_path / "t.tiles"
    write_tile_file(path, "f" * 16, iter([LayerParts("l", np.arange(len(geoms)), packed, envelopes, None, {})]))
    file = TileFile.open(path, "f" * 16)
    assert file is not None
    got = file.projected("l", np.arange(len(geoms)))
    assert got is not None
    return got.packed


def test_file_take_is_packed_take(tmp_path):
    geoms = np.concatenate([_lines(6, 50), [None, shapely.Polygon(), shapely.Point(1, 2)], _lines(3, 3)])
    fp, packed = _synthetic(tmp_path, geoms), Packed.of(geoms)
    n = len(geoms)
    cases = [np.arange(n), np.arange(n)[::-1], np.array([6, 6, 1, 7, 11]), np.array([7]), np.array([], dtype=np.int64)]
    for idx in cases:
        a, b = fp.take(idx), packed.take(idx)
        assert len(a) == len(idx)
        assert list(shapely.to_wkb(a)) == list(shapely.to_wkb(b))
    got = fp.take(np.array([6, 7, 8]))
    assert got[0] is None and got[1].is_empty and got[1].geom_type == "Polygon" and got[2].equals(shapely.Point(1, 2))


def test_near_rows_are_one_read_far_rows_apart(tmp_path, monkeypatch):
    geoms = _lines(8, 1200)  # ~19 kB of WKB each: one row between two is more than READ_GAP
    assert len(shapely.to_wkb(geoms[0])) > PF.READ_GAP
    fp = _synthetic(tmp_path, geoms)
    reads = []
    read = PF._File.read
    monkeypatch.setattr(PF._File, "read", lambda self, n, at: reads.append((n, at)) or read(self, n, at))
    fp.take(np.array([3, 1, 2, 2]))
    assert len(reads) == 1  # rows 1..3, consecutive: one read
    reads.clear()
    fp.take(np.array([0, 2, 7]))
    assert len(reads) == 3
    reads.clear()
    fp.take(np.array([], dtype=np.int64))
    assert reads == []


# --------------------------------------------------------------------------- not this build's


def test_a_file_of_another_build_format_or_truncated_is_not_used(real_store_path, tmp_path):
    with_file, _ = _copies(real_store_path, tmp_path)
    path = tile_file_path(with_file)
    store = GpkgStore(with_file)
    assert TileFile.open(path, store.version) is not None
    assert TileFile.open(path, "0123456789abcdef") is None  # another build's
    data = path.read_bytes()
    assert data.count(b'"format": %d' % FORMAT) == 1
    variants = {
        "another format": data.replace(b'"format": %d' % FORMAT, b'"format": %d' % (FORMAT + 1), 1),
        "truncated": data[: len(data) // 2],
        "garbled trailer": data[:-8] + b"GBTILES0",
        "garbled index": data[:-40] + b"\x00" * 24 + data[-16:],
        "empty": b"",
    }
    for name, garbled in variants.items():
        path.write_bytes(garbled)
        assert TileFile.open(path, store.version) is None, name
        T.clear_cache()
        assert isinstance(T.projected(GpkgStore(with_file), "communes_2025").packed, Packed), name
    # written again for this build, then used
    ensure_tile_file(with_file)
    assert path.read_bytes() == data
    T.clear_cache()
    assert isinstance(T.projected(GpkgStore(with_file), "communes_2025").packed, FilePacked)


def _opened(real_store_path, tmp_path):
    """Copies of the store with and without its tile file, and the file opened for it."""
    with_file, bare = _copies(real_store_path, tmp_path)
    path = tile_file_path(with_file)
    store = GpkgStore(with_file)
    file = TileFile.open(path, store.version)
    assert file is not None
    return bare, path, store, file


def test_a_garbled_layer_is_made_in_memory_the_others_read(real_store_path, tmp_path):
    bare, path, store, file = _opened(real_store_path, tmp_path)
    wkb = file._index["layers"]["communes_2025"]["wkb"]
    data = bytearray(path.read_bytes())
    mid = wkb["at"] + wkb["size"] // 2
    data[mid : mid + 8] = bytes(255 - b for b in data[mid : mid + 8])  # a few bytes of one commune
    path.write_bytes(bytes(data))
    T.clear_cache()
    proj = T.projected(store, "communes_2025")
    assert isinstance(proj.packed, Packed) and proj.file is None  # its checksum failed
    assert isinstance(T.simplified(store, "communes_2025", 9), Packed)
    assert isinstance(T.projected(store, "roads").packed, FilePacked)
    assert isinstance(T.simplified(store, "communes_2009", 9), FilePacked)
    ch = C.choropleth(store, None, C.MapSpec("density", 2025, "border"))
    ch_bare = C.choropleth(GpkgStore(bare), None, C.MapSpec("density", 2025, "border"))
    t = _tile(*SON_LA, 9)
    assert T.choropleth_png(store, ch, *t) == T.choropleth_png(GpkgStore(bare), ch_bare, *t)


def test_a_layer_missing_or_with_other_rows_is_made_in_memory(real_store_path, tmp_path):
    _, path, store, file = _opened(real_store_path, tmp_path)
    ids = np.asarray(store.frame("roads").index, dtype=np.int64)
    assert file.projected("roads", ids) is not None
    assert file.projected("roads", ids[:-1]) is None  # a row less
    assert file.projected("roads", ids[::-1]) is None  # another order
    ids25 = np.asarray(store.frame("communes_2025").index, dtype=np.int64)
    assert file.simplified("communes_2025", 9, ids25) is not None
    assert file.simplified("communes_2025", 9, ids25[1:]) is None
    assert file.simplified("communes_2025", T.SIMPLIFY_BELOW_ZOOM, ids25) is None  # not held
    # a file without roads (and without the commune layers' zooms): those made in memory
    parts = []
    for layer in ("communes_2025", "places"):
        proj = T._project(store.frame(layer))
        assert isinstance(proj.packed, Packed)
        parts.append(LayerParts(layer, T._fids(store.frame(layer)), proj.packed, proj.envelopes, proj.bounds, {}))
    write_tile_file(path, store.version, iter(parts))
    T.clear_cache()
    assert isinstance(T.projected(store, "roads").packed, Packed)
    assert isinstance(T.projected(store, "places").packed, FilePacked)
    assert isinstance(T.simplified(store, "communes_2025", 9), Packed)
    # ensure_tile_file sees it is not complete and writes it again
    ensure_tile_file(store.path)
    rewritten = TileFile.open(path, store.version)
    assert rewritten is not None and rewritten.contents["roads"] == []


def test_a_failed_write_keeps_the_previous_file(real_store_path, tmp_path, monkeypatch):
    with_file, _ = _copies(real_store_path, tmp_path)
    path = tile_file_path(with_file)
    before = path.read_bytes()
    path.write_bytes(before[:-8] + b"GBTILES0")  # stale: will be written again
    stale = path.read_bytes()

    def broken(geoms, z):
        raise OSError("disk full (planted)")

    monkeypatch.setattr(T, "_simplify", broken)
    with pytest.raises(OSError, match="planted"):
        ensure_tile_file(with_file)
    assert path.read_bytes() == stale  # untouched
    assert not list(path.parent.glob("*.tmp"))
    monkeypatch.undo()
    ensure_tile_file(with_file)
    assert path.read_bytes() == before  # the same bytes as the first write


def test_build_cli_writes_it(real_store_path, tmp_path):
    """`geoborder build --if-stale` on an up-to-date store writes a missing tile file."""
    from geoborder.cli.main import main
    from geoborder.features.cache import feature_file_path

    with_file, _ = _copies(real_store_path, tmp_path)
    shutil.copyfile(feature_file_path(real_store_path), feature_file_path(with_file))
    path = tile_file_path(with_file)
    path.unlink()
    pack = GpkgStore(with_file).build_info()["pack"]
    res = CliRunner().invoke(main, ["build", "--pack", pack, "--store", str(with_file), "--if-stale"])
    assert res.exit_code == 0, res.output
    assert "tiles of communes_2025" in res.output
    assert TileFile.open(path, GpkgStore(with_file).version) is not None
