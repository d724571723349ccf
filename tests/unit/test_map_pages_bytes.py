"""The map pages a worker holds are bounded in bytes, not only in number (issue 18)."""

from __future__ import annotations

from web import maps


def test_held_map_pages_are_bounded_in_bytes():
    lru = maps._PAGES
    assert lru.max_bytes == maps.PAGES_MAX_BYTES == 16 * 2**20 and lru.maxsize == 128
    page = "x" * 250_000  # a map page is ~250 kB
    try:
        for i in range(128):
            assert lru.get_or_make(("test", i), lambda: page) is page
        assert lru.bytes <= maps.PAGES_MAX_BYTES and len(lru) == maps.PAGES_MAX_BYTES // len(page)
    finally:
        lru.clear()
