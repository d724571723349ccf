"""The furniture of a printed map sheet (geoborder.reports.mapsheet): the north arrow, the scale
bar, the inset of Hoàng Sa and Trường Sa, the legend of the classes and the legend of the symbols."""

from __future__ import annotations

import math

from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle

from geoborder.maps.change import ChangeMap
from geoborder.reports.mapsheet_layers import _halo_text, draw_layers
from geoborder.reports.mapsheet_layout import (
    BORDER_COLOR,
    GATE_STYLE,
    NORTH_COLOR,
    PARTNER_EDGE,
    PARTNER_FILL,
    _nice_km,
    extents,
)
from geoborder.reports.mapsheet_text import _num


def north_arrow(dr):
    x, y, w, h = dr.lay.map
    W, H = dr.lay.size
    bw = 0.42 * dr.s / W
    bh = 0.62 * dr.s / H
    rect = (x + w - bw - 0.012, y + h - bh - 0.012, bw, bh)
    ax = dr.fig.add_axes(rect)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    ax.add_patch(Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="none", alpha=0.85))
    top, base, notch = (0.5, 0.95), 0.3, (0.5, 0.42)
    ax.add_patch(Polygon([top, (0.18, base), notch], closed=True, facecolor=NORTH_COLOR, edgecolor=NORTH_COLOR))
    ax.add_patch(
        Polygon([top, (0.82, base), notch], closed=True, facecolor="white", edgecolor=NORTH_COLOR, linewidth=0.8)
    )
    ax.text(0.5, 0.12, dr.t["north"], ha="center", va="center", fontsize=10 * dr.s, fontweight="bold")
    dr.boxes["north_arrow"] = rect


def scale_bar(dr, ax):
    x0, x1, y0, y1 = dr.extent
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
    fs = 6.5 * dr.s
    for v, xf in ((0, 0.0), (km / 2, 0.5), (km, 1.0)):
        lab = _num(v, dr.lang) + (" km" if xf == 1.0 else "")
        ax.text(bx + frac * xf, by + 0.018, lab, transform=ax.transAxes, ha="center", fontsize=fs, zorder=12)
    note = dr.t["scale_note"].format(lat=_num(round(lat, 1), dr.lang))
    ax.text(bx, by - 0.016, note, transform=ax.transAxes, fontsize=5 * dr.s, color="#555555", zorder=12)
    X, Y, W_, H_ = dr.lay.map
    dr.boxes["scale_bar"] = (X + (bx - 0.015) * W_, Y + (by - 0.028) * H_, (frac + 0.09) * W_, 0.085 * H_)
    dr.texts["scale"] = f"{_num(km, dr.lang)} km"


def inset(dr):
    if dr.islands is None:
        return
    X, Y, W_, H_ = dr.lay.map
    W, H = dr.lay.size
    x0, x1, y0, y1 = dr.extent
    ix0, ix1, iy0, iy1 = dr.islands
    pad = 0.6
    iext = (ix0 - pad, ix1 + pad, iy0 - pad, iy1 + pad * 3)  # room for the title at the top
    iaspect = 1.0 / math.cos(math.radians((iext[2] + iext[3]) / 2))
    ratio = (iext[1] - iext[0]) / (iaspect * (iext[3] - iext[2]))  # width / height on paper
    # east of the mainland, at the bottom right of the map
    main_east = (extents(dr)[0][1] + 0.35 - x0) / (x1 - x0)  # axes fraction
    avail_w = max(0.2, 0.985 - main_east) * W_ * W
    iw = min(avail_w, 0.4 * W_ * W)
    ih = iw / ratio
    if ih > 0.46 * H_ * H:
        ih = 0.46 * H_ * H
        iw = ih * ratio
    rect = (X + W_ - iw / W - 0.006, Y + 0.006, iw / W, ih / H)
    ax = dr.fig.add_axes(rect)
    ax.set_facecolor("white")
    draw_layers(dr, ax, iext, iaspect, (iext[1] - iext[0]) / (iw * 25.4) * 0.12, inset=True)
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for sp in ax.spines.values():
        sp.set_edgecolor("#333333")
        sp.set_linewidth(0.8 * dr.s)
    ax.patch.set_visible(True)
    fs = 6 * dr.s
    halo = 1.8 * dr.s
    _halo_text(ax, dr.t["hoang_sa"], (112.0, 15.45), halo, ha="center", va="top", fontsize=fs, zorder=9)
    _halo_text(ax, dr.t["truong_sa"], (114.2, 12.2), halo, ha="center", va="bottom", fontsize=fs, zorder=9)
    _halo_text(
        ax, dr.t["islands"], (0.04, 0.975), halo, xycoords="axes fraction", ha="left", va="top",
        fontsize=6.2 * dr.s, fontweight="bold", zorder=9,
    )  # fmt: skip
    dr.boxes["inset"] = rect
    dr.inset_extent = iext


