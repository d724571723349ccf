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
import math
import textwrap
import threading
from dataclasses import dataclass, field

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle
from matplotlib.patheffects import Stroke

from geoborder.build.partner_names import partner_vi_names
from geoborder.core.cache import LRU
from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.core.text import fold
from geoborder.maps import choropleth as C
from geoborder.reports import charts  # noqa: F401  (sets the Agg backend and the fonts first)
from geoborder.reports.charts import draw_map

FORMATS = ("pdf", "png")
PAPERS = {"A4": (8.27, 11.69), "A3": (11.69, 16.54)}  # inches, portrait
ORIENTATIONS = ("portrait", "landscape")
PNG_DPI = 150
NATIONAL = ("all", "border", "border_communes")
#: east of every mainland commune (the easternmost, in Khánh Hòa, is at 109.47°E): parts of a unit
#: east of this are the offshore archipelagos, Hoàng Sa (Đà Nẵng) and Trường Sa (Khánh Hòa)
ISLANDS_LON = 109.55

BORDER_COLOR = "#d7191c"  # as the map page (web/map_style.py)
GATE_STYLE = {  # class: colour (the page's), marker, size in points
    "international": ("#08306b", "s", 6.5),
    "main": ("#2171b5", "D", 5.0),
    "secondary": ("#9ecae1", "o", 4.5),
}
PARTNER_FILL, PARTNER_EDGE = "#efefef", "#9a9a9a"
VN_EDGE = "#8c8c8c"
NORTH_COLOR = "#1a1a1a"

TEXT = {
    "vi": {
        "units_2025": "đơn vị hành chính 2025",
        "units_2009": "đơn vị trước 2025 (địa giới 2009)",
        "area": "Vùng",
        "year": "năm",
        "classes": "Phân lớp",
        "unit": "Đơn vị",
        "communes": "xã",
        "legend": "Chú giải",
        "border": "Đường biên giới quốc gia",
        "gates": {"international": "Cửa khẩu quốc tế", "main": "Cửa khẩu chính", "secondary": "Cửa khẩu phụ"},
        "partner": "Nước láng giềng (tỉnh, huyện)",
        "province": "Ranh giới tỉnh",
        "north": "B",
        "scale_note": "thước tỷ lệ đúng ở vĩ độ {lat}°B",
        "islands": "Quần đảo Hoàng Sa và Trường Sa",
        "hoang_sa": "Q.Đ. Hoàng Sa\n(Đà Nẵng)",
        "truong_sa": "Q.Đ. Trường Sa\n(Khánh Hòa)",
        "sources": "Nguồn",
        "licence": "giấy phép",
        "indicator_computed": "Chỉ tiêu: tính từ lớp {layer} của kho dữ liệu",
        "indicator_reported": "Chỉ tiêu: số liệu báo cáo đã nhập (cơ sở dữ liệu chỉ tiêu, lần nhập {stamp})",
        "version": "Phiên bản dữ liệu {version}, dựng ngày {date}",
        "made": "geoborder — bản đồ xuất từ trang /maps/{indicator}",
        "countries": {"LAO": "LÀO", "CHN": "TRUNG QUỐC", "KHM": "CAMPUCHIA"},
    },
    "en": {
        "units_2025": "2025 administrative units",
        "units_2009": "pre-2025 units (2009 geography)",
        "area": "Area",
        "year": "year",
        "classes": "Classes",
        "unit": "Unit",
        "communes": "communes",
        "legend": "Legend",
        "border": "International border",
        "gates": {"international": "International gate", "main": "Main gate", "secondary": "Secondary gate"},
        "partner": "Neighbouring country (provinces, districts)",
        "province": "Province boundary",
        "north": "N",
        "scale_note": "scale true at latitude {lat}°N",
        "islands": "Hoàng Sa and Trường Sa archipelagos",
        "hoang_sa": "Hoàng Sa archipelago\n(Đà Nẵng)",
        "truong_sa": "Trường Sa archipelago\n(Khánh Hòa)",
        "sources": "Sources",
        "licence": "licence",
        "indicator_computed": "Indicator: computed from the store's {layer} layer",
        "indicator_reported": "Indicator: reported values as imported (indicator database, import revision {stamp})",
        "version": "Data version {version}, built {date}",
        "made": "geoborder — map exported from the page /maps/{indicator}",
        "countries": {"LAO": "LAOS", "CHN": "CHINA", "KHM": "CAMBODIA"},
    },
}


