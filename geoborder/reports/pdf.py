"""The report as an A4 PDF for a committee meeting (matplotlib's PDF backend, fonts embedded as
TrueType so the text can be searched and copied): the summary, targets, crossings and sources on
the first pages, then per indicator its chart, tables, the reform notes and the two maps."""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from geoborder.reports import charts, tables
from geoborder.reports.labels import labels, title, units_text

A4 = (8.27, 11.69)
TOP, BOTTOM, LEFT = 0.95, 0.05, 0.06
LINE = 0.014  # one line of 8 pt text, in figure height
PAD = 0.008  # a table cell's padding, in the table's width


class _Pages:
    def __init__(self, pdf: PdfPages, footer: str):
        self.pdf, self.footer, self.n = pdf, footer, 0
        self.fig: Figure | None = None
        self.y = TOP

    def new(self):
        self.close()
        self.n += 1
        self.fig = Figure(figsize=A4)
        self.y = TOP
        self.fig.text(0.5, 0.02, f"{self.footer} — {self.n}", ha="center", fontsize=6, color="#666666")

    def close(self):
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def room(self, h: float):
        if self.fig is None or self.y - h < BOTTOM:
            self.new()

    def text(self, s: str, size: float = 8, bold: bool = False, width: int = 110, color: str = "black"):
        if bold:  # a heading: not alone at the foot of a page
            self.room(LINE * size / 8 + 0.07)
        for line in textwrap.wrap(s, width=int(width * 8 / size)) or [""]:
            h = LINE * size / 8
            self.room(h)
            assert self.fig is not None  # room() opened a page
            self.fig.text(LEFT, self.y - h, line, fontsize=size, fontweight="bold" if bold else "normal", color=color)
            self.y -= h * 1.25

    def table(self, head: list[str], rows: list[list], widths=None, size: float = 6.5):
        """A table whose long cells wrap onto more lines (a row as tall as its longest cell),
        split over pages between rows."""
        if not rows:
            return
        widths = widths or [1 / len(head)] * len(head)
        # characters a column's line holds (DejaVu Sans, Vietnamese text: ~0.66 em a character),
        # inside a padding of PAD of the table's width on each side
        fit = [max(4, int((w - 2 * PAD) * 118 * 6.5 / size)) for w in widths]

        def wrap(cells) -> tuple[list[str], int]:
            lines = [textwrap.wrap(str(c if c is not None else "—"), n) or [""] for c, n in zip(cells, fit)]
            return ["\n".join(x) for x in lines], max(len(x) for x in lines)

        head, head_lines = wrap(head)
        body = [wrap(r) for r in rows]
        one, more = 0.016, 0.0105 * size / 6.5  # a row of one line; each further line

        def height(n: int) -> float:
            return one + (n - 1) * more

        i = 0
        while i < len(body):
            self.room(height(head_lines) + height(body[i][1]) + one)
            room = self.y - BOTTOM - height(head_lines)
            chunk: list[tuple[list[str], int]] = []
            used = 0.0
            while i + len(chunk) < len(body):
                h = height(body[i + len(chunk)][1])
                if chunk and used + h > room:
                    break
                chunk.append(body[i + len(chunk)])
                used += h
            heights = [height(head_lines)] + [height(n) for _, n in chunk]
            h = sum(heights)
            assert self.fig is not None  # room() opened a page
            ax = self.fig.add_axes((LEFT, self.y - h, 1 - 2 * LEFT, h))
            ax.set_axis_off()
            t = ax.table(
                cellText=[c for c, _ in chunk],
                colLabels=head,
                loc="upper center",
                cellLoc="left",
                colWidths=widths,
                bbox=Bbox.from_bounds(0, 0, 1, 1),
            )
            t.auto_set_font_size(False)
            t.set_fontsize(size)
            for (r, c), cell in t.get_celld().items():
                cell.set_linewidth(0.3)
                cell.set_height(heights[r] / h)  # the bbox keeps the rows' proportions
                cell.PAD = PAD / widths[c]  # a fixed padding (matplotlib's is a share of the cell's width)
                if r == 0:
                    cell.set_facecolor("#e8eef6")
                    cell.set_text_props(fontweight="bold")
            self.y -= h + 0.012
            i += len(chunk)

    def figure(self, h: float, draw):
        self.room(h)
        draw(self.fig, (LEFT, self.y - h, 1 - 2 * LEFT, h))
        self.y -= h + 0.01


