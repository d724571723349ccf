"""Saved named areas and the reports' targets on a PostgreSQL indicator database (issue 17):
the same behaviour as beside a SQLite file (names, matching, revision, a refused target file
writes nothing), through the library and through /reports on the real store. The targets'
values are made up (the file names say so); the communes are real."""

from __future__ import annotations

import pytest
from pg_fixtures import pg_client, pg_count

from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.db_postgis import SCHEMA, PostgisIndicatorDB
from geoborder.indicators.saved_areas import (
    delete_saved_area,
    find_saved_area,
    save_area,
    saved_area_names,
    saved_areas_revision,
)

pytestmark = pytest.mark.realpack

NAME = "khu vực giáp ranh Si Ma Cai – Bắc Hà – Xín Mần"
SPEC = "districts:Si Ma Cai;Bắc Hà;Xín Mần"


@pytest.fixture
def db(pg):
    with PostgisIndicatorDB(pg.new_db()) as d:
        yield d


def _save(db, name, codes, replace=False):
    return save_area(
        db, name, spec="communes:x", vintage=2009, codes_2009=codes, codes_2025=["04045"], who="t", replace=replace
    )


def test_saved_areas_same_as_sqlite(db, tmp_path):
    lite = IndicatorDB(tmp_path / "indicators.sqlite")
    for d in (db, lite):
        assert find_saved_area(d, NAME) is None and saved_area_names(d) == []
        r0 = saved_areas_revision(d)
        _save(d, NAME, ["0101", "0303"])
        _save(d, "khu vực giáp ranh Si Ma Cai – Mường Khương", ["0202"])
        r1 = saved_areas_revision(d)
        assert r1 != r0
    for asked in (NAME, "KHU VUC GIAP RANH SI MA CAI - BAC HA - XIN MAN", "khu vuc giap ranh si ma cai", "nowhere"):
        a, b = find_saved_area(db, asked), find_saved_area(lite, asked)
        assert (a and (a.name, a.codes(2009), a.codes(2025))) == (b and (b.name, b.codes(2009), b.codes(2025)))
    assert saved_area_names(db) == saved_area_names(lite)
    assert find_saved_area(db, NAME).codes(2009) == ("0101", "0303")


def test_revision_changes_on_replace_and_delete_and_is_seen_by_another_instance(db):
    other = PostgisIndicatorDB(db.url)
    try:
        _save(db, NAME, ["0101"])
        seen = saved_areas_revision(other)
        _save(db, NAME, ["0101", "0303"], replace=True)
        assert saved_areas_revision(other) != seen
        assert find_saved_area(other, NAME).codes(2009) == ("0101", "0303")
        seen = saved_areas_revision(other)
        assert delete_saved_area(db, NAME) and find_saved_area(other, NAME) is None
        assert saved_areas_revision(other) != seen
    finally:
        other.close()


def test_reports_api_with_saved_areas_and_targets_in_postgres(db, real_store):
    key = db.add_key("so-lao-dong-madeup")
    h = {"X-API-Key": key}
    with pg_client(real_store, db) as api:
        r = api.post("/reports/areas", data={"name": NAME, "area": SPEC}, headers=h)
        assert r.status_code == 201, r.text
        want = r.json()
        assert api.post("/reports/areas", data={"name": NAME, "area": SPEC}, headers=h).status_code == 400
        got = api.get("/reports/areas").json()["areas"]
        assert [a["name"] for a in got] == [NAME] and got[0]["communes_2009"] == want["communes_2009"]
        # the codes are those of the three districts in the store
        c09 = real_store.frame("communes_2009")
        d = c09[c09["district_name"].astype(str).str.contains("Si Ma Cai|Bắc Hà|Xín Mần")]
        assert sorted(want["communes_2009"]) == sorted(d["commune_code"].astype(str))
        # a refused target file writes nothing
        bad = f"indicator,area,year,value\npoor_households,saved:{NAME},2025,900\nnot_an_indicator,border,2025,1\n"
        files = {"file": ("targets_madeup.csv", bad.encode(), "text/csv")}
        r = api.post("/reports/targets/imports", files=files, headers=h)
        assert r.status_code == 422 and "not_an_indicator" in r.json()["description"]
        assert pg_count(db.url, SCHEMA, "target_imports") == 0 and pg_count(db.url, SCHEMA, "targets") == 0
        good = f"indicator,area,year,value\npoor_households,saved:{NAME},2025,900\n"
        files = {"file": ("targets_madeup.csv", good.encode(), "text/csv")}
        r = api.post("/reports/targets/imports", files=files, headers=h)
        assert r.status_code == 201, r.text
        assert api.post("/reports/targets/imports", files=files, headers=h).status_code == 409  # same file again
        doc = api.get("/reports/targets").json()
        assert [(t["indicator"], t["area"], t["year"], t["value"]) for t in doc["targets"]] == [
            ("poor_households", f"saved:{NAME}", 2025, 900.0)
        ]
        assert [i["file_name"] for i in doc["imports"]] == ["targets_madeup.csv"]
        assert pg_count(db.url, SCHEMA, "targets") == 1
