"""The held answers of the spatial questions (geoborder.queries.answers) on a PostGIS store whose
version moves (activate, rollback): after each switch the answer is that version's, never one
held for another, and it is the answer computed without the cache."""

from __future__ import annotations

import pytest
from pg_fixtures import pg_client as _client
from pg_fixtures import pg_store as _store

from geoborder.queries import answers as A
from geoborder.queries.profile import _commune_profile

pytestmark = pytest.mark.realpack


def _population(client, code: str):
    r = client.get("/queries/commune-profile", params={"code": code})
    assert r.status_code == 200, r.text
    return r.json()["features"][0]["properties"]["population"], r.content


def test_a_switch_of_version_gives_that_versions_answer(pg, v1v2_template, real_store):
    from geoborder.store.postgis.versions import activate, rollback

    url = pg.new_db(v1v2_template)
    v1 = real_store.version
    v2 = "ab" + v1[2:]
    store = _store(url)
    try:
        with _client(store) as c:
            before = store.frame("communes_2025")[["commune_code", "population"]].copy()
            assert activate(url, v2) == v1
            after = store.frame("communes_2025")[["commune_code", "population"]]
            changed = before.loc[(before["population"] != after["population"]).to_numpy(), "commune_code"]
            assert len(changed) == 1  # the v2 store: one commune's population + 1000
            code = str(changed.iloc[0])
            assert rollback(url) == (v2, v1)

            p1, body1 = _population(c, code)
            assert _population(c, code) == (p1, body1)  # held
            activate(url, v2)
            p2, body2 = _population(c, code)
            assert p2 == p1 + 1000
            with store.pinned():
                assert store.version == v2
                indicators = c.app.state.indicators
                assert body2 == A.encode(_commune_profile(store, code, indicators, 10.0))
            rollback(url)
            assert _population(c, code) == (p1, body1)  # v1's answer again
    finally:
        store.close()
