"""`geoborder publish`: a built GeoPackage store -> PostGIS, one schema per data version.

Layout in the database (every name below is fixed here or validated against the catalog):

- ``gb_<version>`` (version = the first 16 hex digits of the build fingerprint, as
  `GpkgStore.version`): one table per layer and per non-spatial table of the store, with the
  GeoPackage ``fid``, the catalog fields and ``geometry geometry(<type>, 4326)``; primary key on the
  catalog key (on ``fid`` where a layer has none), a GiST index on the geometry, ANALYZEd. The
  layers the spatial queries measure (METRIC_LAYERS) also hold ``geometry_m``, the geometry in the
  catalog's metric CRS (repaired as the in-memory path repairs it), with its own GiST index: it is
  not a property (readers take the columns from ``_gb_columns``) and the views leave it out. Two small
  tables describe it: ``_gb_tables`` (kind, geometry type, extent, rows) and ``_gb_columns``
  (column order, SQL type, pandas dtype), so a reader rebuilds exactly the frames of the GeoPackage.
- ``geoborder.versions``: every loaded version; ``geoborder.published``: ONE row, the current
  version (the pointer readers read); ``geoborder.history``: every switch; ``geoborder.readers``:
  the roles given read access (``--grant``).
- ``geoborder_current``: one view per table of the current version, for other clients (QGIS, tipg).

A publish is two transactions. (1) The load: schema, tables, COPY, keys, indexes, ANALYZE and the
``versions`` row, committed together, so a publish killed while loading leaves nothing behind.
(2) The switch: the pointer row, the ``geoborder_current`` views and the history, committed
together, so readers see either the whole previous version or the whole new one. A publish killed
between the two leaves the new version loaded but not current; the next `publish` of the same store
just switches. Old versions are kept until dropped (`--drop`); `rollback` goes back one version.

Test-only hook: ``GEOBORDER_TEST_PUBLISH_PAUSE=loading|switch`` makes `publish` print
``geoborder-test: paused at <point>`` and sleep (until killed) inside the load transaction after the
first layers are copied, or between the load and the switch. Tests use it to kill a publish halfway.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.tables import META_BUILD
from geoborder.store.postgis.loading import SourceTable, create_and_copy, read_gpkg, write_descriptions
from geoborder.store.postgis.naming import (
    CONTROL_SCHEMA,
    PublishError,
    check_identifier,
    connect,
    metric_srid,
    schema_for,
)
from geoborder.store.postgis.versions import _grant, _lock, _switch

PAUSE_ENV = "GEOBORDER_TEST_PUBLISH_PAUSE"


def _ensure_control(cur) -> None:
    from psycopg import sql

    cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
    if cur.fetchone() is None:
        try:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except Exception as exc:
            raise PublishError(
                f"PostGIS is not installed in this database and cannot be created "
                f"here ({exc}); a superuser runs CREATE EXTENSION postgis"
            ) from exc
    c = sql.Identifier(CONTROL_SCHEMA)
    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(c))
    cur.execute(
        sql.SQL("""CREATE TABLE IF NOT EXISTS {}.versions (
        version text PRIMARY KEY, schema_name text UNIQUE NOT NULL, fingerprint text NOT NULL,
        built_at text, loaded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        layers integer NOT NULL, features bigint NOT NULL)""").format(c)
    )
    cur.execute(
        sql.SQL("""CREATE TABLE IF NOT EXISTS {}.published (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        version text NOT NULL REFERENCES {}.versions (version),
        schema_name text NOT NULL, published_at timestamptz NOT NULL DEFAULT clock_timestamp())""").format(c, c)
    )
    cur.execute(
        sql.SQL("""CREATE TABLE IF NOT EXISTS {}.history (
        id bigserial PRIMARY KEY, action text NOT NULL, version text NOT NULL, previous text,
        at timestamptz NOT NULL DEFAULT clock_timestamp())""").format(c)
    )
    cur.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.readers (role name PRIMARY KEY)").format(c))


def _register_crs(con, emit: Callable[[str], None]) -> None:
    """Add the service's output CRSs that this PostGIS's spatial_ref_sys lacks (PostGIS 3.3 has
    no VN-2000 TM-3 zones, EPSG:9205-9218), so ST_Transform can serve them: PostGIS resolves a
    row by its authority code through PROJ, like pyproj does. Needs INSERT on spatial_ref_sys
    (its owner, or a grant); without it the service reprojects those CRSs in Python, as the
    GeoPackage store does, and says so here."""
    import warnings

    import psycopg
    from pyproj import CRS

    from geoborder.core.crs import supported_crs

    wanted = sorted({c.epsg for c in supported_crs().values() if c.epsg is not None})
    missing: list[int] = []
    try:
        with con.transaction(), con.cursor() as cur:
            cur.execute("SELECT srid FROM spatial_ref_sys WHERE srid = ANY(%s)", (wanted,))
            missing = sorted(set(wanted) - {r[0] for r in cur.fetchall()})
            for epsg in missing:
                crs = CRS.from_epsg(epsg)
                with warnings.catch_warnings():  # the PROJ string is informative; PostGIS uses the code
                    warnings.simplefilter("ignore", UserWarning)
                    proj4 = crs.to_proj4() or ""
                cur.execute(
                    "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                    "VALUES (%s, 'EPSG', %s, %s, %s) ON CONFLICT (srid) DO NOTHING",
                    (epsg, epsg, crs.to_wkt("WKT1_GDAL"), proj4),
                )
        if missing:
            emit(f"spatial_ref_sys: added EPSG:{', '.join(map(str, missing))} (for ST_Transform)")
    except psycopg.errors.InsufficientPrivilege:
        emit(
            f"spatial_ref_sys lacks EPSG:{', '.join(map(str, missing))} and this role cannot add them: "
            f"the service will reproject to those CRSs in Python"
        )


def _pause(point: str) -> None:
    """Test-only: see the module docstring."""
    if os.environ.get(PAUSE_ENV) == point:
        print(f"geoborder-test: paused at {point}", flush=True)
        sys.stdout.flush()
        time.sleep(600)


def _check_roles(cur, roles: Iterable[str]) -> list[str]:
    out = []
    for role in roles:
        check_identifier(role, "role")
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        if cur.fetchone() is None:
            raise PublishError(f"no role {role!r} in the database: CREATE ROLE it first")
        out.append(role)
    return out


# --------------------------------------------------------------------------- the commands


@dataclass
class PublishResult:
    version: str
    schema: str
    previous: str | None
    loaded: bool  # False: the version was already loaded, only switched
    tables: int
    features: int
    seconds: float


def publish(
    store: Path,
    url: str,
    *,
    catalog: Catalog | None = None,
    grant: Iterable[str] = (),
    reload: bool = False,
    emit: Callable[[str], None] = lambda m: None,
) -> PublishResult:
    """Load the GeoPackage `store` into PostGIS at `url` and make it the current version."""
    t0 = time.perf_counter()
    catalog = catalog or load_catalog()
    grant = [check_identifier(r, "role") for r in grant]
    version, tables = read_gpkg(store, catalog)  # every identifier checked before any SQL
    schema = schema_for(version)
    features = sum(len(t.frame) for t in tables if t.kind == "layer")
    build_meta = tables[[t.name for t in tables].index(META_BUILD)].frame
    meta = dict(zip(build_meta["key"], build_meta["value"]))
    with connect(url) as con:
        with con.transaction(), con.cursor() as cur:
            _lock(cur)
            _ensure_control(cur)
        _register_crs(con, emit)
        with con.transaction(), con.cursor() as cur:
            _lock(cur)
            roles = _check_roles(cur, grant)
            for role in roles:
                cur.execute("INSERT INTO geoborder.readers (role) VALUES (%s) ON CONFLICT DO NOTHING", (role,))
            _grant(cur, CONTROL_SCHEMA, roles)
            loaded = _is_loaded(cur, version, schema, reload=reload)
            if not loaded:
                _load(cur, version, schema, tables, meta, metric_srid(catalog), emit)
            else:
                emit(f"version {version} is already loaded in {schema}; switching to it")
            # grants on the version schema every time: a role given now can read old versions too
            cur.execute("SELECT role FROM geoborder.readers ORDER BY role")
            _grant(cur, schema, [check_identifier(r[0], "role") for r in cur.fetchall()])
        _pause("switch")
        with con.transaction(), con.cursor() as cur:
            _lock(cur)
            previous = _switch(cur, version, "publish")
    return PublishResult(
        version=version,
        schema=schema,
        previous=previous,
        loaded=not loaded,
        tables=len(tables),
        features=features,
        seconds=time.perf_counter() - t0,
    )


def _is_loaded(cur, version: str, schema: str, *, reload: bool) -> bool:
    """Whether `version` is loaded already; with `reload` a loaded one that is not current is
    dropped first (and so is not)."""
    from psycopg import sql

    cur.execute("SELECT 1 FROM geoborder.versions WHERE version = %s", (version,))
    loaded = cur.fetchone() is not None
    if loaded and reload:
        cur.execute("SELECT version FROM geoborder.published")
        row = cur.fetchone()
        if row and row[0] == version:
            raise PublishError(f"version {version} is current: switch to another one before reloading it")
        cur.execute("DELETE FROM geoborder.versions WHERE version = %s", (version,))
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        loaded = False
    return loaded


def _load(
    cur,
    version: str,
    schema: str,
    tables: list[SourceTable],
    meta: dict,
    metric: int | None,
    emit: Callable[[str], None],
) -> None:
    """The version's schema, its tables filled, described, and its `versions` row (one transaction)."""
    from psycopg import sql

    emit(f"loading version {version} into schema {schema} ...")
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    for i, t in enumerate(tables):
        create_and_copy(cur, schema, t, metric)
        emit(f"  {t.name}: {len(t.frame):,} rows")
        if i == 1:
            _pause("loading")
    write_descriptions(cur, schema, tables)
    cur.execute(
        """INSERT INTO geoborder.versions (version, schema_name, fingerprint, built_at,
                   layers, features) VALUES (%s, %s, %s, %s, %s, %s)""",
        (
            version,
            schema,
            meta.get("fingerprint", ""),
            meta.get("built_at"),
            sum(t.kind == "layer" for t in tables),
            sum(len(t.frame) for t in tables if t.kind == "layer"),
        ),
    )
    cur.execute("INSERT INTO geoborder.history (action, version) VALUES ('load', %s)", (version,))
