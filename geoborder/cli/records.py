"""`geoborder records ...`: import border records (gate events, crossings, marker inspections,
cooperation), list their versions. Uploads through the API use the indicator API keys."""

from __future__ import annotations

import json
from pathlib import Path

import click

from geoborder.cli.indicators import _db, _fail, _login, _store, db_option, format_report, store_option
from geoborder.core.errors import GeoborderError


@click.group("records")
def records():
    """The border's own records: gate events, crossings, marker inspections, cooperation."""


@records.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["events", "crossings", "inspections", "cooperation"]),
    required=True,
    help="what FILE holds",
)
@click.option("--who", help="who imports (default: the login name)")
@click.option("--skip-unmatched", is_flag=True, help="import the matched rows, list the others in the report")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@db_option
@store_option
def import_cmd(file, kind, who, skip_unmatched, as_json, db_path, store_path):
    """Import FILE (CSV or XLSX) as a new version of records. A file with a problem is not imported."""
    from geoborder.indicators.table import ImportRejected
    from geoborder.records.importing import import_records
    from geoborder.records.open import records_for

    store = _store(store_path)
    rdb = records_for(_db(db_path))
    try:
        report = import_records(
            store, rdb, file.read_bytes(), file.name, kind=kind, who=who or _login(), skip_unmatched=skip_unmatched
        )
    except ImportRejected as exc:
        click.echo(json.dumps(exc.report, ensure_ascii=False, indent=1) if as_json else format_report(exc.report))
        _fail(f"geoborder records import: {file.name} was not imported; the data is unchanged.", 1)
    except GeoborderError as exc:
        _fail(f"geoborder records import: {exc}")
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        click.echo(format_report(report))
        click.echo(f"imported {report['records']} {kind} records as records version {report['version']}")


@records.command("history")
@db_option
def history_cmd(db_path):
    """List the records imports (versions)."""
    from geoborder.records.open import records_for

    for r in records_for(_db(db_path)).imports():
        click.echo(
            f"v{r['id']}  {r['imported_at']}  {r['who']:<12} {r['kind']:<12} {r['n_rows']:>6} rows  "
            f"{r['file_name']}  sha256 {r['sha256'][:12]}  ({r['report'].get('summary', '')})"
        )