def check_options(fmt: str, paper: str, orientation: str) -> tuple[str, str, str]:
    fmt, orientation = str(fmt).lower(), str(orientation).lower()
    paper = str(paper).upper()
    if fmt not in FORMATS:
        raise InvalidParameter(f"format: write pdf or png, not {fmt!r}")
    if paper not in PAPERS:
        raise InvalidParameter(f"paper: A4 or A3, not {paper!r}")
    if orientation not in ORIENTATIONS:
        raise InvalidParameter(f"orientation: portrait or landscape, not {orientation!r}")
    return fmt, paper, orientation


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


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    size: tuple[float, float]  # inches
    scale: float  # font scale (A3 = √2 × A4)
    title_y: float
    map: tuple[float, float, float, float]  # figure fractions: x, y, w, h
    legend: tuple[float, float, float, float]
    symbols: tuple[float, float, float, float]
    sources: tuple[float, float, float, float]


def layout(paper: str, orientation: str) -> Layout:
    w, h = PAPERS[paper]
    s = 1.0 if paper == "A4" else math.sqrt(2)
    if orientation == "landscape":
        return Layout(
            (h, w),
            s,
            0.955,
            map=(0.03, 0.115, 0.655, 0.775),
            legend=(0.71, 0.47, 0.27, 0.42),
            symbols=(0.71, 0.125, 0.27, 0.33),
            sources=(0.03, 0.012, 0.95, 0.09),
        )
    return Layout(
        (w, h),
        s,
        0.967,
        map=(0.04, 0.25, 0.92, 0.66),
        legend=(0.04, 0.085, 0.47, 0.15),
        symbols=(0.54, 0.085, 0.42, 0.15),
        sources=(0.04, 0.008, 0.92, 0.068),
    )


@dataclass
class Sheet:
    """A rendered map: the document and where its parts are on the page (fractions, lower left
    origin: x, y, w, h), and the map's extent in lon/lat (x0, x1, y0, y1)."""

    data: bytes
    media_type: str
    file_name: str
    boxes: dict = field(default_factory=dict)
    swatches: list = field(default_factory=list)  # (class, colour, box) of each legend row
    extent: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    inset_extent: tuple[float, float, float, float] | None = None
    texts: dict = field(default_factory=dict)  # title, legend labels, sources: what the page says


# --------------------------------------------------------------------------- geometry helpers


def _frame(store, layer_id: str):
    try:
        return store.frame(layer_id)
    except NotFound:
        return None


def _parts(geoms) -> tuple[np.ndarray, np.ndarray]:
    """Every polygon part of `geoms` and the index of the geometry it came from."""
    parts, idx = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    return parts, idx


def _split_islands(geoms) -> tuple[np.ndarray, np.ndarray]:
    """(mainland parts, island parts) of `geoms`: parts whose centre lies east of ISLANDS_LON."""
    parts, _ = _parts(geoms)
    if not len(parts):
        return parts, parts
    east = shapely.get_x(shapely.centroid(parts)) > ISLANDS_LON
    return parts[~east], parts[east]


def _bounds(geoms) -> tuple[float, float, float, float] | None:
    g = np.asarray(geoms, dtype=object)
    if not len(g):
        return None
    b = shapely.total_bounds(g)
    return (float(b[0]), float(b[2]), float(b[1]), float(b[3])) if np.all(np.isfinite(b)) else None


