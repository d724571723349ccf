"""`geoborder map`: a choropleth as a printable PDF or PNG sheet (the format by the extension of
--out), the same sheet as the map page's export button and /maps/{indicator}/export.

  geoborder map density --area "Sơn La" --out son_la.pdf
  geoborder map poverty_rate --area border --year 2024 --paper A3 --orientation landscape --lang en --out border.png

--area takes all, border, border_communes, a province code of the vintage, a province's name or
the name of a saved area (`geoborder report save-area`).
Bad input (an unknown indicator or area, a year without values) exits with status 2 and the message.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geoborder.core.errors import GeoborderError

FORMATS = {".pdf": "pdf", ".png": "png"}


def _fail(msg: str):
    click.echo(f"geoborder map: {msg}", err=True)
    sys.exit(2)


def _area_key(store, db, vintage: int, text: str) -> str:
    """The map's area key: a built-in area or a province (code or name), else a saved area's name."""
    from geoborder.indicators.saved_areas import find_saved_area
    from geoborder.maps.areas import area
    from geoborder.reports import mapsheet

    try:
        return mapsheet.resolve_area(store, vintage, text)
    except GeoborderError:
        if find_saved_area(db, text) is not None:
            return text
        area(store, vintage, text, db)  # the error naming the saved areas too
        raise


@click.command("map")
@click.argument("indicator")
@click.option(
    "--area",
    default="border",
    show_default=True,
    help="all, border, border_communes, a province code or name, or a saved area's name",
)
@click.option("--vintage", type=click.Choice(["2025", "2009"]), default="2025", show_default=True, help="unit vintage")
@click.option("--year", type=int, help="year of the values (default: the latest)")
@click.option(
    "--classes",
    "method",
    type=click.Choice(["quantiles", "natural_breaks", "equal_interval"]),
    default="quantiles",
    show_default=True,
)
@click.option("-k", "k", type=int, default=5, show_default=True, help="number of classes")
@click.option("--paper", type=click.Choice(["A4", "A3"], case_sensitive=False), default="A4", show_default=True)
@click.option("--orientation", type=click.Choice(["portrait", "landscape"]), default="portrait", show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="file.pdf or file.png"
)
@click.option("--store", "store_path", help="the store (default: the configured one)")
@click.option("--db", "db_path", help="the indicator database (default: the configured one)")
def map_cmd(indicator, area, vintage, year, method, k, paper, orientation, lang, out, store_path, db_path):
    """A map of INDICATOR as a PDF or PNG sheet (see `geoborder map --help`)."""
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        _fail(f"--out: write a .pdf or .png file, not {out.name}")
    from geoborder.cli.indicators import _location
    from geoborder.core.settings import StoreSettings
    from geoborder.indicators.open import open_indicators
    from geoborder.maps import choropleth as C
    from geoborder.reports import mapsheet
    from geoborder.store.open import open_store

    settings = StoreSettings()
    try:
        store = open_store(_location(store_path, settings.store))
        db = open_indicators(_location(db_path, settings.indicators))
        try:
            v = int(vintage)
            spec = C.MapSpec(indicator, vintage=v, area=_area_key(store, db, v, area), year=year, method=method, k=k)
            ch = C.choropleth(store, db, spec)
            sheet = mapsheet.render(store, ch, fmt=fmt, paper=paper.upper(), orientation=orientation, lang=lang)
        finally:
            db.close()
    except GeoborderError as exc:
        _fail(str(exc))
    out.write_bytes(sheet.data)
    click.echo(
        f"{out}: {ch.info.title(lang)}, {ch.area.title(lang)}, {ch.year}, {ch.k} classes, "
        f"{paper.upper()} {orientation} (data version {ch.version})"
    )
