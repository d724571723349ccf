"""The warm-up holds the answers the default requests of /queries read (geoborder/warmup.py
`_queries`, geoborder.queries.answers): after it, those requests are lookups, not computations."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from geoborder.indicators.open import open_indicators
from geoborder.queries import answers as A
from geoborder.warmup import DEFAULT_POINT, Warmup

pytestmark = pytest.mark.realpack


def test_the_default_requests_read_what_the_warmup_held(real_store, tmp_path):
    db = open_indicators(tmp_path / "indicators.sqlite")
    with TestClient(create_app(store=real_store, indicators=db)) as c:
        A.ANSWERS.clear()
        Warmup(real_store, db)._queries()
        held = len(A.ANSWERS)
        assert held >= 5
        lon, lat = DEFAULT_POINT
        code = str(real_store.frame("border_segments_2025")["commune_code"].iloc[0])
        province = str(real_store.frame("communes_2025")["province_code"].iloc[0])
        misses = A.ANSWERS.misses
        for url, params in (
            ("/queries/border-zone", {}),
            ("/queries/roadless-villages", {}),
            ("/queries/roadless-villages/by-commune", {}),
            ("/queries/nearest-gates", {"lon": lon, "lat": lat}),
            ("/queries/touching", {"unit": province}),
            ("/queries/touching", {"unit": "LAO"}),
            ("/queries/commune-profile", {"code": code}),
        ):
            r = c.get(url, params=params)
            assert r.status_code == 200, (url, r.text)
        assert A.ANSWERS.misses == misses  # every one a lookup
        assert len(A.ANSWERS) == held
