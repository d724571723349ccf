"""The in-process cache the library's modules share (maps, tiles, per-version query results).

Every key holds what the value depends on (the store's data version among it), so a value is
never served for other data; least recently used values are dropped past `maxsize` entries and,
for an LRU made with `max_bytes`, past that many bytes of values (`sizeof` of each: the length
of bytes, 0 for None). An LRU of large things (rendered tiles, pages, documents) is bounded in
bytes, so a crawler asking for thousands of them does not grow a worker (issue 18), and all of
them together hold at most one budget (GEOBORDER_CACHE_MB, 48 MB by default): whichever value
was used least recently, in any of them, goes first.
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


class _Pool:
    """What every LRU bounded in bytes holds, together: at most `budget` bytes in one worker. Past
    it, the least recently used value of any of them is dropped (api.main sets the budget from
    GEOBORDER_CACHE_MB). One lock for all of them: an LRU's operations are a few dict moves."""

    def __init__(self, budget: int):
        self.budget = budget
        self.bytes = 0
        self.order: OrderedDict = OrderedDict()  # (lru, key) -> size, least recently used first
        self.lock = threading.RLock()

    def evict(self) -> None:
        while self.bytes > self.budget and self.order:
            (lru, key), _ = self.order.popitem(last=False)
            lru._drop(key, pooled=False)


#: the default budget of every cache bounded in bytes, together
POOL_MB = 48
_POOL = _Pool(POOL_MB * 2**20)


def set_budget(mb: float) -> None:
    """The bytes all LRUs bounded in bytes may hold together, in MB (drops what is over it now)."""
    with _POOL.lock:
        _POOL.budget = int(mb * 2**20)
        _POOL.evict()


def pool_bytes() -> int:
    """The bytes every LRU bounded in bytes holds now, together."""
    return _POOL.bytes


class LRU:
    """A small thread-safe in-process LRU cache, bounded in entries and optionally in bytes (its
    own `max_bytes`, and the budget all such LRUs share: `set_budget`)."""

    def __init__(self, maxsize: int, *, max_bytes: int | None = None, sizeof: Callable[[object], int] = nbytes):
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._d: OrderedDict = OrderedDict()
        self._sizes: dict = {}
        self.bytes = 0  # the values' size, when bounded in bytes
        self._lock = _POOL.lock

    def __len__(self) -> int:
        return len(self._d)

    def _drop(self, key, pooled: bool = True) -> None:
        """Forget `key` (the pool's lock held)."""
        self._d.pop(key, None)
        size = self._sizes.pop(key, 0)
        self.bytes -= size
        if self.max_bytes is not None:
            if pooled:
                _POOL.order.pop((self, key), None)
            _POOL.bytes -= size

    def get_or_make(self, key, make: Callable):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                if self.max_bytes is not None:
                    _POOL.order.move_to_end((self, key))
                return self._d[key]
        value = make()
        size = self._sizeof(value) if self.max_bytes is not None else 0
        with self._lock:
            if self.max_bytes is not None and size > min(self.max_bytes, _POOL.budget):
                return value  # larger than the whole cache: served, not kept
            if key in self._d:
                self._drop(key)
            self._d[key] = value
            if self.max_bytes is not None:
                self._sizes[key] = size
                self.bytes += size
                _POOL.order[(self, key)] = size
                _POOL.bytes += size
            while len(self._d) > self.maxsize or (self.max_bytes is not None and self.bytes > self.max_bytes):
                self._drop(next(iter(self._d)))
            if self.max_bytes is not None:
                _POOL.evict()
        return value

    def clear(self) -> None:
        with self._lock:
            for key in list(self._d):
                self._drop(key)
