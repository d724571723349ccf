"""`geoborder indicators ...`: import indicator tables, list versions, manage API keys, links."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click

from geoborder.core.errors import GeoborderError, StoreError
from geoborder.core.settings import StoreSettings


def _fail(msg: str, code: int = 2):
    click.echo(msg, err=True)
    sys.exit(code)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _location(value: str | None, default):
    """A --db / --store value: a postgresql:// URL as it is, anything else a path."""
    from geoborder.core.settings import is_postgres_url

    if value is None:
        return default
    return value if is_postgres_url(value) else Path(value)


def _db(location):
    from geoborder.indicators.open import open_indicators

    try:
        db = open_indicators(_location(location, StoreSettings().indicators))
    except StoreError as exc:
        _fail(f"geoborder indicators: {exc}")
    click.get_current_context().call_on_close(db.close)  # PostgreSQL: its connection pool
    return db


def _store(location):
    from geoborder.store.open import open_store

    try:
        return open_store(_location(location, StoreSettings().store))
    except StoreError as exc:
        _fail(f"geoborder indicators: {exc}")


def format_report(report: dict) -> str:
    lines = [f"{report.get('file')}: {report.get('summary', '')}"]
    for key in ("problems", "unmatched"):
        for p in report.get(key) or []:
            where = ", ".join(
                x
                for x in (
                    f"line {p['line']}" if p.get("line") else "",
                    f"column {p['column']}" if p.get("column") else "",
                )
                if x
            )
            lines.append(f"  {where}: {p['message']}" if where else f"  {p['message']}")
            for c in p.get("candidates", [])[:6]:
                lines.append("      candidate: " + ", ".join(f"{k} {v}" for k, v in c.items() if v))
    return "\n".join(lines)


db_option = click.option(
    "--db",
    "db_path",
    metavar="PATH|URL",
    help="indicator database: a SQLite file or a postgresql:// URL "
    "(default: GEOBORDER_INDICATORS, else var/indicators.sqlite)",
)
store_option = click.option(
    "--store",
    "store_path",
    metavar="PATH|URL",
    help="store: a GeoPackage or a postgresql:// URL (default: GEOBORDER_STORE, else var/geoborder.gpkg)",
)


@click.group("indicators")
def indicators():
    """Indicator tables: import, versions, API keys, links across the 2025 reform."""


@indicators.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--vintage",
    type=click.Choice(["2025", "2009"]),
    default="2025",
    show_default=True,
    help="units the table is keyed by: 2025 communes, or pre-2025 communes (2009 census codes, "
    "GSO 2024 codes or names)",
)
@click.option("--year", type=int, help="year of the values when the table has no year column")
@click.option("--who", help="who imports (default: the login name)")
@click.option("--skip-unmatched", is_flag=True, help="import the matched rows, list the others in the report")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@db_option
@store_option
def import_cmd(file, vintage, year, who, skip_unmatched, as_json, db_path, store_path):
    """Import FILE (CSV or XLSX, wide or long) as a new version. A file with a problem is not imported."""
    from geoborder.indicators.importing import ImportRejected, import_file

    store = _store(store_path)
    db = _db(db_path)
    try:
        report = import_file(
            store,
            db,
            file.read_bytes(),
            file.name,
            vintage=int(vintage),
            year=year,
            who=who or _login(),
            skip_unmatched=skip_unmatched,
        )
    except ImportRejected as exc:
        click.echo(json.dumps(exc.report, ensure_ascii=False, indent=1) if as_json else format_report(exc.report))
        _fail(f"geoborder indicators import: {file.name} was not imported; the data is unchanged.", 1)
    except GeoborderError as exc:
        _fail(f"geoborder indicators import: {exc}")
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        click.echo(format_report(report))
        click.echo(
            f"imported {report['values']} values of {', '.join(report['indicators'])} "
            f"({', '.join(map(str, report['years']))}) as version {report['version']}"
        )


@indicators.command("history")
@db_option
def history_cmd(db_path):
    """List the imports (versions)."""
    for r in _db(db_path).imports():
        click.echo(
            f"v{r['id']}  {r['imported_at']}  {r['who']:<12} {r['vintage']}  {r['n_values']:>6} values  "
            f"{r['file_name']}  sha256 {r['sha256'][:12]}  ({r['report'].get('summary', '')})"
        )


@indicators.command("list")
def list_cmd():
    """List the indicator catalog."""
    from geoborder.indicators.catalog import load_indicators

    for i in load_indicators().indicators:
        click.echo(f"{i.name:<26} {i.source:<9} {i.type:<8} {i.aggregation:<14} {i.unit('en'):<12} {i.en}")


@indicators.command("add-key")
@click.argument("name")
@db_option
def add_key_cmd(name, db_path):
    """Create an API key NAME for uploads; the key is printed once (only its hash is kept)."""
    from geoborder.indicators.db import ApiKeyError

    try:
        key = _db(db_path).add_key(name)
    except ApiKeyError as exc:
        _fail(f"geoborder indicators add-key: {exc}")
    click.echo(key)
    click.echo(
        f"API key {name!r} created. Keep it now: it cannot be shown again. Send it as the X-API-Key header.", err=True
    )


@indicators.command("revoke-key")
@click.argument("name")
@db_option
def revoke_key_cmd(name, db_path):
    """Delete the API key NAME."""
    from geoborder.indicators.db import ApiKeyError

    try:
        _db(db_path).revoke_key(name)
    except ApiKeyError as exc:
        _fail(f"geoborder indicators revoke-key: {exc}")
    click.echo(f"API key {name!r} revoked")


@indicators.command("links")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="write every 2009 unit with its link (CSV)"
)
@store_option
def links_cmd(out, store_path):
    """How pre-2025 (2009 census) units link to GSO 2024 codes and 2025 communes."""
    from geoborder.indicators.reform import links_for

    links = links_for(_store(store_path))
    click.echo(json.dumps(links.summary, ensure_ascii=False, indent=1))
    if out:
        df = links.units.copy()
        for c in ("candidates", "targets"):
            df[c] = df[c].map(" ".join)
        df.to_csv(out)
        click.echo(f"wrote {len(df)} units to {out}")
