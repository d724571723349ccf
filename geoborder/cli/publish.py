"""`geoborder publish`: load a built store into PostGIS and switch readers to it; list, roll back,
activate or drop versions. See geoborder/publish.py for the layout and the switch."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geoborder.core.errors import GeoborderError
from geoborder.core.settings import PROJECT_ROOT, StoreSettings


def _default_url() -> str | None:
    store = StoreSettings().store
    return store if isinstance(store, str) else None


def _default_store() -> Path:
    store = StoreSettings().store
    return store if isinstance(store, Path) else PROJECT_ROOT / "var" / "geoborder.gpkg"


@click.command("publish")
@click.option(
    "--to",
    "url",
    metavar="postgresql://…",
    help="the database (default: GEOBORDER_STORE when it is a postgresql:// URL)",
)
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    help="the GeoPackage to publish (default: GEOBORDER_STORE when a path, else var/geoborder.gpkg)",
)
@click.option(
    "--grant",
    "grant",
    multiple=True,
    metavar="ROLE",
    help="give ROLE read access (USAGE + SELECT) to this and every later version; repeatable",
)
@click.option("--reload", is_flag=True, help="load the version again even if it is already loaded")
@click.option("--list", "list_", is_flag=True, help="list the loaded versions; * marks the current one")
@click.option("--rollback", is_flag=True, help="make the version loaded before the current one current again")
@click.option("--activate", metavar="VERSION", help="make a loaded VERSION current")
@click.option("--drop", metavar="VERSION", help="drop a loaded VERSION that is not current")
def publish_cmd(url, store, grant, reload, list_, rollback, activate, drop):
    """Publish the store to PostGIS: one schema per data version, switched atomically.

    Readers (`GEOBORDER_STORE=postgresql://…`) see the previous version until the switch commits.
    """
    from geoborder.store.postgis import publish as pub
    from geoborder.store.postgis import versions
    from geoborder.store.postgis.naming import redact

    url = url or _default_url()
    if not url:
        _fail("geoborder publish: say where: --to postgresql://user@host/db (or GEOBORDER_STORE=postgresql://…)")
    if sum(bool(x) for x in (list_, rollback, activate, drop)) > 1:
        _fail("geoborder publish: --list, --rollback, --activate and --drop go one at a time")
    where = redact(url)
    try:
        if list_:
            rows = versions.list_versions(url)
            if not rows:
                click.echo(f"nothing is published at {where}")
            for r in rows:
                click.echo(
                    f"{'*' if r.current else ' '} {r.version}  schema {r.schema}  built {r.built_at}  "
                    f"loaded {r.loaded_at:%Y-%m-%d %H:%M:%S%z}  {r.layers} layers, {r.features:,} features"
                )
            return
        if rollback:
            old, new = versions.rollback(url)
            click.echo(f"rolled back {where}: {old} -> {new}")
            return
        if activate:
            previous = versions.activate(url, activate)
            click.echo(f"activated {activate} at {where} (was {previous})")
            return
        if drop:
            versions.drop_version(url, drop)
            click.echo(f"dropped version {drop} from {where}")
            return
        res = pub.publish(store or _default_store(), url, grant=grant, reload=reload, emit=click.echo)
    except GeoborderError as exc:
        _fail(f"geoborder publish: {exc}")
    what = "loaded and published" if res.loaded else "published (already loaded)"
    click.echo(
        f"{what} version {res.version} ({res.tables} tables, {res.features:,} features) to {where} "
        f"in {res.seconds:.1f}s; previous version: {res.previous or 'none'}"
    )


def _fail(msg: str, code: int = 2):
    click.echo(msg, err=True)
    sys.exit(code)
