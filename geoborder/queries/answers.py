"""The answers of the spatial questions, computed once per data version and held as bytes.

An answer is the GeoJSON FeatureCollection of one question, serialised once (orjson, the options
of the API's GeoJSONResponse) and held gzip-compressed (`Answer`): a repeated request is a lookup
and the API sends the held bytes as they are (gzip to a client that takes it, else inflated).

The key of an answer (`cached`) holds everything the answer depends on: the question, its
parameters as given (with their types: `10` and `10.0` are two keys, since the answer echoes
them), the store (by identity) and its data version (read inside `store.pinned()`, so a PostGIS
store that publishes or rolls back never gets an answer of another version), and what the
question adds: the indicator database's revision, the records' revision and the day (the commune
profile), the saved areas' revision (`area=`). Errors are not held: a bad request raises again.

`ANSWERS` is a `ByteLRU`: its size is the bytes it holds (the compressed answers), not a number
of entries; past its budget the least recently used answers are dropped. The budget is the
setting `answer_cache_mb` (GEOBORDER_ANSWER_CACHE_MB, default 16 MB; 0 holds nothing); the API
applies it (`set_budget`). Two identical requests at once wait for one computation.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from itertools import count
from typing import Any, ParamSpec

import orjson

#: default budget of the answer cache, in bytes (the setting answer_cache_mb): after the latency endpoints
#: it holds ~4 MB, after a schemathesis run ~11 MB (99 answers); 16 MB is what a worker, whose goal is
#: 500 MB, can spare beside the other caches' 48 MB (geoborder/core/cache.py; issue 18)
DEFAULT_BUDGET = 16 * 2**20
#: gzip level of the held answers: compressed once, sent many times (level 4: a tenth smaller
#: than the level 1 of the app's GZip middleware, for about half as much time again: ~50 ms more on 5 MB)
GZIP_LEVEL = 4
#: the options of api.responses.JSONResponse: the held bytes are what the route would have sent
ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def encode(fc: dict) -> bytes:
    """The JSON of an answer, as the API sends it."""
    return orjson.dumps(fc, option=ORJSON_OPTIONS)


@dataclass(frozen=True, eq=False)
class Answer:
    """One answer: its JSON gzip-compressed (`gzipped`), the size of the JSON (`size`), and `tag`:
    a digest of what it depends on besides the request and the data version (a saved area's
    communes, the records' revision and the day), "" when nothing: the API adds it to the ETag."""

    gzipped: bytes
    size: int
    tag: str = ""

    @classmethod
    def of(cls, fc: dict, tag: str = "") -> Answer:
        body = encode(fc)
        return cls(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0), len(body), tag)

    @property
    def nbytes(self) -> int:
        """What holding it costs (the compressed bytes)."""
        return len(self.gzipped)

    def body(self) -> bytes:
        """The JSON (inflated from the held gzip)."""
        return zlib.decompress(self.gzipped, wbits=31)

    def data(self) -> dict:
        """The answer as a dict (a fresh one: the caller may change it)."""
        return orjson.loads(self.body())


