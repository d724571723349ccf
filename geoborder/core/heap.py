"""Giving freed heap memory back to the system (issue 18).

The warm-up of a worker builds its caches through many short-lived temporaries (GeoJSON text,
projected coordinates, STRtree inputs). Once freed they leave holes in the C heap that glibc keeps
mapped, so the worker's RSS stays at its peak (~40 MB more than what it holds, measured on the
real store). `trim()` asks glibc to return them (`malloc_trim(0)`, which also releases free pages
inside the heap); elsewhere (musl, macOS) it does nothing.

`configure()` fixes glibc's mmap threshold at MMAP_THRESHOLD (1 MB): by default glibc raises it
after each large block freed, up to 32 MB, so the large temporaries of a request (a layer's
coordinates, a whole-layer document, a map page) end up inside the heap and leave it holed
after they are freed. Fixed, blocks of 1 MB and more are mapped apart and handed back when
freed: 60 MB less per worker after the requests of bench/latency.py, measured in-process; items
pages (~220 kB) are still served from the heap. A `MALLOC_MMAP_THRESHOLD_` set in the
environment is left as it is.

It also caps glibc's malloc arenas at ARENA_MAX (2). The sync routes run in anyio's thread pool
(up to 40 threads) beside the warm-up thread, and glibc gives threads arenas of their own (up to
8 per core), each keeping its freed memory. The cap holds only for arenas made after it is set,
so `configure()` runs before a worker's threads first allocate: when the app is made
(`api.main.create_app`) and when the warm-up starts. A `MALLOC_ARENA_MAX` set in the environment is left as it is.

`Keeper` does the trim again while the worker serves, when its RSS has grown by more than
`threshold` bytes since the last trim and glibc holds more than that free in its arenas
(`mallinfo2().fordblks`), looked at every `interval` seconds: a request's temporaries (a page of
features, a map page, an answer) leave freed chunks that glibc keeps; after the requests of
bench/latency.py that was 25-30 MB of a worker's RSS. A trim takes a few milliseconds and locks one
arena at a time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
from functools import lru_cache

#: blocks from this size on are mapped apart by glibc (and given back when freed)
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter, glibc malloc.h
#: at most this many malloc arenas (the main one and one for every thread)
ARENA_MAX = 2
_M_ARENA_MAX = -8  # mallopt's parameter, glibc malloc.h


@lru_cache(maxsize=1)
def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


@lru_cache(maxsize=1)
def _malloc_trim():
    try:
        fn = _libc().malloc_trim
    except AttributeError:  # no libc, or not glibc
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


@lru_cache(maxsize=1)
def _mallinfo2():
    try:
        fn = _libc().mallinfo2  # glibc >= 2.33
    except AttributeError:
        return None
    fn.argtypes = []
    fn.restype = _Mallinfo2
    return fn


def free_bytes() -> int | None:
    """Bytes glibc holds free in its arenas (None where that cannot be asked: not glibc >= 2.33)."""
    fn = _mallinfo2()
    return None if fn is None else int(fn().fordblks)


def trim() -> bool:
    """Collect garbage, then hand freed heap pages back to the system; True if glibc did it."""
    gc.collect()
    fn = _malloc_trim()
    return bool(fn is not None and fn(0))


@lru_cache(maxsize=1)
def configure() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD and cap its arenas at ARENA_MAX, once per
    process (each unless the environment sets MALLOC_MMAP_THRESHOLD_ / MALLOC_ARENA_MAX); True if
    either was set."""
    try:
        mallopt = _libc().mallopt
    except AttributeError:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = False
    for env, param, value in (
        ("MALLOC_MMAP_THRESHOLD_", _M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        ("MALLOC_ARENA_MAX", _M_ARENA_MAX, ARENA_MAX),
    ):
        if env not in os.environ:
            done = bool(mallopt(param, value)) or done
    return done


def resident_bytes() -> int | None:
    """This process's resident set size (None where /proc is not there)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class Keeper:
    """A daemon thread handing freed heap memory back (every `interval` seconds it looks): when the
    worker's RSS has grown by more than `threshold` bytes since the last trim and glibc holds more
    than that free. Does nothing without glibc."""

    def __init__(self, interval: float = 5.0, threshold: int = 8 << 20):
        self.interval = interval
        self.threshold = threshold
        self.trims = 0
        self._after = resident_bytes() or 0  # RSS after the last trim (at start: now)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Keeper:
        if self._thread is None and self.interval > 0 and _mallinfo2() is not None and _malloc_trim() is not None:
            self._thread = threading.Thread(target=self._run, name="geoborder-heap", daemon=True)
            self._thread.start()
        return self

    def check(self) -> bool:
        """Trim now if the RSS grew by more than `threshold` since the last trim and glibc holds
        more than that free; True if it did."""
        free, rss, fn = free_bytes(), resident_bytes(), _malloc_trim()
        if free is None or rss is None or fn is None:
            return False
        if rss - self._after <= self.threshold or free <= self.threshold:
            self._after = min(self._after, rss)
            return False
        fn(0)
        self.trims += 1
        self._after = resident_bytes() or rss
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.interval + 1)
            self._thread = None
