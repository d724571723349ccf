"""The indicator database on PostgreSQL (issue 8): one import = one transaction, concurrent imports
of different tables both land, of the same table are serialised, the same file twice is a 409,
parity with the SQLite database, the API on a PostGIS store, the CLI, a role without CREATE.

Every number imported here is made up: the fixtures indicators_madeup_*.csv and the small tables
below, whose file names say "madeup"; the commune names and codes are real. The concurrency tests
hold one import inside its transaction with the `hold` hook and show the other waiting from
pg_locks: they assert orderings, never timings (the waits have long deadlines only so that a bug
fails instead of hanging).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pg_fixtures import pg_client, pg_store

from geoborder.core.errors import StoreError
from geoborder.indicators.db import IndicatorDB
from geoborder.indicators.db_postgis import SCHEMA, PostgisIndicatorDB
from geoborder.indicators.importing import ImportRejected, import_file, prepare
from geoborder.indicators.open import open_indicators

pytestmark = pytest.mark.realpack

FIXTURES = Path(__file__).parent.parent / "fixtures"
LONG_CSV = FIXTURES / "indicators_madeup_sonla_long_codes.csv"  # 6 indicators, 2025 communes
MOCCHAU_2009 = FIXTURES / "indicators_madeup_mocchau_2009_wide.csv"  # 3 indicators, 2009 communes
# small made-up tables: POOR_A and POOR_B share the table poor_households/2025; PHONE does not
POOR_A = ("poor_a_madeup.csv", b"commune_code,poor_households\n04045,601\n04240,503\n")
POOR_B = ("poor_b_madeup.csv", b"commune_code,poor_households,poverty_rate\n04045,602\n04246,691,31\n")
PHONE = ("phone_madeup.csv", b"commune_code,phone_signal_pct\n04045,81\n03985,99.5\n")
WAIT = 60  # seconds: a deadline against hanging, never a measured delay


@pytest.fixture
def url(pg):
    """A fresh database (PostGIS template, nothing published) for the indicator schema."""
    return pg.new_db()


@pytest.fixture
def db(url):
    with PostgisIndicatorDB(url) as d:
        yield d


def _import(store, db, file, **kw):
    name, data = (file.name, file.read_bytes()) if isinstance(file, Path) else file
    kw.setdefault("year", 2024 if isinstance(file, tuple) else None)
    return import_file(store, db, data, name, who="test", **kw)


def _snapshot(db):
    """Everything a failed import must leave as it was."""
    cur = {
        (n, v): db.current(n, vintage=v).to_dict("records")
        for n in ("poor_households", "poverty_rate", "phone_signal_pct")
        for v in (2025, 2009)
    }
    return db.counts(), db.revision(), cur


def _waiting_for_lock(pg, dbname: str) -> int:
    """How many sessions of `dbname` wait for an advisory lock."""
    with pg.admin() as con:
        return con.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = %s",
            (dbname,),
        ).fetchone()[0]


def _until(cond, what: str):
    deadline = time.monotonic() + WAIT
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


class Worker(threading.Thread):
    """One import in its own thread with its own PostgisIndicatorDB (its own connections), as
    another service worker would run it. `pause_at`: hold inside the transaction at that point
    until `release()`; `events` records the points reached, shared by the workers of a test."""

    def __init__(self, name, url, store, file, events, pause_at=None, **kw):
        super().__init__(name=name, daemon=True)
        self.url, self.store, self.file, self.kw = url, store, file, kw
        self.events, self.pause_at = events, pause_at
        self.reached, self.gate = threading.Event(), threading.Event()
        self.result = self.error = None
        self.db = None

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
            self.db = PostgisIndicatorDB(self.url, hold=self.hold)
            self.result = _import(self.store, self.db, self.file, **self.kw)
            self.events.append(f"{self.name} committed")
        except BaseException as exc:
            self.error = exc
        finally:
            if self.db is not None:
                self.db.close()

    def wait_paused(self):
        assert self.reached.wait(WAIT), f"{self.name} never reached {self.pause_at}: {self.error!r}"

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), f"{self.name} did not finish"
        return self


# --------------------------------------------------------------------------- same as SQLite


def test_schema_and_results_equal_the_sqlite_database(real_store, db, url, tmp_path):
    lite = IndicatorDB(tmp_path / "indicators.sqlite")
    for d in (lite, db):
        _import(real_store, d, LONG_CSV)
        _import(real_store, d, MOCCHAU_2009, vintage=2009)
        _import(real_store, d, POOR_A)
        _import(
            real_store,
            d,
            ("skip_madeup.csv", "commune,province,poor_households\nMường Lèo,Sơn La,502\nNowhere,Sơn La,3\n".encode()),
            skip_unmatched=True,
        )

    def drop_time(rows):
        return [{k: v for k, v in r.items() if k != "imported_at"} for r in rows]

    assert drop_time(db.imports()) == drop_time(lite.imports())
    assert [r["imported_at"][-6:] for r in db.imports()] == ["+00:00"] * 4
    assert db.get_import(2) == {**lite.get_import(2), "imported_at": db.get_import(2)["imported_at"]}
    assert db.counts() == lite.counts()
    for v in (2025, 2009):
        assert db.available(v) == lite.available(v)
    for name, v in (("poor_households", 2025), ("poverty_rate", 2009), ("poor_households", 2009)):
        for year, as_of in ((None, None), (2024, None), (2023, None), (None, 1), (2019, None)):
            a = db.current(name, vintage=v, year=year, as_of=as_of)
            b = lite.current(name, vintage=v, year=year, as_of=as_of)
            pd.testing.assert_frame_equal(a, b, check_dtype=len(b) > 0)
    pd.testing.assert_frame_equal(
        db.history("poor_households", "04045", vintage=2025).drop(columns="imported_at"),
        lite.history("poor_households", "04045", vintage=2025).drop(columns="imported_at"),
    )
    with pytest.raises(ImportRejected, match="already imported as version 1"):
        _import(real_store, db, LONG_CSV)
    with pytest.raises(Exception, match="no import 99"):
        db.get_import(99)
    # its own schema, the four tables, a second opening creates nothing and keeps the instance id
    import psycopg

    with psycopg.connect(url) as con:
        tables = {
            r[0]
            for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (SCHEMA,))
        }
    assert tables == {"meta", "imports", "observations", "api_keys"}
    with PostgisIndicatorDB(url) as again:
        assert again.instance == db.instance and again.revision() == db.revision()


def test_api_keys(db):
    key = db.add_key(" thong-ke-son-la ")
    assert key.startswith("gbk_") and db.check_key(key) == "thong-ke-son-la"
    assert db.check_key(key + "x") is None
    with pytest.raises(Exception, match="exists"):
        db.add_key("thong-ke-son-la")
    db.add_key("b-key")
    assert db.key_names() == ["b-key", "thong-ke-son-la"]
    revision = db.revision()
    db.revoke_key("thong-ke-son-la")
    assert db.check_key(key) is None and db.key_names() == ["b-key"]
    assert db.revision() == revision  # keys change no response: not the ETags either
    with pytest.raises(Exception, match="no API key"):
        db.revoke_key("thong-ke-son-la")


def test_open_indicators_and_settings_take_a_url(url, tmp_path, monkeypatch):
    from geoborder.core.settings import StoreSettings

    monkeypatch.setenv("GEOBORDER_INDICATORS", url)
    assert StoreSettings().indicators == url
    d = open_indicators(StoreSettings().indicators)
    assert isinstance(d, PostgisIndicatorDB) and d.counts()["imports"] == 0
    d.close()
    monkeypatch.setenv("GEOBORDER_INDICATORS", str(tmp_path / "i.sqlite"))
    assert isinstance(open_indicators(StoreSettings().indicators), IndicatorDB)
    with pytest.raises(StoreError, match="cannot connect") as exc:
        PostgisIndicatorDB(url.rsplit("/", 1)[0] + "/no_such_db")
    assert "password" not in str(exc.value)


# --------------------------------------------------------------------------- one transaction


def test_a_bad_row_leaves_nothing(real_store, db):
    _import(real_store, db, PHONE)
    before = _snapshot(db)
    values, report = prepare(real_store, LONG_CSV.read_bytes(), LONG_CSV.name)
    bad = values.copy()
    bad.loc[len(bad) - 1, "value"] = float("nan")  # the last row: the others are already copied
    with pytest.raises(StoreError, match="importing"):
        db.write_import(
            file_name=LONG_CSV.name,
            sha256=report["sha256"],
            who="t",
            vintage=2025,
            layout="long",
            values=bad,
            report=report,
        )
    assert _snapshot(db) == before
    # the same file, correct, lands afterwards (versions increase; on PostgreSQL a failed import
    # uses up its number, so they need not be consecutive)
    assert _import(real_store, db, LONG_CSV)["version"] > 1


def test_a_failure_inside_the_transaction_leaves_nothing(real_store, url):
    def fail(point):
        if point == "written":
            raise RuntimeError("killed after writing")

    with PostgisIndicatorDB(url) as db, PostgisIndicatorDB(url, hold=fail) as failing:
        before = _snapshot(db)
        with pytest.raises(RuntimeError, match="killed after writing"):
            _import(real_store, failing, LONG_CSV)
        assert _snapshot(db) == before


def test_a_connection_lost_inside_the_transaction_leaves_nothing(real_store, pg, url):
    events: list = []
    dbname = url.rsplit("/", 1)[1]
    with PostgisIndicatorDB(url) as db:
        _import(real_store, db, PHONE)
        before = _snapshot(db)
        w = Worker("A", url, real_store, LONG_CSV, events, pause_at="written")
        w.start()
        w.wait_paused()
        with pg.admin() as con:  # the import's connection goes away while its transaction is open
            killed = con.execute(
                "SELECT pg_terminate_backend(pid) FROM (SELECT DISTINCT l.pid FROM pg_locks l"
                " JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory'"
                " AND l.granted AND d.datname = %s) AS holder",
                (dbname,),
            ).fetchall()
        assert killed == [(True,)]  # the one session holding A's table locks
        w.release()
        w.finish()
        assert isinstance(w.error, StoreError) and "unavailable" in str(w.error)
        assert _snapshot(db) == before
        assert _import(real_store, db, LONG_CSV)["version"] > 1  # and the database works on


# --------------------------------------------------------------------------- concurrency


def test_imports_of_different_tables_run_side_by_side_and_both_land(real_store, url):
    events: list = []
    with PostgisIndicatorDB(url) as db:
        r0 = db.revision()
        a = Worker("A", url, real_store, POOR_A, events, pause_at="written")
        a.start()
        a.wait_paused()  # A: poor_households/2025, written, not committed
        b = Worker("B", url, real_store, PHONE, events)
        b.start()
        b.finish()  # B (phone_signal_pct/2025) lands while A is open
        assert b.error is None and a.is_alive()
        assert "B committed" in events and "A released" not in events
        r1 = db.revision()
        assert r1 != r0 and db.counts()["imports"] == 1
        assert db.current("phone_signal_pct", vintage=2025).set_index("commune_code").loc["03985", "value"] == 99.5
        assert db.current("poor_households", vintage=2025).empty  # A is not visible yet
        a.release()
        a.finish()
        assert a.error is None
        # A drew its id first but committed second: the revision still changes
        assert a.result["version"] < b.result["version"]
        assert db.revision() not in (r0, r1) and db.counts()["imports"] == 2
        assert db.current("poor_households", vintage=2025).set_index("commune_code")["value"].to_dict() == {
            "04045": 601,
            "04240": 503,
        }


def _a_holds_b_waits(pg, url, store, file_a, file_b, events) -> tuple[Worker, Worker]:
    """A runs until it has written everything and holds there, its transaction open; then B
    starts and runs until it waits for one of A's locks."""
    a = Worker("A", url, store, file_a, events, pause_at="written")
    a.start()
    a.wait_paused()
    b = Worker("B", url, store, file_b, events)
    b.start()
    _until(lambda: _waiting_for_lock(pg, url.rsplit("/", 1)[1]) == 1, "B waits for A's lock")
    return a, b


