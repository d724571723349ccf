"""A printed map: one choropleth of geoborder.maps as a PDF or PNG sheet (A4/A3, portrait or
landscape) a planner puts in a report for a committee.

The sheet has the title and subtitle (indicator, area, year, unit vintage, classification), the
map, the legend (unit, each class's bounds as the map page's legend writes them, the communes in
each), the border line, the gates by class, the partner units named in Vietnamese (or English),
a scale bar in km, a north arrow, the sources and licences of every layer drawn, and the data
version and date, all in the page's language. National maps (and a province whose units reach
the offshore archipelagos) frame the mainland and show Hoàng Sa and Trường Sa in an inset, as
official maps do, instead of shrinking the mainland to fit the islands.

Drawn with matplotlib and geopandas, as the border-area reports are (geoborder.reports.charts:
the same commune drawing, the same DejaVu Sans with every Vietnamese diacritic, TrueType fonts
embedded so the PDF's text can be searched and copied): vector output that stays sharp on A3,
no browser and no tile server on the machine that prints, no new dependency.

The map is in longitude/latitude with the aspect of its central latitude (meridians vertical, so
north is up everywhere on the sheet); the scale bar is true at that latitude, which the sheet
says. `render(...)` returns the bytes and where each part was drawn (`Sheet.boxes`, in fractions
of the page from its lower left corner), which the tests use to look at the rendered pages.
"""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

from geoborder.core.cache import LRU
from geoborder.core.errors import InvalidParameter
from geoborder.core.text import fold
from geoborder.maps import choropleth as C
from geoborder.maps.areas import file_part
from geoborder.reports import process
from geoborder.reports.mapsheet_layout import NATIONAL, PNG_DPI, Sheet, _fit, check_options, extents, layout
from geoborder.reports.mapsheet_text import TEXT, sources, title

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib (~29 MB per worker) and the modules that draw with it are imported when a sheet is
# drawn, in the document process (geoborder.reports.process), never by a worker (issue 18)


def resolve_area(store, vintage: int, text: str) -> str:
    """The area key of a map from what a person types: all, border, border_communes, a province
    code of the vintage, or a province's name ("Sơn La", "son la", "Tỉnh Sơn La")."""
    t = str(text).strip()
    if t in NATIONAL:
        return t
    names = dict(C.provinces(store, vintage))
    if t in names:
        return t
    want = fold(t).replace(" ", "")
    for prefix in ("tinh", "thanhpho", "tp."):
        if want.startswith(prefix) and len(want) > len(prefix):
            want = want[len(prefix) :]
    hits = [code for code, name in names.items() if fold(name).replace(" ", "") == want]
    if len(hits) == 1:
        return hits[0]
    raise InvalidParameter(
        f"area: {t!r} is not all, border, border_communes, a province code or a province name of the {vintage} units"
    )


class _Drawing:
    """One sheet being drawn: its figure, its layout, and what was drawn where (the layers,
    the boxes, the swatches and the texts the returned Sheet reports)."""

    def __init__(self, store, ch: C.Choropleth, lang: str, paper: str, orientation: str):
        from matplotlib.figure import Figure

        import geoborder.reports.charts  # noqa: F401  (the Agg backend and the fonts, before any figure)

        self.store, self.ch, self.lang, self.t = store, ch, lang, TEXT[lang]
        self.lay = layout(paper, orientation)
        self.s = self.lay.scale
        self.fig = Figure(figsize=self.lay.size)
        self.national = ch.spec.area in NATIONAL
        self.vintage = ch.spec.vintage
        self.drawn: list[str] = []  # layers drawn, for the sources
        self.boxes: dict = {}
        self.swatches: list = []
        self.texts: dict = {}

    def map_axes(self):
        x, y, w, h = self.lay.map
        W, H = self.lay.size
        main, islands = extents(self)
        self.extent, self.aspect = _fit(main, w * W, h * H)
        x0, x1, y0, y1 = self.extent
        self.tol = (x1 - x0) / (w * W * 25.4) * 0.12  # 0.12 mm on the paper
        ax = self.fig.add_axes(self.lay.map)
        self.boxes["map"] = self.lay.map
        self.islands = islands
        return ax

    def _used(self, layer_id: str):
        if layer_id not in self.drawn:
            self.drawn.append(layer_id)

    def draw(self) -> Figure:
        from matplotlib.patches import Rectangle

        from geoborder.reports.mapsheet_furniture import inset, legend, north_arrow, scale_bar, symbols
        from geoborder.reports.mapsheet_layers import draw_layers

        ax = self.map_axes()
        draw_layers(self, ax, self.extent, self.aspect, self.tol)
        for sp in ("left", "right", "top", "bottom"):
            ax.spines[sp].set_visible(True)
        ax.add_patch(
            Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="#333333", linewidth=0.8, zorder=20)
        )
        self.inset_extent = None
        inset(self)
        scale_bar(self, ax)
        north_arrow(self)
        title(self)
        legend(self)
        symbols(self)
        sources(self)
        return self.fig


