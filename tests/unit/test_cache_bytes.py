"""The shared LRU bounded in bytes (issue 18): what it keeps, what it drops, and the tile cache."""

from __future__ import annotations

from geoborder.core import cache
from geoborder.core.cache import LRU, nbytes
from geoborder.tiles import render


def test_lru_bounded_in_bytes_drops_the_least_recently_used():
    lru = LRU(100, max_bytes=25)
    made = []

    def make(key, size):
        def f():
            made.append(key)
            return b"x" * size

        return f

    for key in "abc":
        lru.get_or_make(key, make(key, 10))  # 30 bytes > 25: "a" is dropped
    assert len(lru) == 2 and lru.bytes == 20
    lru.get_or_make("b", make("b", 10))  # kept: not made again, and now the most recent
    lru.get_or_make("d", make("d", 10))  # drops "c", the least recently used
    lru.get_or_make("b", make("b", 10))
    lru.get_or_make("c", make("c", 10))
    assert made == ["a", "b", "c", "d", "c"]
    assert lru.bytes == 20 and len(lru) == 2


def test_lru_value_larger_than_the_cache_is_served_not_kept():
    lru = LRU(10, max_bytes=5)
    assert lru.get_or_make("big", lambda: b"123456") == b"123456"
    assert len(lru) == 0 and lru.bytes == 0
    assert lru.get_or_make("none", lambda: None) is None  # an empty tile counts 0 bytes
    assert len(lru) == 1 and lru.bytes == 0
    lru.clear()
    assert len(lru) == 0


def test_lru_without_max_bytes_is_bounded_in_entries():
    lru = LRU(2)
    for key in range(5):
        lru.get_or_make(key, lambda: b"x" * 10**6)
    assert len(lru) == 2 and lru.bytes == 0


def test_nbytes_counts_bytes_and_text():
    assert nbytes(b"abc") == 3 and nbytes("héllo") == 5 and nbytes(None) == 0
    assert nbytes((b"ab", None, b"c")) == 3 and nbytes(object()) == 0


def test_tile_cache_is_bounded_in_bytes():
    assert render._TILES.max_bytes == render.TILE_CACHE_BYTES
    render.clear_cache()
    png = b"p" * (render.TILE_CACHE_BYTES // 3)
    for i in range(5):
        render.cached(("madeup-version", i), lambda: png)
    assert render._TILES.bytes <= render.TILE_CACHE_BYTES and len(render._TILES) == 3
    render.clear_cache()


def test_heap_trim_finds_glibc_malloc_trim():
    import ctypes.util

    from geoborder.core import heap

    libc = ctypes.util.find_library("c") or ""
    # glibc (Debian, the deployments): malloc_trim is found and called; elsewhere nothing is done
    assert (heap._malloc_trim() is not None) is libc.startswith("libc.so")
    assert isinstance(heap.trim(), bool)


def test_heap_configure_sets_the_mmap_threshold_and_the_arenas_unless_the_environment_does():
    import ctypes.util
    import os
    import subprocess
    import sys

    code = "from geoborder.core import heap; print(heap.configure())"
    names = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_ARENA_MAX")
    env = {k: v for k, v in os.environ.items() if k not in names}
    glibc = (ctypes.util.find_library("c") or "").startswith("libc.so")

    def run(**extra: str) -> str:
        out = subprocess.run(
            [sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    assert run() == str(glibc)
    # one of them set by the operator: the other is still set here
    assert run(MALLOC_MMAP_THRESHOLD_="131072") == str(glibc)
    assert run(MALLOC_ARENA_MAX="4") == str(glibc)
    # both set by the operator: the operator's settings win, nothing is set here
    assert run(MALLOC_MMAP_THRESHOLD_="131072", MALLOC_ARENA_MAX="4") == "False"


def test_making_the_app_configures_the_heap(monkeypatch):
    """Before any store is opened or thread started: the app is made first, whichever store it opens."""
    import api.main
    from geoborder.core import heap

    calls = []
    monkeypatch.setattr(api.main, "configure_heap", lambda: calls.append(1))
    api.main.create_app()  # nothing is opened until the lifespan runs
    assert calls == [1]
    assert heap.ARENA_MAX == 2


def test_lrus_bounded_in_bytes_share_one_budget():
    """Past the budget all of them share, the least recently used value of any of them goes first."""
    before = cache._POOL.budget
    a, b = LRU(100, max_bytes=30), LRU(100, max_bytes=30)
    try:
        cache.set_budget(0)  # what other tests left in any LRU is dropped
        assert cache.pool_bytes() == 0
        cache.set_budget(40 / 2**20)  # 40 bytes
        a.get_or_make("a1", lambda: b"x" * 10)
        b.get_or_make("b1", lambda: b"x" * 10)
        a.get_or_make("a2", lambda: b"x" * 10)
        a.get_or_make("a1", lambda: b"never made")  # used again: now b1 is the oldest
        b.get_or_make("b2", lambda: b"x" * 30)  # 60 > 40: b1 goes, then a2 (of the other LRU)
        assert set(a._d) == {"a1"} and set(b._d) == {"b2"}
        assert a.bytes == 10 and b.bytes == 30
        unbounded = LRU(5)  # bounded in entries only: not in the budget
        unbounded.get_or_make("big", lambda: b"x" * 1000)
        assert len(unbounded) == 1 and len(a) == 1 and len(b) == 1
        held = cache.pool_bytes()
        a.clear()
        assert cache.pool_bytes() == held - 10
    finally:
        a.clear()
        b.clear()
        cache.set_budget(before / 2**20)