def test_imports_of_the_same_table_are_serialised(real_store, pg, url, tmp_path):
    events: list = []
    with PostgisIndicatorDB(url) as db:
        a, b = _a_holds_b_waits(pg, url, real_store, POOR_A, POOR_B, events)  # poor_households/2025 both
        assert b.is_alive() and "B locked" not in events and db.counts()["imports"] == 0
        a.release()
        a.finish()
        b.finish()
        assert a.error is None and b.error is None
        # B took its locks only after A let go, and drew the next version
        assert events.index("A released") < events.index("B locked") < events.index("B committed")
        assert b.result["version"] == a.result["version"] + 1
        # the result is the one of the serial order A, B
        serial = IndicatorDB(tmp_path / "serial.sqlite")
        _import(real_store, serial, POOR_A)
        _import(real_store, serial, POOR_B)
        for name in ("poor_households", "poverty_rate"):
            pd.testing.assert_frame_equal(db.current(name, vintage=2025), serial.current(name, vintage=2025))
        assert db.current("poor_households", vintage=2025).set_index("commune_code").loc["04045", "value"] == 602


def test_the_same_file_twice_at_once_lands_once(real_store, pg, url):
    events: list = []
    with PostgisIndicatorDB(url) as db:
        # B passes the early sha256 check (A is not committed), prepares, then waits for A
        a, b = _a_holds_b_waits(pg, url, real_store, LONG_CSV, LONG_CSV, events)
        a.release()
        a.finish()
        b.finish()
        assert a.error is None and a.result["version"] == 1
        assert isinstance(b.error, ImportRejected), b.error
        assert b.error.report["kind"] == "duplicate_file"
        assert "imported meanwhile as version 1" in b.error.report["message"]
        assert db.counts()["imports"] == 1 and "B written" not in events