class ByteLRU:
    """A thread-safe LRU whose size is the bytes its values hold (`nbytes(value)`), not their
    number. A value larger than the whole budget is returned but not held. `get_or_make` runs
    one `make` per key at a time: a second caller of the same key waits and reads the result."""

    def __init__(self, max_bytes: int, nbytes: Callable[[Any], int] = len):
        self._max = max(0, int(max_bytes))
        self._nbytes = nbytes
        self._d: OrderedDict = OrderedDict()  # key -> (value, bytes)
        self._held = 0
        self._lock = threading.Lock()
        self._making: dict = {}  # key -> the lock of the one caller making it
        self.hits = 0
        self.misses = 0

    @property
    def max_bytes(self) -> int:
        return self._max

    @property
    def held_bytes(self) -> int:
        return self._held

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._d

    def resize(self, max_bytes: int) -> None:
        """A new budget; what no longer fits is dropped, least recently used first."""
        with self._lock:
            self._max = max(0, int(max_bytes))
            self._trim()

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self._held = 0

    def get(self, key):
        """The value held for `key` (now the most recently used), or None."""
        with self._lock:
            hit = self._d.get(key)
            if hit is None:
                return None
            self._d.move_to_end(key)
            return hit[0]

    def put(self, key, value) -> bool:
        """Hold `value` for `key`; False when it is larger than the whole budget (not held)."""
        size = int(self._nbytes(value))
        with self._lock:
            old = self._d.pop(key, None)
            if old is not None:
                self._held -= old[1]
            if size > self._max:
                return False
            self._d[key] = (value, size)
            self._held += size
            self._trim()
            return True

    def _trim(self) -> None:
        while self._held > self._max and self._d:
            _, (_, size) = self._d.popitem(last=False)
            self._held -= size

    def get_or_make(self, key, make: Callable[[], Any]):
        with self._lock:
            hit = self._d.get(key)
            if hit is not None:
                self._d.move_to_end(key)
                self.hits += 1
                return hit[0]
            lock = self._making.setdefault(key, threading.Lock())
        try:
            with lock:  # the first caller makes it; the others wait here, then find it held
                with self._lock:
                    hit = self._d.get(key)
                    if hit is not None:
                        self._d.move_to_end(key)
                        self.hits += 1
                        return hit[0]
                    self.misses += 1
                value = make()
                self.put(key, value)
                return value
        finally:
            with self._lock:
                if self._making.get(key) is lock:
                    del self._making[key]

    def stats(self) -> dict:
        with self._lock:
            return {
                "entries": len(self._d),
                "held_bytes": self._held,
                "max_bytes": self._max,
                "hits": self.hits,
                "misses": self.misses,
            }


ANSWERS = ByteLRU(DEFAULT_BUDGET, nbytes=lambda a: a.nbytes)


def set_budget(max_bytes: int) -> None:
    """The budget of the answer cache, in bytes (the API applies its setting answer_cache_mb)."""
    if max_bytes != ANSWERS.max_bytes:
        ANSWERS.resize(max_bytes)


# --------------------------------------------------------------------------- keys

_TOKENS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TOKEN_LOCK = threading.Lock()
_NEXT = count(1)


def identity(obj) -> Hashable:
    """A key part that names one object for as long as it lives (a store, an indicator database):
    never reused by another object, as `id()` can be once the first is gone."""
    if obj is None:
        return None
    with _TOKEN_LOCK:
        try:
            token = _TOKENS.get(obj)
            if token is None:
                token = _TOKENS[obj] = next(_NEXT)
            return token
        except TypeError:  # an object that cannot be weakly referenced
            return ("id", id(obj))


def params_key(params: dict) -> tuple:
    """The parameters as a key: each name with its value's repr (type included)."""
    return tuple((k, repr(params[k])) for k in sorted(params))


def cached(
    store, question: str, params: dict, make: Callable[[], dict], *, depends: tuple = (), tag: tuple = ()
) -> Answer:
    """The answer of `question` with `params` on `store`, made by `make()` (a FeatureCollection)
    when it is not held. `depends`: what else the answer reads (revisions, the day); `tag`: the
    part of it that is the same in every process (no object identity), digested into `Answer.tag`.
    Call it inside `store.pinned()`, so the version in the key is the one `make` reads."""
    key = (question, identity(store), store.version, params_key(params), depends)
    digest = hashlib.blake2b(repr(tag).encode(), digest_size=12).hexdigest() if tag else ""
    return ANSWERS.get_or_make(key, lambda: Answer.of(make(), digest))


P = ParamSpec("P")


def as_dict(answer: Callable[P, Answer], name: str, doc: str) -> Callable[P, dict]:
    """The question `name` as a dict (the answer's JSON parsed back: what the API sends), with the
    parameters of its `<name>_answer` twin, so each question's signature is written once."""

    def question(*args: P.args, **kwargs: P.kwargs) -> dict:
        return answer(*args, **kwargs).data()

    question.__name__ = question.__qualname__ = name
    question.__doc__ = doc
    question.__module__ = answer.__module__
    # inspect.signature (help(), the docs) shows the answer's parameters, returning a dict
    question.__signature__ = inspect.signature(answer).replace(return_annotation="dict")  # type: ignore[attr-defined]
    return question