def legend(dr):
    x, y, w, h = dr.lay.legend
    ch, lang, s = dr.ch, dr.lang, dr.s
    rows = [e for e in ch.legend(lang) if e["class"] >= 0 or e["count"] > 0]
    fs = 7.5 * s
    H = dr.lay.size[1]
    line = min(0.2 * s / H, h / (len(rows) + 2))
    top = y + h
    heading = ch.short_title(lang) if isinstance(ch, ChangeMap) else ch.info.title(lang)
    dr.fig.text(x, top - line * 0.8, f"{heading} ({ch.info.unit(lang)})", fontsize=fs, weight="bold")
    dr.texts["legend"] = []
    sw_w = 0.32 * s / dr.lay.size[0]
    for i, e in enumerate(rows):
        ry = top - line * (i + 2)
        box = (x, ry, sw_w, line * 0.72)
        dr.fig.patches.append(
            Rectangle(
                box[:2],
                box[2],
                box[3],
                transform=dr.fig.transFigure,
                facecolor=e["color"],
                edgecolor="#555555",
                linewidth=0.5,
            )
        )
        n = f"{e['count']} {dr.t['communes']}"
        dr.fig.text(x + sw_w + 0.012, ry + line * 0.12, e["label"], fontsize=fs)
        dr.fig.text(x + w, ry + line * 0.12, n, fontsize=fs * 0.85, color="#666666", ha="right")
        dr.swatches.append((e["class"], e["color"], box))
        dr.texts["legend"].append(e["label"])
    dr.boxes["legend"] = dr.lay.legend


def symbols(dr):
    x, y, w, h = dr.lay.symbols
    s, t = dr.s, dr.t
    H = dr.lay.size[1]
    line = min(0.2 * s / H, h / 8)
    top = y + h
    fs = 7.5 * s
    dr.fig.text(x, top - line * 0.8, t["legend"], fontsize=fs, weight="bold")
    sw_w = 0.32 * s / dr.lay.size[0]
    items = [("line", BORDER_COLOR, t["border"]), ("edge", "#3a3a3a", t["province"])]
    items += [("gate", k, t["gates"][k]) for k in GATE_STYLE]
    items.append(("fill", PARTNER_FILL, t["partner"]))
    for i, (kind, what, label) in enumerate(items):
        ry = top - line * (i + 2)
        cy = ry + line * 0.36
        if kind == "line":
            dr.fig.lines.append(
                Line2D([x, x + sw_w], [cy, cy], transform=dr.fig.transFigure, color="white", linewidth=2.6 * s)
            )
            dr.fig.lines.append(
                Line2D([x, x + sw_w], [cy, cy], transform=dr.fig.transFigure, color=what, linewidth=1.6 * s)
            )
        elif kind == "edge":
            dr.fig.lines.append(
                Line2D([x, x + sw_w], [cy, cy], transform=dr.fig.transFigure, color=what, linewidth=0.6 * s)
            )
        elif kind == "gate":
            color, marker, size = GATE_STYLE[what]
            dr.fig.lines.append(
                Line2D(
                    [x + sw_w / 2],
                    [cy],
                    transform=dr.fig.transFigure,
                    marker=marker,
                    markersize=size * s,
                    markerfacecolor=color,
                    markeredgecolor="black",
                    markeredgewidth=0.6 * s,
                    linestyle="none",
                )
            )
        else:
            dr.fig.patches.append(
                Rectangle(
                    (x, ry),
                    sw_w,
                    line * 0.72,
                    transform=dr.fig.transFigure,
                    facecolor=what,
                    edgecolor=PARTNER_EDGE,
                    linewidth=0.5,
                )
            )
        dr.fig.text(x + sw_w + 0.012, ry + line * 0.12, label, fontsize=fs)
    dr.boxes["symbols"] = dr.lay.symbols
