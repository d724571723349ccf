"""A throw-away PostgreSQL + PostGIS cluster for the tests of the PostGIS store (issue 8), and the
fixtures built on it (a pytest plugin loaded by conftest.py).

The cluster is started once per session (initdb into a temporary folder, pg_ctl on a free
loopback port, as the `postgres` user when run as root) and stopped at the end. Under CI
(CI=true) the tests that use it FAIL with the reason when PostgreSQL or PostGIS cannot be
started (`.ci/run` installs postgresql and postgresql-15-postgis-3); elsewhere they are skipped.

Fixtures: `pg` (the cluster), `v1_template` (a database with the real store published, to copy
with `pg.new_db(...)`), `v1v2_template` (two versions, v1 current), `published_url` (a shared
read-only database), `v2_store`, `pstore` / `pclient` (a store and an app on `published_url`). Helpers: `pg_store(url)`, `pg_client(store)`, `publish_store`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest
from testenv import IN_CI


def _pg_bin() -> Path:
    """GEOBORDER_PG_BIN, else Debian's PostgreSQL 15, else the newest installed."""
    if os.environ.get("GEOBORDER_PG_BIN"):
        return Path(os.environ["GEOBORDER_PG_BIN"])
    found = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if p.parts[-3].isdigit()),
        key=lambda p: int(p.parts[-3]),
    )
    preferred = Path("/usr/lib/postgresql/15/bin")
    return preferred if (preferred / "initdb").exists() or not found else found[-1].parent


PG_BIN = _pg_bin()
HOSTILE = 'communes_2025"; DROP SCHEMA geoborder CASCADE; --'


def _unavailable(msg: str):
    msg = f"PostgreSQL/PostGIS for the PostGIS store tests: {msg}"
    if IN_CI:
        pytest.fail(msg + " (CI: .ci/run installs postgresql and postgresql-15-postgis-3)")
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster in a temporary folder, on 127.0.0.1:<port>, trust authentication."""

    def __init__(self):
        # in memory when there is room (a throw-away cluster: fast to write and to remove)
        shm = Path("/dev/shm")
        in_memory = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4e9
        self.dir = Path(tempfile.mkdtemp(prefix="geoborder-pg-", dir=shm if in_memory else None))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:  # postgres refuses to run as root: the cluster belongs to `postgres`
            shutil.chown(self.dir, "postgres")
        self._n = 0

    def run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir)

    def start(self) -> None:
        r = self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        if r.returncode:
            raise RuntimeError(f"initdb failed: {r.stderr[-1500:]}")
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c full_page_writes=off -c synchronous_commit=off -c wal_level=minimal -c max_wal_senders=0"
        )
        r = self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60", "-o", opts, "start"
        )
        if r.returncode:
            log = (self.dir / "server.log").read_text() if (self.dir / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {r.stderr[-800:]} {log[-800:]}")

    def stop(self) -> None:
        if self.data.exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{db}"

    def admin(self, db: str = "postgres"):
        import psycopg

        return psycopg.connect(self.url(db), autocommit=True)

    def new_db(self, template: str = "gb_template") -> str:
        """A new database (a copy of `template`, which nobody may be connected to); its URL."""
        self._n += 1
        name = f"t{self._n}"
        with self.admin() as con:
            con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return self.url(name)


@pytest.fixture(scope="session")
def pg():
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        _unavailable(f"no initdb/pg_ctl in {PG_BIN} (Debian: apt-get install postgresql)")
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("the psycopg package is not installed (make install)")
    try:
        cluster = Cluster()
    except (LookupError, OSError) as exc:  # e.g. no `postgres` user to own the cluster when root
        _unavailable(f"cannot prepare the cluster folder: {exc}")
    try:
        try:
            cluster.start()
        except (RuntimeError, OSError) as exc:
            _unavailable(f"the test cluster did not start: {exc}")
        with cluster.admin() as con:
            con.execute("CREATE DATABASE gb_template")
        try:
            with cluster.admin("gb_template") as con:
                con.execute("CREATE EXTENSION postgis")
        except Exception as exc:
            _unavailable(f"CREATE EXTENSION postgis failed ({exc}); Debian: apt-get install postgresql-15-postgis-3")
        yield cluster
    finally:
        cluster.stop()


def publish_store(store: Path, url: str, **kw):
    from geoborder.store.postgis.publish import publish

    return publish(store, url, **kw)


@pytest.fixture(scope="session")
def v1_template(pg, real_store_path) -> str:
    """A database holding the real store published once; copied by the tests that change it."""
    with pg.admin() as con:
        con.execute("CREATE DATABASE gb_v1 TEMPLATE gb_template STRATEGY FILE_COPY")
    publish_store(real_store_path, pg.url("gb_v1"))
    return "gb_v1"


@pytest.fixture(scope="session")
def v1v2_template(pg, v1_template, v2_store) -> str:
    """A database with both versions loaded, v1 current (v2 published, then rolled back)."""
    from geoborder.store.postgis.versions import rollback

    url = pg.new_db(v1_template)
    publish_store(v2_store, url)
    rollback(url)
    return url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def published_url(pg, v1_template) -> str:
    """A database with the real store published: read-only for the tests that use it."""
    return pg.new_db(v1_template)


@pytest.fixture(scope="session")
def v2_store(real_store_path, tmp_path_factory) -> Path:
    """A second data version: the real store with one commune's population changed and another
    fingerprint (as a rebuild from a corrected pack would give)."""
    path = tmp_path_factory.mktemp("v2") / "geoborder.gpkg"
    shutil.copyfile(real_store_path, path)
    con = sqlite3.connect(path)
    try:
        for f in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):  # GeoPackage triggers
            con.create_function(f, 1, lambda g: None)
        con.execute("UPDATE communes_2025 SET population = population + 1000 WHERE fid = 1")
        con.execute("UPDATE geoborder_build SET value = 'ab' || substr(value, 3) WHERE key = 'fingerprint'")
        con.commit()
    finally:
        con.close()
    return path


def pg_store(url: str, refresh: float = 0.0):
    from geoborder.store.postgis.store import PostgisStore

    return PostgisStore(url, refresh_seconds=refresh)


def pg_client(store, indicators=None):
    """An app on `store`; its indicator database is `indicators`, else a throwaway one (tests
    never write into var/)."""
    import tempfile

    from fastapi.testclient import TestClient

    from api.main import create_app
    from geoborder.indicators.open import open_indicators

    if indicators is None:
        indicators = open_indicators(Path(tempfile.mkdtemp(prefix="gb-ind-")) / "indicators.sqlite")
    return TestClient(create_app(store=store, indicators=indicators))


def pg_count(url: str, schema: str, table: str) -> int:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as con:
        return con.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        ).fetchone()[0]


@pytest.fixture(scope="module")
def pstore(published_url):
    """A PostgisStore on the shared published database (pointer re-read every 60 s)."""
    store = pg_store(published_url, refresh=60.0)
    yield store
    store.close()


@pytest.fixture(scope="module")
def pclient(pstore, client):
    """An app on `pstore`, with the same indicator database as `client` (the GeoPackage app), so
    both answer with the same ETags."""
    with pg_client(pstore, client.app.state.indicators) as c:
        yield c