def write_pdf(store, report: dict, lang: str = "vi") -> bytes:
    L = labels(lang)
    area = report["area_title_en"] if lang == "en" else report["area_title_vi"]
    period = f"{report['period']['from']}–{report['period']['to']}"
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": f"{L['title']}: {area} {period}", "Creator": "geoborder"}) as pdf:
        p = _Pages(pdf, f"{L['title']}: {area}, {period}")
        p.new()
        p.text(L["title"], 16, bold=True)
        p.text(f"{L['area']}: {area}", 11, bold=True)
        p.text(f"{L['period']}: {period}", 11)
        n = len(report["area"]["communes_2025" if report["vintage"] == 2025 else "communes_2009"])
        p.text(f"{L['units']}: {units_text(report['vintage'], lang)} ({L['n_communes']}: {n})", 9)
        p.y -= 0.01
        p.text(L["summary"], 11, bold=True)
        head, rows = tables.summary(report, lang)
        p.table(head, rows, widths=[0.2, 0.08, 0.17, 0.12, 0.12, 0.1, 0.1, 0.11])
        notes = tables.area_note_lines(report, lang)
        if notes:
            p.text(L["area_notes"], 10, bold=True)
            for line in notes:
                p.text("• " + line, 7)
        p.text(L["targets"], 11, bold=True)
        head, rows = tables.targets(report, lang)
        if rows:
            p.table(head, rows, widths=[0.18, 0.06, 0.1, 0.1, 0.1, 0.3, 0.16])
        else:
            p.text(L["no_targets"], 8)
        p.text(L["crossings"], 11, bold=True)
        cr = report["crossings"]
        p.text(cr.get("note_en" if lang == "en" else "note_vi") or "", 8)
        p.text(L["imports"], 11, bold=True)
        head, rows = tables.imports(report, lang)
        p.table(head, rows, widths=[0.08, 0.38, 0.12, 0.2, 0.1, 0.12])
        for f in report["indicators"]:
            p.new()
            p.text(title(f, lang), 13, bold=True)
            p.y -= 0.015  # room for the chart's own title
            p.figure(0.25, lambda fig, rect, f=f: charts.draw_series(fig.add_axes(rect), f, lang))
            p.y -= 0.02
            p.text(L["series"], 10, bold=True)
            head, rows = tables.series(f, lang)
            p.table(head, rows, widths=[0.1, 0.22, 0.16, 0.37, 0.15])
            for name, head, rows in tables.thresholds(f, lang):
                p.text(f"{L['thresholds']}: {name}", 10, bold=True)
                p.table(head, rows, widths=[0.08, 0.17, 0.1, 0.2, 0.45])
            for key in ("improved_most", "improved_least"):
                head, rows = tables.ranked(f, key, lang)
                if rows:
                    p.text(L[key], 10, bold=True)
                    p.table(head, rows, widths=[0.12, 0.34, 0.18, 0.18, 0.18])
            lines = tables.reform_lines(report, f, lang)
            if lines:
                p.text(L["reform"], 10, bold=True)
                for line in lines:
                    p.text("• " + line, 7)
            if f["maps"]["first"] or f["maps"]["last"]:
                p.room(0.45)
                p.text(L["maps"], 10, bold=True)
                p.figure(0.42, lambda fig, rect, f=f: charts.maps_figure(store, f, lang, fig=fig, rect=rect))
        p.close()
    return buf.getvalue()
