"""The heap keeper (geoborder/core/heap.py) hands freed heap memory back: after a burst of
temporaries freed below live data, RSS drops when it trims, and it does not trim again for nothing."""

from __future__ import annotations

import pytest

from geoborder.core import heap


def _holes() -> list[bytes]:
    """~64 MB of 4 kB blocks freed below ~1 MB kept: chunks glibc keeps free inside its heap."""
    heap.configure()
    temporaries = [bytes(4096) for _ in range(16_000)]
    kept = [bytes(4096) for _ in range(256)]  # above the temporaries: the heap cannot shrink from its top
    del temporaries
    return kept


@pytest.mark.skipif(heap.free_bytes() is None or heap.resident_bytes() is None, reason="glibc >= 2.33 and /proc")
def test_a_trim_gives_back_what_the_temporaries_left():
    keeper = heap.Keeper(interval=0, threshold=8 << 20)
    kept = _holes()
    before = heap.resident_bytes()
    assert heap.free_bytes() > 32 << 20
    assert keeper.check() is True
    after = heap.resident_bytes()
    assert before - after > 32 << 20, (before, after)
    assert keeper.check() is False  # nothing grew since: no second trim
    assert keeper.trims == 1
    del kept


def test_an_interval_of_zero_starts_no_thread():
    keeper = heap.Keeper(interval=0).start()
    assert keeper._thread is None
    keeper.stop()


@pytest.mark.skipif(heap.free_bytes() is None, reason="glibc >= 2.33")
def test_the_thread_trims_on_its_own():
    keeper = heap.Keeper(interval=0.05, threshold=8 << 20).start()
    try:
        kept = _holes()
        import time

        for _ in range(100):
            if keeper.trims:
                break
            time.sleep(0.05)
        assert keeper.trims >= 1
        del kept
    finally:
        keeper.stop()
