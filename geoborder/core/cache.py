"""The in-process cache the library's modules share (maps, tiles, per-version query results).

Every key holds what the value depends on (the store's data version among it), so a value is
never served for other data; least recently used values are dropped past `maxsize` entries and,
for an LRU made with `max_bytes`, past that many bytes of values (`sizeof` of each: the length
of bytes, 0 for None). An LRU of large things (rendered tiles, pages) is bounded in bytes, so a
crawler asking for thousands of them does not grow a worker (issue 18).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable


def nbytes(value) -> int:
    """The size an LRU bounded in bytes counts for a value: bytes/str length, 0 for None, else
    the sum over a tuple or list of such (anything else counts 0)."""
    if value is None:
        return 0
    if isinstance(value, (bytes, bytearray, memoryview, str)):
        return len(value)
    if isinstance(value, (tuple, list)):
        return sum(nbytes(v) for v in value)
    return 0


class LRU:
    """A small thread-safe in-process LRU cache, bounded in entries and optionally in bytes."""

    def __init__(self, maxsize: int, *, max_bytes: int | None = None, sizeof: Callable[[object], int] = nbytes):
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._d: OrderedDict = OrderedDict()
        self._sizes: dict = {}
        self.bytes = 0  # the values' size, when bounded in bytes
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._d)

    def get_or_make(self, key, make: Callable):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = make()
        size = self._sizeof(value) if self.max_bytes is not None else 0
        with self._lock:
            if self.max_bytes is not None and size > self.max_bytes:
                return value  # larger than the whole cache: served, not kept
            self.bytes -= self._sizes.pop(key, 0)
            self._d[key] = value
            self._d.move_to_end(key)
            if self.max_bytes is not None:
                self._sizes[key] = size
                self.bytes += size
            while len(self._d) > self.maxsize or (self.max_bytes is not None and self.bytes > self.max_bytes):
                old, _ = self._d.popitem(last=False)
                self.bytes -= self._sizes.pop(old, 0)
        return value

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self._sizes.clear()
            self.bytes = 0