def _fit(extent, box_w: float, box_h: float, pad: float = 0.04):
    """`extent` (x0, x1, y0, y1) padded and widened (or heightened) so that at the aspect of its
    central latitude it fills a box of box_w × box_h inches; and that aspect."""
    x0, x1, y0, y1 = extent
    dx, dy = max(x1 - x0, 0.05), max(y1 - y0, 0.05)
    x0, x1, y0, y1 = x0 - dx * pad, x1 + dx * pad, y0 - dy * pad, y1 + dy * pad
    aspect = 1.0 / math.cos(math.radians((y0 + y1) / 2))
    want = box_w / box_h  # screen width / height = (x1 - x0) / (aspect * (y1 - y0))
    have = (x1 - x0) / (aspect * (y1 - y0))
    if have < want:
        grow = (want * aspect * (y1 - y0) - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = ((x1 - x0) / (want * aspect) - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    return (x0, x1, y0, y1), aspect


def _simplified(frame, tol: float, box):
    """The rows of `frame` that meet `box`, simplified to `tol` degrees (a fraction of a millimetre
    on the paper) and clipped a little outside the box."""
    if frame is None or not len(frame):
        return frame
    geoms = np.asarray(frame.geometry.values, dtype=object)
    keep = shapely.intersects(geoms, box)
    sub = frame[keep].copy()
    if not len(sub):
        return sub
    g = shapely.simplify(np.asarray(sub.geometry.values, dtype=object), tol, preserve_topology=True)
    sub = sub.set_geometry(list(shapely.clip_by_rect(g, *box.bounds)), crs=frame.crs)
    return sub[~sub.geometry.is_empty]


def _nice_km(width_km: float) -> float:
    target = width_km * 0.22
    p = 10 ** math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * p <= target:
            return m * p
    return p


def _fmt_date(iso: str | None, lang: str) -> str:
    if not iso:
        return "—"
    d = str(iso)[:10]
    if lang == "vi" and len(d) == 10:
        return f"{d[8:10]}/{d[5:7]}/{d[0:4]}"
    return d


def _num(v: float, lang: str) -> str:
    s = f"{v:g}"
    return s.replace(".", ",") if lang == "vi" else s


# --------------------------------------------------------------------------- drawing


class _Drawing:
    def __init__(self, store, ch: C.Choropleth, lang: str, paper: str, orientation: str):
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

    # ----------------------------------------------------------------- what goes where
    def extents(self):
        ch = self.ch
        communes = self.store.frame(ch.layer_id)
        area_geoms = np.asarray(communes.geometry.values[ch.area.mask], dtype=object)
        provinces = _frame(self.store, f"provinces_{self.vintage}")
        if self.national and provinces is not None:
            main, islands = _split_islands(provinces.geometry.values)
            if self.ch.spec.area != "all":
                main = _split_islands(area_geoms)[0]
        else:
            main, islands = _split_islands(area_geoms)
            if provinces is not None and "province_code" in provinces:
                own = provinces[provinces["province_code"].astype(str) == str(ch.spec.area)]
                islands = _split_islands(own.geometry.values)[1] if len(own) else islands
        if not len(main):  # an area that is only islands: no inset, the islands are the map
            main, islands = islands, islands[:0]
        return _bounds(main), _bounds(islands) if len(islands) else None

    def map_axes(self):
        x, y, w, h = self.lay.map
        W, H = self.lay.size
        main, islands = self.extents()
        self.extent, self.aspect = _fit(main, w * W, h * H)
        x0, x1, y0, y1 = self.extent
        self.tol = (x1 - x0) / (w * W * 25.4) * 0.12  # 0.12 mm on the paper
        ax = self.fig.add_axes(self.lay.map)
        self.boxes["map"] = self.lay.map
        self.islands = islands
        return ax

    # ----------------------------------------------------------------- layers
    def draw_layers(self, ax, extent, aspect, tol, *, inset: bool = False):
        x0, x1, y0, y1 = extent
        box = shapely.box(x0 - (x1 - x0) * 0.05, y0 - (y1 - y0) * 0.05, x1 + (x1 - x0) * 0.05, y1 + (y1 - y0) * 0.05)
        s = self.s
        fine = 0.5 if self.national else 1.0
        # Vietnam's layers: the mainland on a map with an inset, the islands in the inset
        vn_box = box
        if inset:
            vn_box = shapely.box(ISLANDS_LON, y0, x1, y1)
        elif self.islands is not None:
            vn_box = shapely.box(box.bounds[0], box.bounds[1], ISLANDS_LON, box.bounds[3])
        # partner countries and their units
        for layer_id, lw in (
            ("countries", 0.5),
            ("china_provinces", 0.5),
            ("lao_provinces", 0.35),
            ("khm_provinces", 0.35),
            ("cn_counties", 0.2),
            ("lao_districts", 0.2),
        ):
            if self.national and layer_id in ("cn_counties", "lao_districts"):
                continue
            f = _frame(self.store, layer_id)
            if layer_id == "countries" and f is not None and "iso3" in f:
                f = f[f["iso3"].astype(str) != "VNM"]
            f = _simplified(f, tol, box)
            if f is None or not len(f):
                continue
            fill = PARTNER_FILL if layer_id in ("countries", "china_provinces") else "none"
            f.plot(ax=ax, facecolor=fill, edgecolor=PARTNER_EDGE, linewidth=lw * s, zorder=1)
            self._used(layer_id)
        # Vietnam's provinces under the classes (the area's surroundings in white)
        prov = _simplified(_frame(self.store, f"provinces_{self.vintage}"), tol, vn_box)
        if prov is not None and len(prov):
            prov.plot(ax=ax, facecolor="white", edgecolor=VN_EDGE, linewidth=0.3 * s, zorder=2)
            self._used(f"provinces_{self.vintage}")
        # the communes of the area, by class: the reports' commune drawing
        ch = self.ch
        communes = self.store.frame(ch.layer_id)
        sub = communes[ch.area.mask]
        sub = _simplified(sub, tol, vn_box)
        codes = sub["commune_code"].astype(str).tolist()
        rows = dict(zip(communes["commune_code"].astype(str), range(len(communes))))
        m = {"units": self.vintage, "year": ch.year, "values": dict.fromkeys(codes)}
        classes = {c: int(ch.classes[rows[c]]) for c in codes}
        if len(sub):
            draw_map(ax, self.store, m, classes, ch.classification, self.lang, frame=sub, linewidth=0.12 * s * fine)
            for coll in ax.collections[-1:]:
                coll.set_zorder(3)
        ax.set_title("")
        self._used(ch.layer_id)
        if inset and len(sub):  # the islands are specks at this scale: a dark outline shows them
            ax.collections[-1].set_linewidth(0.35 * s)
            ax.collections[-1].set_edgecolor("#333333")
        # province boundaries over the classes
        if prov is not None and len(prov) and not inset:
            edges = prov.copy()
            edges.plot(ax=ax, facecolor="none", edgecolor="#3a3a3a", linewidth=0.45 * s, zorder=4)
            if not self.national and not inset:
                own = edges[edges["province_code"].astype(str) == str(ch.spec.area)]
                if len(own):
                    own.plot(ax=ax, facecolor="none", edgecolor="#111111", linewidth=1.1 * s, zorder=4)
        # the border line, on a white casing so it stands out over any class
        bl = _simplified(_frame(self.store, "border_lines"), tol / 2, box)
        if bl is not None and len(bl):
            bl.plot(ax=ax, color="white", linewidth=(2.6 if not self.national else 1.9) * s, zorder=5)
            bl.plot(ax=ax, color=BORDER_COLOR, linewidth=(1.6 if not self.national else 1.1) * s, zorder=6)
            self._used("border_lines")
        if not inset:
            self.gates(ax, box)
            self.labels(ax, box, extent)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(aspect, adjustable="box")
        ax.set_axis_off()

    def _used(self, layer_id: str):
        if layer_id not in self.drawn:
            self.drawn.append(layer_id)

    def gates(self, ax, box):
        g = _frame(self.store, "gates")
        if g is None or not len(g):
            return
        g = g[g.geometry.notna() & ~g.geometry.is_empty]
        g = g[shapely.intersects(np.asarray(g.geometry.values, dtype=object), box)]
        if not len(g):
            return
        self._used("gates")
        for cls, (color, marker, size) in GATE_STYLE.items():
            sel = g[g["gate_class"].astype(str) == cls]
            if len(sel):
                ax.scatter(
                    shapely.get_x(sel.geometry.values),
                    shapely.get_y(sel.geometry.values),
                    s=(size * self.s * (0.8 if self.national else 1.0)) ** 2,
                    marker=marker,
                    c=color,
                    edgecolors="black",
                    linewidths=0.6 * self.s,
                    zorder=8,
                )
        if not self.national:  # names of the international and main gates
            for _, r in g[g["gate_class"].astype(str).isin(["international", "main"])].iterrows():
                _halo_text(
                    ax,
                    str(r["name_vi"]),
                    (r.geometry.x, r.geometry.y),
                    2 * self.s,
                    xytext=(5, 3),
                    fontsize=6 * self.s,
                    color="#08306b",
                    zorder=9,
                )

    def _label(self, ax, geoms, names, extent, size: float, *, min_share: float, style: str = "italic", bold=False):
        x0, x1, y0, y1 = extent
        mx, my = (x1 - x0) * 0.09, (y1 - y0) * 0.03  # labels are placed well inside the frame
        view = shapely.box(x0 + mx, y0 + my, x1 - mx, y1 - my)
        area = view.area
        for g, n in zip(geoms, names):
            if g is None or not n or n == "nan":
                continue
            part = shapely.intersection(g, view)
            if part.is_empty or part.area < area * min_share:
                continue
            p = shapely.point_on_surface(part)
            _halo_text(
                ax,
                n,
                (p.x, p.y),
                1.8 * self.s,
                ha="center",
                va="center",
                fontsize=size * self.s,
                style=style,
                fontweight="bold" if bold else "normal",
                color="#4d4d4d",
                zorder=7,
                annotation_clip=True,
            )

    def labels(self, ax, box, extent):
        lang = self.lang
        vi = lang == "vi"
        countries = _frame(self.store, "countries")
        if self.national and countries is not None:
            f = countries[countries["iso3"].astype(str) != "VNM"]
            self._label(
                ax,
                f.geometry.values,
                [self.t["countries"].get(str(c), str(c)) for c in f["iso3"]],
                extent,
                9,
                min_share=0.002,
                bold=True,
            )
            china = _frame(self.store, "china_provinces")
            if china is not None:
                self._label(
                    ax, [shapely.union_all(china.geometry.values)], [self.t["countries"]["CHN"]], extent, 9,
                    min_share=0.002, bold=True,
                )  # fmt: skip
            return
        names = partner_vi_names("province") if vi else {}
        for layer_id, code_col, name_col in (
            ("lao_provinces", "iso_code", "name"),
            ("china_provinces", "code", "name_vi" if vi else "name_en"),
            ("khm_provinces", "iso_code", "name_vi" if vi else "name"),
        ):
            f = _frame(self.store, layer_id)
            if f is None or not len(f):
                continue
            ns = [
                names.get(str(c)) or (str(n) if str(n) != "nan" else str(e))
                for c, n, e in zip(f[code_col], f[name_col], f["name"] if "name" in f else f[name_col])
            ]
            self._label(ax, f.geometry.values, ns, extent, 8, min_share=0.01)
        # the partner districts facing the area (border_segments), smaller
        seg = _frame(self.store, f"border_segments_{self.vintage}")
        dists = _frame(self.store, "lao_districts")
        if seg is not None and dists is not None and "partner_district_name" in seg:
            facing = set(seg.loc[seg["province_code"].astype(str) == str(self.ch.spec.area), "partner_district_name"])
            facing = {str(d) for d in facing if str(d) != "nan"}
            sel = dists[dists["name"].astype(str).isin(facing)]
            dnames = _district_vi() if vi else {}
            self._label(
                ax, sel.geometry.values, [dnames.get(str(n), str(n)) for n in sel["name"]], extent, 5.5, min_share=0.002
            )
        prov = _frame(self.store, f"provinces_{self.vintage}")
        if prov is not None:
            other = prov[prov["province_code"].astype(str) != str(self.ch.spec.area)]
            self._label(ax, other.geometry.values, other["name"].astype(str).tolist(), extent, 6.5, min_share=0.01)

    # ----------------------------------------------------------------- furniture
    def north_arrow(self):
        x, y, w, h = self.lay.map
        W, H = self.lay.size
        bw = 0.42 * self.s / W
        bh = 0.62 * self.s / H
        rect = (x + w - bw - 0.012, y + h - bh - 0.012, bw, bh)
        ax = self.fig.add_axes(rect)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_axis_off()
        ax.add_patch(Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="none", alpha=0.85))
        top, base, notch = (0.5, 0.95), 0.3, (0.5, 0.42)
        ax.add_patch(Polygon([top, (0.18, base), notch], closed=True, facecolor=NORTH_COLOR, edgecolor=NORTH_COLOR))
        ax.add_patch(
            Polygon([top, (0.82, base), notch], closed=True, facecolor="white", edgecolor=NORTH_COLOR, linewidth=0.8)
        )
        ax.text(0.5, 0.12, self.t["north"], ha="center", va="center", fontsize=10 * self.s, fontweight="bold")
        self.boxes["north_arrow"] = rect

    def scale_bar(self, ax):
        x0, x1, y0, y1 = self.extent
        lat = (y0 + y1) / 2
        width_km = (x1 - x0) * 111.32 * math.cos(math.radians(lat))
        km = _nice_km(width_km)
        frac = km / width_km
        bx, by = 0.035, 0.04
        ax.add_patch(
            Rectangle(
                (bx - 0.015, by - 0.028),
                frac + 0.09,
                0.085,
                transform=ax.transAxes,
                facecolor="white",
                edgecolor="none",
                alpha=0.85,
                zorder=10,
            )
        )
        for i in range(4):
            ax.add_patch(
                Rectangle(
                    (bx + frac * i / 4, by),
                    frac / 4,
                    0.012,
                    transform=ax.transAxes,
                    facecolor=NORTH_COLOR if i % 2 == 0 else "white",
                    edgecolor=NORTH_COLOR,
                    linewidth=0.6,
                    zorder=11,
                )
            )
        fs = 6.5 * self.s
        for v, xf in ((0, 0.0), (km / 2, 0.5), (km, 1.0)):
            lab = _num(v, self.lang) + (" km" if xf == 1.0 else "")
            ax.text(bx + frac * xf, by + 0.018, lab, transform=ax.transAxes, ha="center", fontsize=fs, zorder=12)
        note = self.t["scale_note"].format(lat=_num(round(lat, 1), self.lang))
        ax.text(bx, by - 0.016, note, transform=ax.transAxes, fontsize=5 * self.s, color="#555555", zorder=12)
        X, Y, W_, H_ = self.lay.map
        self.boxes["scale_bar"] = (X + (bx - 0.015) * W_, Y + (by - 0.028) * H_, (frac + 0.09) * W_, 0.085 * H_)
        self.texts["scale"] = f"{_num(km, self.lang)} km"

    def inset(self):
        if self.islands is None:
            return
        X, Y, W_, H_ = self.lay.map
        W, H = self.lay.size
        x0, x1, y0, y1 = self.extent
        ix0, ix1, iy0, iy1 = self.islands
        pad = 0.6
        iext = (ix0 - pad, ix1 + pad, iy0 - pad, iy1 + pad * 3)  # room for the title at the top
        iaspect = 1.0 / math.cos(math.radians((iext[2] + iext[3]) / 2))
        ratio = (iext[1] - iext[0]) / (iaspect * (iext[3] - iext[2]))  # width / height on paper
        # east of the mainland, at the bottom right of the map
        main_east = (self.extents()[0][1] + 0.35 - x0) / (x1 - x0)  # axes fraction
        avail_w = max(0.2, 0.985 - main_east) * W_ * W
        iw = min(avail_w, 0.4 * W_ * W)
        ih = iw / ratio
        if ih > 0.46 * H_ * H:
            ih = 0.46 * H_ * H
            iw = ih * ratio
        rect = (X + W_ - iw / W - 0.006, Y + 0.006, iw / W, ih / H)
        ax = self.fig.add_axes(rect)
        ax.set_facecolor("white")
        self.draw_layers(ax, iext, iaspect, (iext[1] - iext[0]) / (iw * 25.4) * 0.12, inset=True)
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        for sp in ax.spines.values():
            sp.set_edgecolor("#333333")
            sp.set_linewidth(0.8 * self.s)
        ax.patch.set_visible(True)
        fs = 6 * self.s
        halo = 1.8 * self.s
        _halo_text(ax, self.t["hoang_sa"], (112.0, 15.45), halo, ha="center", va="top", fontsize=fs, zorder=9)
        _halo_text(ax, self.t["truong_sa"], (114.2, 12.2), halo, ha="center", va="bottom", fontsize=fs, zorder=9)
        _halo_text(
            ax, self.t["islands"], (0.04, 0.975), halo, xycoords="axes fraction", ha="left", va="top",
            fontsize=6.2 * self.s, fontweight="bold", zorder=9,
        )  # fmt: skip
        self.boxes["inset"] = rect
        self.inset_extent = iext

    def title(self):
        ch, t, lang, s = self.ch, self.t, self.lang, self.s
        units = t["units_2025"] if self.vintage == 2025 else t["units_2009"]
        title = ch.info.title(lang)
        sub = f"{t['area']}: {ch.area.title(lang)} · {t['year']} {ch.year} · {units}"
        method = C.LABELS[lang]["method"][ch.spec.method]
        sub2 = f"{t['classes']}: {method}, {ch.k_text(lang)} · {t['unit']}: {ch.info.unit(lang)}"
        y = self.lay.title_y
        self.fig.text(0.04 if self.lay.size[1] > self.lay.size[0] else 0.03, y, title, fontsize=17 * s, weight="bold")
        x = 0.04 if self.lay.size[1] > self.lay.size[0] else 0.03
        self.fig.text(x, y - 0.024 * (11.69 / self.lay.size[1]) * s, sub, fontsize=10 * s)
        self.fig.text(x, y - 0.042 * (11.69 / self.lay.size[1]) * s, sub2, fontsize=8 * s, color="#444444")
        self.texts.update(title=title, subtitle=sub, classes=sub2)

    def legend(self):
        x, y, w, h = self.lay.legend
        ch, lang, s = self.ch, self.lang, self.s
        rows = [e for e in ch.legend(lang) if e["class"] >= 0 or e["count"] > 0]
        fs = 7.5 * s
        H = self.lay.size[1]
        line = min(0.2 * s / H, h / (len(rows) + 2))
        top = y + h
        self.fig.text(x, top - line * 0.8, f"{ch.info.title(lang)} ({ch.info.unit(lang)})", fontsize=fs, weight="bold")
        self.texts["legend"] = []
        sw_w = 0.32 * s / self.lay.size[0]
        for i, e in enumerate(rows):
            ry = top - line * (i + 2)
            box = (x, ry, sw_w, line * 0.72)
            self.fig.patches.append(
                Rectangle(
                    box[:2],
                    box[2],
                    box[3],
                    transform=self.fig.transFigure,
                    facecolor=e["color"],
                    edgecolor="#555555",
                    linewidth=0.5,
                )
            )
            n = f"{e['count']} {self.t['communes']}"
            self.fig.text(x + sw_w + 0.012, ry + line * 0.12, e["label"], fontsize=fs)
            self.fig.text(x + w, ry + line * 0.12, n, fontsize=fs * 0.85, color="#666666", ha="right")
            self.swatches.append((e["class"], e["color"], box))
            self.texts["legend"].append(e["label"])
        self.boxes["legend"] = self.lay.legend

    def symbols(self):
        x, y, w, h = self.lay.symbols
        s, t = self.s, self.t
        H = self.lay.size[1]
        line = min(0.2 * s / H, h / 8)
        top = y + h
        fs = 7.5 * s
        self.fig.text(x, top - line * 0.8, t["legend"], fontsize=fs, weight="bold")
        sw_w = 0.32 * s / self.lay.size[0]
        items = [("line", BORDER_COLOR, t["border"]), ("edge", "#3a3a3a", t["province"])]
        items += [("gate", k, t["gates"][k]) for k in GATE_STYLE]
        items.append(("fill", PARTNER_FILL, t["partner"]))
        for i, (kind, what, label) in enumerate(items):
            ry = top - line * (i + 2)
            cy = ry + line * 0.36
            if kind == "line":
                self.fig.lines.append(
                    Line2D([x, x + sw_w], [cy, cy], transform=self.fig.transFigure, color="white", linewidth=2.6 * s)
                )
                self.fig.lines.append(
                    Line2D([x, x + sw_w], [cy, cy], transform=self.fig.transFigure, color=what, linewidth=1.6 * s)
                )
            elif kind == "edge":
                self.fig.lines.append(
                    Line2D([x, x + sw_w], [cy, cy], transform=self.fig.transFigure, color=what, linewidth=0.6 * s)
                )
            elif kind == "gate":
                color, marker, size = GATE_STYLE[what]
                self.fig.lines.append(
                    Line2D(
                        [x + sw_w / 2],
                        [cy],
                        transform=self.fig.transFigure,
                        marker=marker,
                        markersize=size * s,
                        markerfacecolor=color,
                        markeredgecolor="black",
                        markeredgewidth=0.6 * s,
                        linestyle="none",
                    )
                )
            else:
                self.fig.patches.append(
                    Rectangle(
                        (x, ry),
                        sw_w,
                        line * 0.72,
                        transform=self.fig.transFigure,
                        facecolor=what,
                        edgecolor=PARTNER_EDGE,
                        linewidth=0.5,
                    )
                )
            self.fig.text(x + sw_w + 0.012, ry + line * 0.12, label, fontsize=fs)
        self.boxes["symbols"] = self.lay.symbols

    def sources(self):
        ch, t, lang, s = self.ch, self.t, self.lang, self.s
        catalog = self.store.catalog
        seen, parts = set(), []
        for layer_id in self.drawn:
            try:
                layer = catalog.layer(layer_id)
            except (KeyError, NotFound, ValueError):
                continue
            src = layer.source
            if src is None or src.id in seen:
                continue
            seen.add(src.id)
            name = layer.en if lang == "en" else layer.vi
            parts.append(f"{name}: {src.attribution} ({t['licence']}: {src.licence})")
        store_version, _, stamp = ch.version.partition(":")
        if ch.info.source == "computed":
            ind = t["indicator_computed"].format(layer=ch.layer_id)
        else:
            ind = t["indicator_reported"].format(stamp=stamp or "—")
        info = self.store.build_info() or {}
        version = t["version"].format(version=ch.version, date=_fmt_date(info.get("built_at"), lang))
        text = f"{t['sources']}: " + "; ".join(parts) + f". {ind}."
        x, y, w, h = self.lay.sources
        fs = 5.6 * s
        chars = int(w * self.lay.size[0] * 72 / (fs * 0.56))
        lines = textwrap.wrap(text, chars, break_on_hyphens=False) + [
            version + " · " + t["made"].format(indicator=ch.spec.indicator)
        ]
        self.fig.text(x, y + h, "\n".join(lines), fontsize=fs, va="top", color="#333333", linespacing=1.3)
        self.fig.lines.append(
            Line2D([x, x + w], [y + h + 0.004, y + h + 0.004], transform=self.fig.transFigure, color="#999999", lw=0.5)
        )
        self.boxes["sources"] = self.lay.sources
        self.texts.update(sources=text, version=version, source_parts=parts)

    def draw(self) -> Figure:
        ax = self.map_axes()
        self.draw_layers(ax, self.extent, self.aspect, self.tol)
        for sp in ("left", "right", "top", "bottom"):
            ax.spines[sp].set_visible(True)
        ax.add_patch(
            Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="#333333", linewidth=0.8, zorder=20)
        )
        self.inset_extent = None
        self.inset()
        self.scale_bar(ax)
        self.north_arrow()
        self.title()
        self.legend()
        self.symbols()
        self.sources()
        return self.fig


