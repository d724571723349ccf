"""The border records on PostgreSQL (issue 16): the same results as on SQLite, one import = one
transaction, and two imports at once behave as indicator imports do (tables in common:
serialised; none in common: side by side). A records "table" is one kind on one subject (the
crossings of one gate ...).

Every record imported here is made up (records_madeup_*.csv and the small *_madeup tables below);
the gate names are real. As in test_postgis_indicators.py, one import is held inside its
transaction with the `hold` hook and the other is seen waiting in pg_locks: orderings are
asserted, never timings (WAIT is only a deadline against hanging).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.db_postgis import PostgisIndicatorDB
from geoborder.records.crossings import crossing_totals
from geoborder.records.db_postgis import PostgisRecordsDB
from geoborder.records.gates import gate_state
from geoborder.records.importing import import_records
from geoborder.records.open import records_for

pytestmark = pytest.mark.realpack

FIXTURES = Path(__file__).parent.parent / "fixtures"
FILES = [
    (FIXTURES / "records_madeup_events.csv", "events"),
    (FIXTURES / "records_madeup_crossings_sonla.csv", "crossings"),
    (FIXTURES / "records_madeup_inspections_sonla.csv", "inspections"),
    (FIXTURES / "records_madeup_cooperation_sonla.csv", "cooperation"),
]
# LS_A and LS_B both write the crossings of Lóng Sập; NC writes those of Nà Cài only
LS_A = ("ls_a_madeup.csv", b"gate,period,people_out\nlong-sap,2024-Q1,10\n")
LS_B = ("ls_b_madeup.csv", b"gate,period,people_out\nlong-sap,2024-Q1,20\nna-cai,2024-Q1,5\n")
NC = ("nc_madeup.csv", b"gate,period,people_out\nna-cai,2023-Q1,7\n")
WAIT = 60


@pytest.fixture
def url(pg):
    return pg.new_db()


def _import(store, db, file, kind="crossings"):
    name, data = (file.name, file.read_bytes()) if isinstance(file, Path) else file
    return import_records(store, db, data, name, kind=kind, who="test")


def _waiting(pg, url) -> int:
    with pg.admin() as con:
        return con.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = %s",
            (url.rsplit("/", 1)[1],),
        ).fetchone()[0]


def _until(cond, what):
    deadline = time.monotonic() + WAIT
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


class Worker(threading.Thread):
    """One records import with its own database objects (its own connections), as another
    worker of the service would run it; `pause_at` holds it inside its transaction."""

    def __init__(self, name, url, store, file, events, pause_at=None):
        super().__init__(name=name, daemon=True)
        self.url, self.store, self.file, self.events, self.pause_at = url, store, file, events, pause_at
        self.reached, self.gate = threading.Event(), threading.Event()
        self.result = self.error = None

    def hold(self, point):
        self.events.append(f"{self.name} {point}")
        if point == self.pause_at:
            self.reached.set()
            if not self.gate.wait(WAIT):
                raise RuntimeError("never released")

    def release(self):
        self.events.append(f"{self.name} released")
        self.gate.set()

    def run(self):
        try:
            with PostgisIndicatorDB(self.url) as idb:
                self.result = _import(self.store, PostgisRecordsDB(idb, hold=self.hold), self.file)
                self.events.append(f"{self.name} committed")
        except BaseException as exc:
            self.error = exc

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), f"{self.name} did not finish"
        return self


def _people_out(store, db) -> dict:
    t = crossing_totals(store, db, by="gate", period="quarter")["totals"]
    return {(r["gate_id"], r["period"]): r["people_out"] for r in t}


def test_same_results_as_sqlite_and_the_same_keys(real_store, url, tmp_path):
    lite = records_for(IndicatorDB(tmp_path / "indicators.sqlite"))
    with PostgisIndicatorDB(url) as idb:
        pg = records_for(idb)
        assert isinstance(pg, PostgisRecordsDB) and records_for(idb) is pg
        for d in (lite, pg):
            for path, kind in FILES:
                _import(real_store, d, path, kind)
        assert pg.counts() == lite.counts()
        for kind in ("events", "crossings", "inspections", "cooperation"):
            a, b = pg.rows(kind), lite.rows(kind)
            assert a.astype(str).to_dict("records") == b.astype(str).to_dict("records"), kind
        drop = [{k: v for k, v in r.items() if k != "imported_at"} for r in pg.imports()]
        assert drop == [{k: v for k, v in r.items() if k != "imported_at"} for r in lite.imports()]
        assert gate_state(real_store, pg, "chieng-khuong", at="2023-06-01") == gate_state(
            real_store, lite, "chieng-khuong", at="2023-06-01"
        )
        key = idb.add_key("don-bien-phong")  # one set of keys for indicators and records
        assert idb.check_key(key) == "don-bien-phong"


def test_a_failure_inside_the_transaction_leaves_nothing(real_store, url):
    def fail(point):
        if point == "written":
            raise RuntimeError("killed after writing")

    with PostgisIndicatorDB(url) as idb:
        db = PostgisRecordsDB(idb)
        _import(real_store, db, NC)
        before = (db.counts(), db.revision(), _people_out(real_store, db))
        with pytest.raises(RuntimeError, match="killed after writing"):
            _import(real_store, PostgisRecordsDB(idb, hold=fail), LS_A)
        assert (db.counts(), db.revision(), _people_out(real_store, db)) == before


def test_imports_of_different_gates_run_side_by_side(real_store, url):
    events: list = []
    with PostgisIndicatorDB(url) as idb:
        db = PostgisRecordsDB(idb)
        a = Worker("A", url, real_store, LS_A, events, pause_at="written")
        a.start()
        assert a.reached.wait(WAIT)
        b = Worker("B", url, real_store, NC, events)
        b.start()
        b.finish()  # Nà Cài lands while Lóng Sập's import is open
        assert b.error is None and a.is_alive() and "A released" not in events
        assert _people_out(real_store, db) == {("na-cai", "2023-Q1"): 7}
        a.release()
        a.finish()
        assert a.error is None and a.result["version"] < b.result["version"]
        assert _people_out(real_store, db) == {("long-sap", "2024-Q1"): 10, ("na-cai", "2023-Q1"): 7}


def test_imports_of_the_same_gate_are_serialised(real_store, pg, url):
    events: list = []
    with PostgisIndicatorDB(url) as idb:
        db = PostgisRecordsDB(idb)
        a = Worker("A", url, real_store, LS_A, events, pause_at="written")
        a.start()
        assert a.reached.wait(WAIT)
        b = Worker("B", url, real_store, LS_B, events)  # Lóng Sập too
        b.start()
        _until(lambda: _waiting(pg, url) == 1, "B waits for A's lock")
        assert b.is_alive() and "B locked" not in events and db.counts()["imports"] == 0
        a.release()
        a.finish()
        b.finish()
        assert a.error is None and b.error is None
        assert events.index("A released") < events.index("B locked") < events.index("B committed")
        assert b.result["version"] == a.result["version"] + 1
        # the serial order A, B: B's figure is the current one, A's stays in the history
        assert _people_out(real_store, db) == {("long-sap", "2024-Q1"): 20, ("na-cai", "2024-Q1"): 5}
        assert sorted(db.rows("crossings")["people_out"]) == [5, 10, 20]


def test_the_same_file_twice_at_once_is_one_import(real_store, pg, url):
    events: list = []
    with PostgisIndicatorDB(url) as idb:
        db = PostgisRecordsDB(idb)
        a = Worker("A", url, real_store, LS_A, events, pause_at="written")
        a.start()
        assert a.reached.wait(WAIT)
        b = Worker("B", url, real_store, LS_A, events)
        b.start()
        _until(lambda: _waiting(pg, url) == 1, "B waits for A's lock")
        a.release()
        a.finish()
        b.finish()
        assert a.error is None and "imported meanwhile as records version" in str(b.error)
        assert db.counts()["imports"] == 1 and db.counts()["crossings"] == 1


def test_a_records_import_changes_the_etags_of_gates_and_markers_on_postgresql(real_store, url):
    """On PostgreSQL a records import leaves the indicator revision as it is: the ETags of the
    collections that carry records (gates, markers) follow the records revision too, so a client's
    If-None-Match is not answered with a stale 304."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    idb = PostgisIndicatorDB(url)
    try:
        with TestClient(create_app(store=real_store, indicators=idb)) as c:
            paths = ["/collections/gates/items", "/collections/markers/items", "/collections/communes_2025/items"]
            before = {p: c.get(p, params={"limit": 5}).headers["etag"] for p in paths}
            revision = idb.revision()
            _import(real_store, records_for(idb), FILES[0][0], "events")
            assert idb.revision() == revision  # the indicator revision did not move
            after = {p: c.get(p, params={"limit": 5}).headers["etag"] for p in paths}
            assert after["/collections/gates/items"] != before["/collections/gates/items"]
            assert after["/collections/markers/items"] != before["/collections/markers/items"]
            assert after["/collections/communes_2025/items"] == before["/collections/communes_2025/items"]
            stale = c.get(
                "/collections/gates/items",
                params={"limit": 5},
                headers={"If-None-Match": before["/collections/gates/items"]},
            )
            assert stale.status_code == 200
    finally:
        idb.close()
