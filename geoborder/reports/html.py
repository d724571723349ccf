"""The report as an HTML page (web/templates/report.html, autoescaped): the same tables as the PDF,
the charts and maps as inline PNG images (no script, no CDN: it opens on an office network and
can be saved as one file)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from geoborder.reports import charts, tables
from geoborder.reports.labels import labels, title, units_text

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=jinja2.select_autoescape(["html"])
    )


def write_html(store, report: dict, lang: str = "vi", *, links: dict | None = None) -> str:
    """`links`: other formats of the same report ({"pdf": url, "xlsx": url, "en": url}), if any."""
    inds = []
    for f in report["indicators"]:
        maps = charts.maps_png(store, f, lang)
        inds.append(
            {
                "title": title(f, lang),
                "name": f["name"],
                "chart": charts.data_uri(charts.series_png(f, lang)),
                "maps": charts.data_uri(maps) if maps else None,
                "series": tables.series(f, lang),
                "thresholds": tables.thresholds(f, lang),
                "improved_most": tables.ranked(f, "improved_most", lang),
                "improved_least": tables.ranked(f, "improved_least", lang),
                "reform": tables.reform_lines(report, f, lang),
                "communes": tables.communes(f, lang),
            }
        )
    n = len(report["area"]["communes_2025" if report["vintage"] == 2025 else "communes_2009"])
    return (
        _env()
        .get_template("report.html")
        .render(
            lang=lang,
            L=labels(lang),
            report=report,
            area=report["area_title_en"] if lang == "en" else report["area_title_vi"],
            period=f"{report['period']['from']}–{report['period']['to']}",
            units=f"{units_text(report['vintage'], lang)} ({labels(lang)['n_communes']}: {n})",
            summary=tables.summary(report, lang),
            area_notes=tables.area_note_lines(report, lang),
            targets=tables.targets(report, lang),
            imports=tables.imports(report, lang),
            crossings=report["crossings"].get("note_en" if lang == "en" else "note_vi"),
            indicators=inds,
            links=links or {},
        )
    )
