"""The `geoborder` command: build the store, inspect it, serve it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import click

from geoborder.cli.data import fetch_cmd, import_cmd
from geoborder.cli.indicators import indicators
from geoborder.cli.map import map_cmd
from geoborder.cli.publish import publish_cmd
from geoborder.cli.query import query
from geoborder.cli.records import records
from geoborder.cli.report import report as report_cmd
from geoborder.core.errors import BuildError, CatalogError, FetchError, StoreError
from geoborder.core.settings import StoreSettings

NO_PACK = """\
geoborder: no source pack found.
  Get one from open sources (geoBoundaries, OpenStreetMap) into var/pack, then run again:
      .venv/bin/geoborder fetch && make run
  Or point geoborder at a pack you have: GEOBORDER_PACK=/path/to/pack make run
  (on a development machine the pack is ../shared/data beside this checkout)."""


def _fail(msg: str, code: int = 2):
    click.echo(msg, err=True)
    sys.exit(code)


class _Main(click.Group):
    """The command group; a setting that does not validate is a one-line error, not a traceback."""

    def invoke(self, ctx):
        from pydantic import ValidationError

        from geoborder.core.settings import describe_invalid

        try:
            return super().invoke(ctx)
        except ValidationError as exc:
            if exc.title not in ("StoreSettings", "ApiSettings", "FetchSettings"):
                raise
            _fail(describe_invalid(exc))


@click.group(cls=_Main)
def main():
    """geoborder: Vietnam's land-border communes and crossing points."""


@main.command("build")
@click.option(
    "--pack", type=click.Path(path_type=Path), help="source pack folder (default: GEOBORDER_PACK, else ../shared/data)"
)
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    help="GeoPackage to write (default: GEOBORDER_STORE, else var/geoborder.gpkg)",
)
@click.option("--if-stale", is_flag=True, help="build only if the store is missing or was built from other inputs")
@click.option("--quiet", is_flag=True, help="print only the result line")
def build_cmd(pack, store, if_stale, quiet):
    """Build the store from a source pack (atomic: a failure keeps the previous store)."""
    from geoborder.build.pipeline import build, format_report, is_stale

    settings = StoreSettings()
    pack = pack or settings.resolved_pack()
    store = store or settings.store
    if pack is None:
        _fail(NO_PACK)
    try:
        if if_stale and not is_stale(pack, store):
            click.echo(f"store {store} is up to date with {pack}")
            _derived_files(store, click.echo)
            return
        result = build(pack, store, emit=(lambda m: None) if quiet else click.echo)
    except (BuildError, CatalogError) as exc:
        _fail(f"geoborder build: {exc}\n  the previous store (if any) is unchanged.")
    _derived_files(store, (lambda m: None) if quiet else click.echo)
    if not quiet:
        click.echo(format_report(result.report))
    click.echo(
        f"built {result.store} in {result.seconds:.1f}s: "
        f"{sum(result.counts.values()):,} features in {len(result.counts)} layers"
    )


@main.command("info")
@click.option("--store", help="a GeoPackage path or a postgresql:// URL (default: GEOBORDER_STORE)")
def info_cmd(store):
    """Print the layers of a built store and its build report."""
    from geoborder.build.pipeline import format_report
    from geoborder.store.open import open_store

    target = StoreSettings(store=store).store if store else StoreSettings().store
    try:
        st = open_store(target)
    except StoreError as exc:
        _fail(f"geoborder info: {exc}")
    info = st.build_info()
    click.echo(f"store {target} (version {st.version}, built {info['built_at']} from {info['pack']})")
    click.echo(format_report(info["report"]))


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (off by default: uvicorn's access log costs more than a small answer).",
)
def run_cmd(host, port, workers, access_log):
    """Build the store if it is missing or stale, then serve it. On a machine with neither a pack
    nor a store, the open-data pack is fetched first (into var/pack)."""
    from geoborder.core.settings import ApiSettings

    ApiSettings()  # a server setting that does not validate stops here, before anything is built
    settings = StoreSettings()
    prepare_store(settings)
    _serve(settings.store, host=host, port=port, workers=workers, access_log=access_log)


