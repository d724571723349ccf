"""Giving freed heap memory back to the system (issue 18).

The warm-up of a worker builds its caches through many short-lived temporaries (GeoJSON text,
projected coordinates, STRtree inputs). Once freed they leave holes in the C heap that glibc keeps
mapped, so the worker's RSS stays at its peak (~40 MB more than what it holds, measured on the
real store). `trim()` asks glibc to return them (`malloc_trim(0)`, which also releases free pages
inside the heap); elsewhere (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


def trim() -> bool:
    """Collect garbage, then hand freed heap pages back to the system; True if glibc did it."""
    gc.collect()
    fn = _malloc_trim()
    return bool(fn is not None and fn(0))
