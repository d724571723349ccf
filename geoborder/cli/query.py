"""`geoborder query ...`: the spatial questions of geoborder.queries from the command line.

Each subcommand prints a GeoJSON FeatureCollection (default) or, with `--format tsv`, one line
per feature with its main figures. Errors in the parameters exit with status 2 and a message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from geoborder.core.errors import InvalidParameter, NotFound, StoreError
from geoborder.core.settings import StoreSettings

# the properties printed by --format tsv, per question
TSV_COLUMNS = {
    "touching": ["commune_code", "name", "province_name", "shared_length_km"],
    "roadless-villages": [
        "geonameid",
        "name",
        "cc",
        "distance_to_road_m",
        "nearest_road_name",
        "commune_name",
        "position_precision",
    ],
    "roadless-villages-by-commune": [
        "commune_code",
        "name",
        "province_name",
        "settlements",
        "roadless_settlements",
        "max_distance_to_road_m",
    ],
    "nearest-gates": ["rank", "gate_id", "name_vi", "gate_class", "partner_gate", "distance_m", "location_quality"],
    "border-zone": ["feature_kind", "name", "distance_to_border_m"],
    "commune-profile": ["role", "name", "border_length_km"],
}


def _store(path):
    from geoborder.store.open import open_store

    try:
        return open_store(path or StoreSettings().store)
    except StoreError as exc:
        click.echo(f"geoborder query: {exc}", err=True)
        sys.exit(2)


def _emit(fc: dict, fmt: str) -> None:
    if fmt == "geojson":
        click.echo(json.dumps(fc, ensure_ascii=False))
        return
    cols = TSV_COLUMNS.get(fc.get("query", {}).get("question"), ["name"])
    click.echo("\t".join(cols))
    for f in fc["features"]:
        p = f["properties"]
        click.echo("\t".join("" if p.get(c) is None else str(p.get(c)) for c in cols))
    click.echo(f"# {fc.get('numberReturned', 0)} features", err=True)


def _indicators(indicators_path):
    """The indicator database (reported values, saved areas): a path or a postgresql:// URL, by
    default GEOBORDER_INDICATORS, else var/indicators.sqlite when it exists; None when there is none
    (a path given that does not exist is an error)."""
    from geoborder.core.settings import is_postgres_url
    from geoborder.indicators.open import open_indicators

    path = indicators_path or StoreSettings().indicators
    if is_postgres_url(path):
        return open_indicators(path)
    path = Path(path)
    if not path.exists():  # opening creates the file: only open one that exists
        if indicators_path is not None:
            click.echo(f"geoborder query: no indicator database at {path} (saved areas live there)", err=True)
            sys.exit(2)
        return None
    return open_indicators(path)


def _run_in_area(ctx, fn, area, indicators_path, **kwargs):
    """`_run` with `area` (a province code of the vintage or a saved area's name) and the indicator
    database that holds the saved areas (opened only when an area is asked for)."""
    if area is None:
        _run(ctx, fn, **kwargs)
        return
    db = _indicators(indicators_path)
    try:
        _run(ctx, fn, area=area, indicators_db=db, **kwargs)
    finally:
        if db is not None:
            db.close()


AREA_HELP = "only the communes of this area: a province code of the vintage or a saved area's name (/reports/areas)"
INDICATORS_HELP = (
    "indicator database holding the saved areas, a path or a postgresql:// URL (default: "
    "GEOBORDER_INDICATORS, else var/indicators.sqlite)"
)


def _run(ctx, fn, **kwargs):
    store = _store(ctx.obj.get("store"))
    try:
        fc = fn(store, **kwargs)
    except (InvalidParameter, NotFound) as exc:
        click.echo(f"geoborder query: {exc}", err=True)
        sys.exit(2)
    _emit(fc, ctx.obj.get("format", "geojson"))


@click.group("query")
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    help="store to query (default: GEOBORDER_STORE, else var/geoborder.gpkg)",
)
@click.option("--format", "fmt", type=click.Choice(["geojson", "tsv"]), default="geojson", show_default=True)
@click.pass_context
def query(ctx, store, fmt):
    """Spatial questions: touching, roadless villages, nearest gates, border zone, commune profile."""
    ctx.ensure_object(dict)
    ctx.obj.update(store=store, format=fmt)


@query.command("touching")
@click.argument("unit")
@click.option("--vintage", type=click.Choice(["2025", "2009"]), default="2025", show_default=True)
@click.option("--within", help="only communes of this Vietnamese province (or pre-2025 district)")
@click.option("--min-shared-km", type=float, help="shortest contact that counts (default: the catalog's 0.5 km)")
@click.option("--geometry", type=click.Choice(["commune", "shared"]), default="commune", show_default=True)
@click.option("--area", help=AREA_HELP)
@click.option("--indicators", "indicators_path", help=INDICATORS_HELP)
@click.pass_context
def touching_cmd(ctx, unit, vintage, within, min_shared_km, geometry, area, indicators_path):
    """Communes touching UNIT (LA-HO, "Hủa Phăn", CN.YN, Lào, or a Vietnamese province/district)."""
    from geoborder.queries import touching

    _run_in_area(
        ctx,
        touching,
        area,
        indicators_path,
        unit=unit,
        vintage=int(vintage),
        within=within,
        min_shared_km=min_shared_km,
        geometry=geometry,
    )


@query.command("roadless")
@click.option(
    "--layer",
    type=click.Choice(["villages", "towns"]),
    help="villages (default, when the store has them) or towns (the settlements of `places`)",
)
@click.option("--min-distance-m", type=float, default=2000.0, show_default=True)
@click.option("--countries", default="VN", show_default=True, help="ISO2 codes, comma-separated, or 'all'")
@click.option("--road-classes", help="comma-separated road classes (e.g. 'Quốc Gia,Cấp Tỉnh'); default all roads")
@click.option("--border-km", type=float, help="only settlements within this distance of the border")
@click.option("--partner", help="with --border-km: the part of the border facing this partner unit")
@click.option("--vintage", type=click.Choice(["2025", "2009"]), default="2025", show_default=True)
@click.option("--by-commune", is_flag=True, help="counts per commune instead of the settlements")
@click.option("--area", help=AREA_HELP)
@click.option("--indicators", "indicators_path", help=INDICATORS_HELP)
@click.pass_context
def roadless_cmd(
    ctx, layer, min_distance_m, countries, road_classes, border_km, partner, vintage, by_commune, area, indicators_path
):
    """Villages (or towns) farther than --min-distance-m from any road (railways excluded); the
    answer's `caveats` name the road layer used, the position precision and what was not judged."""
    from geoborder.queries import roadless_by_commune, roadless_villages

    _run_in_area(
        ctx,
        roadless_by_commune if by_commune else roadless_villages,
        area,
        indicators_path,
        min_distance_m=min_distance_m,
        countries=countries,
        road_classes=road_classes,
        border_km=border_km,
        partner=partner,
        vintage=int(vintage),
        layer=layer,
    )


@query.command("nearest-gates")
@click.option("--lon", type=float)
@click.option("--lat", type=float)
@click.option("--commune", help="2025 (5-digit) or 2009 (7-digit) commune code")
@click.option("--geonameid", help="a settlement's or a village's GeoNames id")
@click.option("-k", type=int, default=3, show_default=True)
@click.option("--international-only", is_flag=True)
@click.option("--published-only", is_flag=True, help="only gates whose position a source gives")
@click.option("--partner", help="only gates to this country (LAO, CHN, KHM or a name)")
@click.pass_context
def nearest_gates_cmd(ctx, lon, lat, commune, geonameid, k, international_only, published_only, partner):
    """The k nearest border gates to a point, a commune or a settlement."""
    from geoborder.queries import nearest_gates

    _run(
        ctx,
        nearest_gates,
        lon=lon,
        lat=lat,
        commune=commune,
        geonameid=geonameid,
        k=k,
        international_only=international_only,
        published_only=published_only,
        partner=partner,
    )


@query.command("border-zone")
@click.option("--distance-km", type=float, default=10.0, show_default=True)
@click.option("--partner", help="only the part of the border facing this country / province / Lao district")
@click.option("--vintage", type=click.Choice(["2025", "2009"]), default="2025", show_default=True)
@click.option("--include", help="communes,settlements,villages,roads (default: all the store holds)")
@click.option("--countries", default="VN", show_default=True, help="settlements of these ISO2 countries, or 'all'")
@click.option("--area", help=AREA_HELP)
@click.option("--indicators", "indicators_path", help=INDICATORS_HELP)
@click.pass_context
def border_zone_cmd(ctx, distance_km, partner, vintage, include, countries, area, indicators_path):
    """Communes, settlements, villages and roads within --distance-km of the border line."""
    from geoborder.queries import border_zone

    _run_in_area(
        ctx,
        border_zone,
        area,
        indicators_path,
        distance_km=distance_km,
        partner=partner,
        vintage=int(vintage),
        include=include,
        countries=countries,
    )


@query.command("profile")
@click.argument("code")
@click.option(
    "--indicators",
    "indicators_path",
    help="indicator database for reported values, a path or a postgresql:// URL (default: "
    "GEOBORDER_INDICATORS, else var/indicators.sqlite, when it exists); computed "
    "indicators need none",
)
@click.option(
    "--villages-within-km", type=float, default=10.0, show_default=True, help="count the villages this near the line"
)
@click.pass_context
def profile_cmd(ctx, code, indicators_path, villages_within_km):
    """One commune's profile: CODE is a 2025 (5-digit) or 2009 (7-digit) commune code."""
    from geoborder.queries import commune_profile

    db = _indicators(indicators_path)
    try:
        _run(ctx, commune_profile, code=code, indicators_db=db, villages_within_km=villages_within_km)
    finally:
        if db is not None:
            db.close()
