"""`geoborder report`: a border-area report over a period, written as PDF, XLSX, HTML or JSON (by
the extension of --out), and `geoborder report save-area` / `import-targets`.

  geoborder report --area "border:Sơn La" --from 2017 --to 2023 -i poor_households \
      -i new_rural_criteria_met -t "new_rural_criteria_met>=10" --out son_la_2017_2023.pdf

Bad input (an unknown area or indicator, a period without data, a refused target file) exits
with status 2 and the message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from geoborder.core.errors import GeoborderError
from geoborder.core.settings import StoreSettings

FORMATS = {".pdf": "pdf", ".xlsx": "xlsx", ".html": "html", ".htm": "html", ".json": "json"}


def _fail(msg: str):
    click.echo(f"geoborder report: {msg}", err=True)
    sys.exit(2)


def _open(store_path, db_path):
    from geoborder.cli.indicators import _location
    from geoborder.indicators.open import open_indicators
    from geoborder.reports.saved import ReportsDB
    from geoborder.store.open import open_store

    settings = StoreSettings()
    store = open_store(_location(store_path, settings.store))
    db = open_indicators(_location(db_path, settings.indicators))
    click.get_current_context().call_on_close(db.close)
    return store, db, ReportsDB.beside(db)


def _login() -> str:
    from geoborder.cli.indicators import _login as login

    return login()


@click.group("report", invoke_without_command=True)
@click.option(
    "--area", "area", help="border, border:<province>, communes:<codes>, districts:<names>, zone:<km>, saved:<name>"
)
@click.option("--from", "start", type=int, help="first year")
@click.option("--to", "end", type=int, help="last year")
@click.option("-i", "--indicator", "indicators", multiple=True, help="a reported indicator (repeat)")
@click.option("-t", "--threshold", "thresholds", multiple=True, help="e.g. new_rural_criteria_met>=10 (repeat)")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="file.pdf / .xlsx / .html / .json")
@click.option("--store", "store_path", help="the store (default: the configured one)")
@click.option("--db", "db_path", help="the indicator database (default: the configured one)")
@click.pass_context
def report(ctx, area, start, end, indicators, thresholds, lang, out, store_path, db_path):
    """A border-area report over a period (see `geoborder report --help`)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"store": store_path, "db": db_path}
        return
    missing = [n for n, v in (("--area", area), ("--from", start), ("--to", end), ("--out", out)) if v is None]
    if not indicators:
        missing.append("--indicator")
    if missing:
        _fail(f"missing {', '.join(missing)}")
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        _fail(f"--out: write a .pdf, .xlsx, .html or .json file, not {out.name}")
    from geoborder.reports.areas import resolve_area
    from geoborder.reports.crossings import records_provider
    from geoborder.reports.figures import build_report, public
    from geoborder.reports.targets import targets_for

    try:
        store, db, saved = _open(store_path, db_path)
        a = resolve_area(store, area, saved=saved)
        rep = build_report(
            store,
            db,
            a,
            indicators,
            start,
            end,
            thresholds=thresholds,
            targets=targets_for(store, saved, a),
            crossings=records_provider(db),
        )
        if fmt == "pdf":
            from geoborder.reports.pdf import write_pdf

            data = write_pdf(store, rep, lang)
        elif fmt == "xlsx":
            from geoborder.reports.xlsx import write_xlsx

            data = write_xlsx(rep, lang)
        elif fmt == "html":
            from geoborder.reports.html import write_html

            data = write_html(store, rep, lang).encode("utf-8")
        else:
            data = json.dumps(public(rep), ensure_ascii=False, indent=1, default=str).encode("utf-8")
    except GeoborderError as exc:
        _fail(str(exc))
    out.write_bytes(data)
    click.echo(f"{out}: {a.title(lang)}, {start}–{end}, {len(rep['indicators'])} indicator(s)")


@report.command("save-area")
@click.argument("name")
@click.argument("area")
@click.option("--replace", is_flag=True, help="replace an area saved under that name")
@click.pass_obj
def save_area(obj, name, area, replace):
    """Save AREA (an area text) under NAME, for reports, maps and queries."""
    from geoborder.reports.areas import resolve_area

    try:
        store, _db, saved = _open(obj["store"], obj["db"])
        row = saved.save_area(name, resolve_area(store, area, saved=saved), who=_login(), replace=replace)
    except GeoborderError as exc:
        _fail(str(exc))
    click.echo(
        f"saved {row['name']!r}: {len(row['communes_2025'])} communes of 2025, {len(row['communes_2009'])} pre-2025"
    )


@report.command("import-targets")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def import_targets_cmd(obj, file):
    """Import a target table (CSV / XLSX: indicator, area, year, value [, op])."""
    from geoborder.indicators.table import ImportRejected
    from geoborder.reports.targets import import_targets

    try:
        store, _db, saved = _open(obj["store"], obj["db"])
        rep = import_targets(store, saved, file.read_bytes(), file.name, who=_login())
    except ImportRejected as exc:
        _fail(f"{file.name} refused, nothing written: {exc}")
    except GeoborderError as exc:
        _fail(str(exc))
    click.echo(f"{file.name}: {rep['targets']} target(s), version {rep['version']}")
