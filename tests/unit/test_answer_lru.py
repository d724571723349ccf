"""The answer cache of the spatial questions (geoborder.queries.answers): an LRU bounded in bytes,
one computation per key at a time, answers keyed by store and data version."""

from __future__ import annotations

import gzip
import threading
import time

import geopandas as gpd
import pytest
import shapely

from geoborder.queries import answers as A
from geoborder.queries import gates as G
from geoborder.store.memory import MemoryStore


def test_the_size_is_the_bytes_held_not_the_entries():
    lru = A.ByteLRU(100)
    assert lru.put("a", b"x" * 40) and lru.put("b", b"y" * 40)
    assert lru.held_bytes == 80 and len(lru) == 2
    lru.get("a")  # a is now the most recently used: b goes first
    lru.put("c", b"z" * 40)
    assert "b" not in lru and "a" in lru and "c" in lru
    assert lru.held_bytes == 80


def test_a_value_larger_than_the_budget_is_returned_but_not_held():
    lru = A.ByteLRU(10)
    assert lru.get_or_make("big", lambda: b"x" * 11) == b"x" * 11
    assert "big" not in lru and lru.held_bytes == 0
    assert lru.put("small", b"x" * 10) and lru.held_bytes == 10


def test_replacing_a_key_counts_its_bytes_once():
    lru = A.ByteLRU(100)
    lru.put("a", b"x" * 60)
    lru.put("a", b"x" * 30)
    assert lru.held_bytes == 30 and len(lru) == 1


def test_resize_drops_the_least_recently_used_and_zero_holds_nothing():
    lru = A.ByteLRU(100)
    for k in "abcd":
        lru.put(k, b"x" * 25)
    lru.resize(50)
    assert [k for k in "abcd" if k in lru] == ["c", "d"] and lru.held_bytes == 50
    lru.resize(0)
    assert len(lru) == 0 and lru.held_bytes == 0
    made = []
    assert lru.get_or_make("e", lambda: made.append(1) or b"e") == b"e"
    assert lru.get_or_make("e", lambda: made.append(1) or b"e") == b"e"
    assert made == [1, 1]  # nothing held: made each time


def test_two_callers_of_one_key_at_once_share_one_computation():
    lru = A.ByteLRU(1000)
    calls = []
    started = threading.Event()

    def make():
        calls.append(threading.get_ident())
        started.set()
        time.sleep(0.2)  # the second caller arrives while this one computes
        return b"answer"

    out = []
    first = threading.Thread(target=lambda: out.append(lru.get_or_make("k", make)))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: out.append(lru.get_or_make("k", make)))
    second.start()
    first.join(5)
    second.join(5)
    assert out == [b"answer", b"answer"] and len(calls) == 1
    assert lru.stats()["hits"] == 1 and lru.stats()["misses"] == 1


def test_an_error_is_not_held():
    lru = A.ByteLRU(1000)

    def fail():
        raise ValueError("bad")

    with pytest.raises(ValueError):
        lru.get_or_make("k", fail)
    assert "k" not in lru
    assert lru.get_or_make("k", lambda: b"ok") == b"ok"


def test_an_answer_holds_its_json_gzipped():
    fc = {"type": "FeatureCollection", "features": [], "numberReturned": 0, "note": "ạ"}
    a = A.Answer.of(fc)
    assert a.body() == A.encode(fc) and gzip.decompress(a.gzipped) == a.body()
    assert a.size == len(a.body()) and a.nbytes == len(a.gzipped)
    assert a.data() == fc and a.data() is not a.data()


class _Moving(MemoryStore):
    """A memory store whose data and version change, as a PostGIS store's do on publish."""

    @property
    def version(self) -> str:
        return self._version

    def replace(self, frames: dict, version: str) -> None:
        self._frames = frames
        self._version = version


def _gates(name: str) -> dict:
    return {
        "gates": gpd.GeoDataFrame(
            {"gate_id": ["g1"], "name_vi": [name], "gate_class": ["main"], "location_quality": ["published"]},
            geometry=[shapely.Point(103.75, 21.05)],
            crs=4326,
        )
    }


def _nearest(store) -> bytes:
    return G.nearest_gates_answer(store, lon=103.7, lat=21.0, k=1).body()


def _uncached(store) -> bytes:
    return A.encode(
        G._nearest_gates(
            store,
            lon=103.7,
            lat=21.0,
            commune=None,
            geonameid=None,
            k=1,
            international_only=False,
            published_only=False,
            partner=None,
        )
    )


def test_a_new_data_version_gets_its_own_answer():
    store = _Moving(_gates("Cửa khẩu A"), version="v1")
    first = _nearest(store)
    assert first == _uncached(store) and "Cửa khẩu A".encode() in first
    hits = A.ANSWERS.hits
    assert _nearest(store) == first and A.ANSWERS.hits == hits + 1  # a lookup
    store.replace(_gates("Cửa khẩu B"), version="v2")
    second = _nearest(store)
    assert "Cửa khẩu B".encode() in second and second == _uncached(store)


def test_two_stores_of_one_version_string_do_not_share_answers():
    a = MemoryStore(_gates("Cửa khẩu A"), version="same")
    b = MemoryStore(_gates("Cửa khẩu B"), version="same")
    assert "Cửa khẩu A".encode() in _nearest(a) and "Cửa khẩu B".encode() in _nearest(b)


def test_parameters_are_keyed_with_their_type():
    # 10 and 10.0 are two keys: an answer echoes its parameters as given
    assert A.params_key({"d": 10}) != A.params_key({"d": 10.0})
    assert A.params_key({"a": 1, "b": None}) == A.params_key({"b": None, "a": 1})
