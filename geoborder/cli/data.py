"""`geoborder fetch` and `geoborder import`: get real data onto any machine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from geoborder.core.errors import DataImportError, FetchError


def _fail(msg: str, code: int = 2):
    click.echo(msg, err=True)
    sys.exit(code)


@click.command("fetch")
@click.option(
    "--to",
    "to",
    type=click.Path(path_type=Path),
    default=None,
    help="pack folder to write (default: var/pack, which `make run` then uses)",
)
@click.option(
    "--cache",
    type=click.Path(path_type=Path),
    default=None,
    help="download cache (default: GEOBORDER_FETCH_CACHE, else var/cache/fetch)",
)
@click.option(
    "--geoboundaries-url",
    default=None,
    help="geoBoundaries API base (default: GEOBORDER_FETCH_GEOBOUNDARIES_URL, else the public API)",
)
@click.option(
    "--osm-url", default=None, help="folder of OSM extracts (default: GEOBORDER_FETCH_OSM_URL, else Geofabrik's asia/)"
)
@click.option(
    "--osm",
    "osm_extracts",
    default="VNM,LAO,KHM",
    show_default=True,
    help="OSM extracts to read, ISO3 codes (CHN is ~1.3 GB: add it only if needed)",
)
@click.option("--full-resolution", is_flag=True, help="geoBoundaries full-resolution files (default: simplified)")
@click.option(
    "--roads",
    default=",".join(["motorway", "trunk", "primary", "secondary", "tertiary", "unclassified"]),
    show_default=True,
    help="highway classes to keep ('all' for every highway=*)",
)
@click.option(
    "--pin",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="pack.json of an earlier fetch: refuse any file whose sha256 differs from it",
)
@click.option("--progress/--no-progress", default=None, help="progress bars (default: on a terminal)")
@click.option(
    "--dem",
    is_flag=True,
    help="also Copernicus GLO-30 elevation tiles over the border provinces (large), merged into "
    "dem_glo30.tif: the build then uses it instead of ETOPO5",
)
@click.option(
    "--dem-url", default=None, help="GLO-30 tile server base (default: the public AWS bucket copernicus-dem-30m)"
)
def fetch_cmd(to, cache, geoboundaries_url, osm_url, osm_extracts, full_resolution, roads, pin, progress, dem, dem_url):
    """Assemble a source pack from open sources (geoBoundaries, OpenStreetMap).

    Downloads are cached and resumed; every file's URL, licence, attribution, date and sha256 go
    to pack.json and MANIFEST.md in the pack, with the contract files open sources cannot give."""
    from geoborder.core.settings import FETCHED_PACK, FetchSettings
    from geoborder.sources.fetch.options import OSM_EXTRACTS

    s = FetchSettings()
    extracts = tuple(x.strip().upper() for x in osm_extracts.split(",") if x.strip())
    unknown = [x for x in extracts if x not in OSM_EXTRACTS]
    if unknown:
        _fail(f"geoborder fetch: --osm: unknown extract {unknown}; use some of {sorted(OSM_EXTRACTS)}")
    pack = to or FETCHED_PACK
    try:
        res = fetch_open_pack(
            pack,
            s,
            cache=cache,
            geoboundaries_url=geoboundaries_url,
            osm_url=osm_url,
            osm_extracts=extracts,
            simplified=not full_resolution,
            road_classes=tuple(r.strip() for r in roads.split(",") if r.strip()),
            progress=progress,
            pins=pin,
            dem=dem,
            dem_url=dem_url,
        )
    except FetchError as exc:
        _fail(f"geoborder fetch: {exc}")
    for m in res.manifest.missing:
        click.echo(f"  missing{' (optional)' if m.get('optional') else ''} {m['file']}: {m['why']}")
    if res.failures:
        report_failures(res)
        _fail(
            f"geoborder fetch: {len(res.failures)} source(s) failed; the pack in {pack} holds the others. "
            f"Run the same command again to retry (finished downloads are kept).",
            code=1,
        )
    click.echo(f"pack written to {pack} in {res.seconds:.1f}s; see {pack / 'MANIFEST.md'}")
    if any(not m.get("optional") for m in res.manifest.missing):
        click.echo(
            "the build needs the missing files above: import your own with "
            "`geoborder import FILE --layer LAYER --to " + str(pack) + "`"
        )
    elif res.manifest.missing:
        click.echo(
            "the pack builds without the optional files above (the border is cut by the geoBoundaries "
            "communes, names only); for GSO-coded units import your own with "
            "`geoborder import FILE --layer LAYER --to " + str(pack) + "`"
        )


def fetch_open_pack(
    pack: Path,
    settings,
    *,
    cache: Path | None = None,
    geoboundaries_url: str | None = None,
    osm_url: str | None = None,
    osm_extracts: tuple[str, ...] | None = None,
    simplified: bool = True,
    road_classes: tuple[str, ...] | None = None,
    progress: bool | None = None,
    pins: Path | None = None,
    dem: bool = False,
    dem_url: str | None = None,
):
    """The open-data pack fetched into `pack` (what `geoborder fetch` and, on a machine without a
    pack, `geoborder run` do): options not given come from `settings` (a FetchSettings) and the
    defaults of FetchOptions. Messages go to the terminal, with progress bars on one."""
    from geoborder.sources.fetch.options import FetchOptions
    from geoborder.sources.fetch.pack import fetch_pack, read_pins

    given: dict[str, Any] = {"osm_extracts": osm_extracts, "road_classes": road_classes, "dem_url": dem_url}
    opts = FetchOptions(
        geoboundaries_url=geoboundaries_url or settings.geoboundaries_url,
        osm_url=osm_url or settings.osm_url,
        simplified=simplified,
        dem=dem,
        **{k: v for k, v in given.items() if v is not None},
    )
    return fetch_pack(
        pack,
        cache=cache or settings.cache,
        opts=opts,
        emit=click.echo,
        progress=progress,
        pins=read_pins(pins) if pins else None,
    )


def report_failures(res) -> None:
    """Each source a fetch could not get, one line each on stderr."""
    for f in res.failures:
        click.echo(f"  FAILED {f['source']}: {f['error']}", err=True)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--layer",
    required=True,
    help="catalog layer the file feeds: markers, gates, places, roads, "
    "communes_2025, communes_2009, ... (see layers/catalog.toml)",
)
@click.option("--to", "to", type=click.Path(path_type=Path), required=True, help="pack folder to write into")
@click.option(
    "--crs",
    default=None,
    help="CRS of the coordinates when the file has none or a wrong one, e.g. EPSG:9206 (VN-2000 / TM-3 104-00)",
)
@click.option(
    "--province",
    default=None,
    help="province whose VN-2000 TM-3 central meridian applies to projected coordinates without a CRS (e.g. 'Sơn La')",
)
@click.option(
    "--encoding",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "utf-8", "tcvn3", "vni", "cp1258"]),
    help="text encoding of the attributes (auto: detected, TCVN3/ABC and VNI-Windows converted)",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="take a contract field from a column of the file, e.g. --map marker=SO_HIEU",
)
@click.option(
    "--set",
    "constants",
    multiple=True,
    metavar="FIELD=VALUE",
    help="give a contract field one value for every row, e.g. --set border=VN-LA",
)
@click.option("--append", is_flag=True, help="add the rows to the pack's file instead of replacing it")
@click.option("--source-layer", default=None, help="layer inside a GeoPackage / KML with several")
def import_cmd(file, layer, to, crs, province, encoding, mapping, constants, append, source_layer):
    """Import a province's own file (Shapefile, zipped or not, GeoPackage, GeoJSON, KML, CSV with
    coordinates) into a pack, in contract form, in WGS84 with Unicode text."""
    from geoborder.sources.importer import import_file

    def pairs(items, opt):
        out = {}
        for it in items:
            if "=" not in it:
                _fail(f"geoborder import: {opt} {it!r}: expected FIELD=VALUE")
            k, v = it.split("=", 1)
            out[k.strip()] = v.strip()
        return out

    try:
        rep = import_file(
            file,
            layer,
            to,
            crs=crs,
            province=province,
            encoding=encoding,
            column_map=pairs(mapping, "--map"),
            constants=pairs(constants, "--set"),
            append=append,
            source_layer=source_layer,
        )
    except DataImportError as exc:
        _fail(f"geoborder import: {exc}")
    for line in rep.lines():
        click.echo(line)
