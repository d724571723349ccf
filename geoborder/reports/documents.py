"""A review's documents drawn with matplotlib, the PDF and the HTML page (its charts and maps are
PNG images), made in the document process (geoborder.reports.process) so a worker never imports
matplotlib: given of the store only the communes the review's maps draw."""

from __future__ import annotations

from collections.abc import Callable

from geoborder.reports import process


def review_layers(report: dict) -> dict[str, Callable | None]:
    """The layers a review's documents draw: the communes of its maps (charts.draw_map), of each
    unit vintage only the rows of the communes on a map (the drawing selects those rows)."""
    codes: dict[int, set[str]] = {}
    for f in report["indicators"]:
        for m in (f["maps"]["first"], f["maps"]["last"]):
            if m:
                codes.setdefault(int(m["units"]), set()).update(str(c) for c in m["values"])

    def rows(keep: set[str]) -> Callable:
        return lambda frame: frame[frame["commune_code"].astype(str).isin(keep)]

    return {f"communes_{units}": rows(keep) for units, keep in codes.items()}


def review_pdf(store, report: dict, lang: str = "vi") -> bytes:
    """geoborder.reports.pdf.write_pdf, in the document process."""
    return process.draw("geoborder.reports.pdf:write_pdf", store, review_layers(report), report, lang)


def review_html(store, report: dict, lang: str = "vi", *, links: dict | None = None) -> str:
    """geoborder.reports.html.write_html, in the document process."""
    return process.draw("geoborder.reports.html:write_html", store, review_layers(report), report, lang, links=links)