def _halo_text(ax, s: str, xy, halo: float, *, xytext=(0, 0), zorder: float = 7, **kw) -> None:
    """A label on a white halo. The halo is a path (a stroke path effect turns text into paths);
    the label over it stays text, so the PDF's labels can be searched and copied."""
    common = dict(xytext=xytext, textcoords="offset points", **kw)
    ax.annotate(s, xy, path_effects=[Stroke(linewidth=halo, foreground="white")], zorder=zorder, **common)
    ax.annotate(s, xy, zorder=zorder + 0.01, **common)


def _district_vi() -> dict[str, str]:
    """Lao district name in the store -> its Vietnamese name (layers/partner_names.toml)."""
    import tomllib

    from geoborder.build.partner_names import PARTNER_NAMES_PATH

    with open(PARTNER_NAMES_PATH, "rb") as fh:
        doc = tomllib.load(fh)
    out = {}
    for e in doc.get("district", []):
        vi = next((a[0] for a in e.get("aliases", []) if len(a) > 1 and a[1] in ("vi", "facts")), None)
        if e.get("name") and vi:
            out[str(e["name"])] = vi
    return out


_SHEETS = LRU(16)
_LOCK = threading.Lock()  # matplotlib's font and text caches are shared: one sheet at a time


def file_name(ch: C.Choropleth, fmt: str, paper: str, orientation: str) -> str:
    return f"geoborder_{ch.spec.indicator}_{ch.spec.vintage}_{ch.spec.area}_{ch.year}_{paper}_{orientation}.{fmt}"


def render(
    store, ch: C.Choropleth, *, fmt: str = "pdf", paper: str = "A4", orientation: str = "portrait", lang: str = "vi"
) -> Sheet:
    """The map `ch` as a PDF or PNG sheet (see the module), cached per (data version, map, options)."""
    fmt, paper, orientation = check_options(fmt, paper, orientation)
    if lang not in TEXT:
        raise InvalidParameter(f"lang: vi or en, not {lang!r}")
    key = (id(store), ch.version, ch.spec, ch.year, fmt, paper, orientation, lang)
    return _SHEETS.get_or_make(key, lambda: _render(store, ch, fmt, paper, orientation, lang))


def _render(store, ch, fmt, paper, orientation, lang) -> Sheet:
    with _LOCK:
        d = _Drawing(store, ch, lang, paper, orientation)
        fig = d.draw()
        buf = io.BytesIO()
        if fmt == "pdf":
            FigureCanvasPdf(fig)
            title = f"{d.texts['title']} — {ch.area.title(lang)} ({ch.year})"
            fig.savefig(buf, format="pdf", metadata={"Title": title, "Creator": "geoborder", "CreationDate": None})
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