# --------------------------------------------------------------------------- API, CLI, roles


def test_api_upload_on_postgis_store_and_indicators(pg, v1_template, real_store):
    """Two apps (two workers) on one PostGIS database holding both the store and the indicators."""
    url = pg.new_db(v1_template)
    dbname = url.rsplit("/", 1)[1]
    events: list = []
    held, gate = threading.Event(), threading.Event()

    def hold(point):
        events.append(point)
        if point == "written":
            held.set()
            gate.wait(WAIT)

    ind1, ind2 = PostgisIndicatorDB(url, hold=hold), PostgisIndicatorDB(url)
    key = ind2.add_key("thong-ke-son-la")
    store1, store2 = pg_store(url), pg_store(url)
    try:
        with pg_client(store1, indicators=ind1) as api1, pg_client(store2, indicators=ind2) as api2:
            before = api2.get("/collections/communes_2025/items/04045")
            assert before.status_code == 200 and "poor_households" not in before.json()["properties"]
            listing = api2.get("/collections/communes_2025/items", params={"limit": 5})
            files = {"file": (LONG_CSV.name, LONG_CSV.read_bytes(), "text/csv")}
            headers = {"X-API-Key": key}
            out = {}
            first = threading.Thread(
                target=lambda: out.setdefault(1, api1.post("/indicators/imports", files=files, headers=headers)),
                daemon=True,
            )
            first.start()
            assert held.wait(WAIT)
            second = threading.Thread(
                target=lambda: out.setdefault(2, api2.post("/indicators/imports", files=files, headers=headers)),
                daemon=True,
            )
            second.start()
            _until(lambda: _waiting_for_lock(pg, dbname) == 1, "the second upload waits")
            gate.set()
            first.join(WAIT)
            second.join(WAIT)
            assert out[1].status_code == 201, out[1].text
            assert out[2].status_code == 409, out[2].text
            assert "already imported as version 1" in out[2].json()["report"]["summary"]
            after = api2.get("/collections/communes_2025/items/04045")
            assert after.headers["etag"] != before.headers["etag"]
            p = after.json()["properties"]
            assert p["poor_households"] == 615 and p["poor_households_year"] == 2024 and p["poverty_rate"] == 24.25
            # the other worker sees the same values; the item listing changes its ETag too
            assert api1.get("/collections/communes_2025/items/04045").json()["properties"]["poor_households"] == 615
            again = api2.get("/collections/communes_2025/items", params={"limit": 5})
            assert again.headers["etag"] != listing.headers["etag"]
            assert "poor_households" in again.json()["features"][0]["properties"]
            items = api2.get(
                "/collections/communes_2025/items", params={"filter": "poor_households > 600", "limit": 50}
            ).json()
            assert {f["properties"]["commune_code"] for f in items["features"]} == {"04045"}
            hist = api2.get("/indicators/imports").json()["imports"]
            assert [(h["id"], h["who"]) for h in hist] == [(1, "thong-ke-son-la")]
            vals = api1.get("/indicators/poor_households/values", params={"year": 2024}).json()
            assert {v["commune_code"]: v["value"] for v in vals["values"]} == {"03985": 388, "04045": 615, "04240": 502}
    finally:
        for x in (ind1, ind2, store1, store2):
            x.close()