_SHEETS = LRU(16, max_bytes=16 * 2**20, sizeof=lambda sheet: len(getattr(sheet, "data", b"")))  # in the shared budget
_LOCK = threading.Lock()  # matplotlib's font and text caches are shared: one sheet at a time


def file_name(ch: C.Choropleth, fmt: str, paper: str, orientation: str) -> str:
    area = file_part(ch.spec.area)  # ASCII: the Content-Disposition header is latin-1
    return f"geoborder_{ch.spec.indicator}_{ch.spec.vintage}_{area}_{ch.year}_{paper}_{orientation}.{fmt}"


def render(
    store, ch: C.Choropleth, *, fmt: str = "pdf", paper: str = "A4", orientation: str = "portrait", lang: str = "vi"
) -> Sheet:
    """The map `ch` as a PDF or PNG sheet (see the module), cached per (data version, map, options)
    in this process, drawn in the document process (geoborder.reports.process)."""
    fmt, paper, orientation = check_options(fmt, paper, orientation)
    if lang not in TEXT:
        raise InvalidParameter(f"lang: vi or en, not {lang!r}")
    key = (id(store), ch.version, ch.spec, ch.year, fmt, paper, orientation, lang)

    def make() -> Sheet:  # in the document process: the worker never imports matplotlib (issue 18)
        target = "geoborder.reports.mapsheet:_render"
        return process.draw(target, store, drawn_layers(ch), ch, fmt, paper, orientation, lang)

    return _SHEETS.get_or_make(key, make)


def drawn_layers(ch: C.Choropleth) -> dict:
    """The layers a sheet of `ch` draws (what the document process is given of the store): the
    partner countries and units, the provinces, the communes, the border line, the gates and, for
    the partner districts named on a province's sheet, the border segments."""
    v = ch.spec.vintage
    ids = ["countries", "china_provinces", "lao_provinces", "khm_provinces", f"provinces_{v}", ch.layer_id]
    ids += ["border_lines", "gates"]
    if ch.spec.area not in NATIONAL:  # a national sheet draws no partner districts or counties
        ids += ["cn_counties", "lao_districts", f"border_segments_{v}"]
    return dict.fromkeys(ids)


def _render(store, ch, fmt, paper, orientation, lang) -> Sheet:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_pdf import FigureCanvasPdf

    with _LOCK:
        d = _Drawing(store, ch, lang, paper, orientation)
        fig = d.draw()
        buf = io.BytesIO()
        if fmt == "pdf":
            FigureCanvasPdf(fig)
            doc_title = f"{d.texts['title']} — {ch.area.title(lang)} ({ch.year})"
            fig.savefig(buf, format="pdf", metadata={"Title": doc_title, "Creator": "geoborder", "CreationDate": None})
            media = "application/pdf"
        else:
            FigureCanvasAgg(fig)
            fig.savefig(buf, format="png", dpi=PNG_DPI, metadata={"Software": "geoborder"})
            media = "image/png"
    return Sheet(
        data=buf.getvalue(),
        media_type=media,
        file_name=file_name(ch, fmt, paper, orientation),
        boxes=d.boxes,
        swatches=d.swatches,
        extent=d.extent,
        inset_extent=d.inset_extent,
        texts=d.texts,
    )


def clear_cache() -> None:
    _SHEETS.clear()
