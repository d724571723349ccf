"""The spatial questions keep the inputs of the units asked for (a province's union and zone, a
partner's part of the line) for the most recent units only: touching every province in turn does
not grow a worker, and an input made again gives the same answer."""

from __future__ import annotations

from geoborder import queries as q
from geoborder.queries._common import ASKED_KEPT, _metric
from geoborder.queries.answers import ANSWERS


def test_touching_every_province_keeps_only_the_latest_units(real_store):
    provinces = sorted(real_store.frame("communes_2025")["province_code"].astype(str).unique())
    assert len(provinces) > ASKED_KEPT // 2  # each asks for a union and a zone: more than are kept
    m = _metric(real_store)
    ANSWERS.clear()  # every answer below is computed, not a held one
    first = q.touching(real_store, provinces[0])
    for code in provinces[1:]:
        q.touching(real_store, code)
    assert len(m._asked) <= ASKED_KEPT
    assert not [k for k in m._memo if k[0] in ("union", "zone")]  # none kept for good
    assert ("union", 2025, "province", provinces[0]) not in m._asked._d  # the first one was dropped
    ANSWERS.clear()
    again = q.touching(real_store, provinces[0])  # its union and zone made again
    assert ("union", 2025, "province", provinces[0]) in m._asked._d
    assert again["features"] == first["features"] and len(first["features"]) > 0