def prepare_store(settings: StoreSettings) -> None:
    """What `run` does before serving: nothing for a PostGIS store (`geoborder publish` writes it);
    else the store built from the pack if it is missing or stale, the pack fetched first when
    there is none and no store to serve."""
    from geoborder.build.pipeline import build, is_stale

    if isinstance(settings.store, str):
        # a postgresql:// store is written by `geoborder publish`, never built here
        click.echo(f"serving the published PostGIS store {settings.store.split('@')[-1]}")
        return
    pack = settings.resolved_pack()
    if pack is None and settings.store.exists():
        click.echo(f"no source pack found; serving the existing store {settings.store}")
        _derived_files(settings.store, click.echo)
        return
    if pack is None or (settings.pack is None and not settings.store.exists() and _unfinished_fetch(pack)):
        pack = _fetch_for_run()
    try:
        if is_stale(pack, settings.store):
            click.echo(f"building the store from {pack} ...")
            build(pack, settings.store, emit=click.echo)
        else:
            click.echo(f"store {settings.store} is up to date with {pack}")
    except (BuildError, CatalogError) as exc:
        _fail(f"geoborder run: {exc}\n  fix the pack, or point GEOBORDER_PACK at another one.")
    _derived_files(settings.store, click.echo)


def _derived_files(store: Path, emit) -> None:
    """The files derived from the store that every worker reads from the page cache, written if
    they are not this build's: the features file (its layers' GeoJSON and gzip segments:
    geoborder.features.text) and the tile file (its layers in EPSG:3857 as WKB, the commune layers
    simplified per zoom: geoborder.tiles.packed_file). A failure only warns: the workers then make
    them in memory, as without the file."""
    from geoborder.features.cache import ensure_feature_file
    from geoborder.tiles.render import ensure_tile_file

    for name, ensure in (("features file", ensure_feature_file), ("tile file", ensure_tile_file)):
        try:
            ensure(Path(store), emit)
        except (OSError, StoreError) as exc:
            click.echo(f"warning: the {name} of {store} was not written ({exc}); workers make it in memory", err=True)


def _unfinished_fetch(pack: Path) -> bool:
    """The pack is the one an earlier fetch wrote and some of its sources failed then."""
    from geoborder.core import settings as core_settings
    from geoborder.sources.fetch.manifest import Manifest

    return Path(pack) == core_settings.FETCHED_PACK and bool(Manifest.read(pack).failures)


def _fetch_for_run() -> Path:
    """The open-data pack fetched into var/pack (finished downloads from the cache). Offline: one
    line saying what to do, and exit 2."""
    from geoborder.cli.data import fetch_open_pack, report_failures
    from geoborder.core import settings as core_settings
    from geoborder.sources.fetch.download import unreachable

    fetch_settings = core_settings.FetchSettings()
    pack = core_settings.FETCHED_PACK
    why = unreachable([fetch_settings.geoboundaries_url, fetch_settings.osm_url])
    if why:
        _fail(
            f"geoborder run: no source pack here, and {why}: connect to the internet and run `make run` again "
            f"(it fetches the open-data pack), or point GEOBORDER_PACK at a pack you have."
        )
    click.echo(f"no source pack found: fetching the open-data pack (geoBoundaries, OpenStreetMap) into {pack}")
    try:
        res = fetch_open_pack(pack, fetch_settings)
    except FetchError as exc:
        _fail(f"geoborder run: {exc}")
    if res.failures:
        report_failures(res)
        _fail(
            f"geoborder run: {len(res.failures)} source(s) failed to download; run `make run` again to retry "
            f"(finished downloads are kept).",
            code=1,
        )
    click.echo(f"pack written to {pack} in {res.seconds:.1f}s; see {pack / 'MANIFEST.md'}")
    return pack


def _serve(store, *, host: str, port: int, workers: int, access_log: bool) -> None:
    import os

    import uvicorn

    from geoborder.core.settings import ApiSettings

    os.environ["GEOBORDER_STORE"] = str(store)
    api = ApiSettings()
    # the same server settings as bench/ogc_items.py: httptools + uvloop (uvicorn[standard]); the
    # protocol is httptools' with a header deadline, a URL limit (414) and JSON error bodies
    # (api/server.py); slow clients: docs/api.md "Hostile requests"
    uvicorn.run(
        "api.main:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http="api.server:GuardedHttpToolsProtocol",
        loop="uvloop",
        access_log=access_log,
        backlog=2048,
        # uvicorn annotates it int, but it is a call_later delay: seconds as a float work
        timeout_keep_alive=cast(int, api.keep_alive_timeout),
        limit_concurrency=api.max_connections,
    )


for _command in (fetch_cmd, import_cmd, indicators, query, publish_cmd, records):
    main.add_command(_command)
main.add_command(report_cmd)
main.add_command(map_cmd)

if __name__ == "__main__":
    main()