def test_cli_on_a_url(real_store_path, url):
    from geoborder.cli.main import main as cli

    runner = CliRunner()
    r = runner.invoke(cli, ["indicators", "add-key", "tk", "--db", url])
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        cli, ["indicators", "import", str(LONG_CSV), "--who", "tk", "--db", url, "--store", str(real_store_path)]
    )
    assert r.exit_code == 0, r.output
    assert "as version 1" in r.output
    r = runner.invoke(cli, ["indicators", "history", "--db", url])
    assert r.exit_code == 0 and LONG_CSV.name in r.output and "v1" in r.output
    r = runner.invoke(cli, ["indicators", "history", "--db", url.rsplit("/", 1)[0] + "/no_such_db"])
    assert r.exit_code == 2 and "cannot connect" in r.output


def test_a_role_with_table_rights_only_imports(real_store, pg, url):
    """The schema made once by its owner; the service's role has no CREATE right, only the rights
    of the README: it opens the database, imports, checks keys, and cannot rewrite history."""
    import psycopg

    PostgisIndicatorDB(url).close()  # created by the owner (here: postgres)
    with pg.admin(url.rsplit("/", 1)[1]) as con:
        con.execute("DROP ROLE IF EXISTS gb_ind_writer")
        con.execute("CREATE ROLE gb_ind_writer LOGIN")
        con.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        con.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO gb_ind_writer")
        con.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO gb_ind_writer")
        con.execute(f"GRANT INSERT ON {SCHEMA}.imports, {SCHEMA}.observations, {SCHEMA}.api_keys TO gb_ind_writer")
        con.execute(f"GRANT DELETE ON {SCHEMA}.api_keys TO gb_ind_writer")
    writer_url = url.replace("postgres@", "gb_ind_writer@")
    try:
        with PostgisIndicatorDB(writer_url) as db:
            key = db.add_key("tk")
            assert db.check_key(key) == "tk"
            assert _import(real_store, db, LONG_CSV)["version"] == 1
            db.revoke_key("tk")
        with psycopg.connect(writer_url) as con:
            for stmt in (
                f"UPDATE {SCHEMA}.observations SET value = 0",
                f"DELETE FROM {SCHEMA}.imports",
                f"CREATE TABLE {SCHEMA}.x (a int)",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    con.execute(stmt)
                con.rollback()
    finally:
        with pg.admin(url.rsplit("/", 1)[1]) as con:
            con.execute("DROP OWNED BY gb_ind_writer")
            con.execute("DROP ROLE gb_ind_writer")
