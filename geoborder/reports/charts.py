"""The report's figures drawn with matplotlib (the Agg and PDF backends: no browser, no CDN; DejaVu
Sans, which ships with matplotlib, has every Vietnamese diacritic): the yearly series, the
communes by class and the maps of the first and last year, coloured by the classes and colours of
geoborder.maps (the web map's)."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # before any figure: the library draws off screen

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from geoborder.maps.classes import classify
from geoborder.maps.colours import NO_DATA_COLOR
from geoborder.reports.labels import headline, labels, num, title, unit

matplotlib.rcParams.update({"font.family": "DejaVu Sans", "pdf.fonttype": 42, "font.size": 8})
COLOR_2009 = "#7f7f7f"
COLOR_2025 = "#1f5fa8"
N_CLASSES = 5


def png(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def data_uri(b: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(b).decode("ascii")


def draw_series(ax, fig_data: dict, lang: str) -> None:
    L = labels(lang)
    rows = fig_data["series"]
    years = [s["year"] for s in rows]
    vals = [headline(fig_data, s) for s in rows]
    for s, v in zip(rows, vals):
        if v is None:
            ax.axvspan(s["year"] - 0.4, s["year"] + 0.4, color="#eeeeee", zorder=0)
    xs = [y for y, v in zip(years, vals) if v is not None]
    ys = [v for v in vals if v is not None]
    ax.plot(xs, ys, color="#444444", lw=1, zorder=1)
    colors = [COLOR_2025 if s["units"] == 2025 else COLOR_2009 for s, v in zip(rows, vals) if v is not None]
    ax.scatter(xs, ys, c=colors, s=22, zorder=2)
    for x, y in zip(xs, ys):
        ax.annotate(num(y, lang), (x, y), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=6)
    for s, v in zip(rows, vals):
        if v is None:
            ax.text(
                s["year"],
                0.02,
                L["no_data"],
                transform=ax.get_xaxis_transform(),
                rotation=90,
                fontsize=6,
                ha="center",
                va="bottom",
                color="#777777",
            )
    ax.set_xticks(years)
    ax.set_xticklabels([str(y) for y in years], fontsize=7)
    ax.set_title(f"{title(fig_data, lang)} ({unit(fig_data, lang)})", fontsize=9)
    ax.grid(axis="y", color="#dddddd", lw=0.5)
    ax.legend(
        handles=[Patch(color=COLOR_2009, label=L["units_2009"]), Patch(color=COLOR_2025, label=L["units_2025"])],
        fontsize=6,
        loc="best",
    )
    ax.set_ylim(bottom=0)


def series_png(fig_data: dict, lang: str) -> bytes:
    f = Figure(figsize=(7, 2.8))
    draw_series(f.add_subplot(), fig_data, lang)
    return png(f)


def map_classes(fig_data: dict):
    """One classification for both maps (the same colours mean the same values in each year), as
    geoborder.maps classifies: quantiles, its ColorBrewer colours; None when no map has a value."""
    maps = [m for m in (fig_data["maps"]["first"], fig_data["maps"]["last"]) if m]
    if not maps:
        return None, []
    vals = [np.array([np.nan if v is None else v for v in m["values"].values()], dtype=float) for m in maps]
    cls, yb = classify(np.concatenate(vals), "quantiles", N_CLASSES, higher_is_better=fig_data.get("higher_is_better"))
    out, i = [], 0
    for m, v in zip(maps, vals):
        out.append((m, dict(zip(m["values"], yb[i : i + len(v)]))))
        i += len(v)
    return cls, out


def draw_map(ax, store, m: dict, classes: dict, cls, lang: str, *, frame=None, linewidth: float = 0.3) -> None:
    """The communes of `m` coloured by class. `frame`: the commune layer to draw from (default the
    store's; the printed maps give it simplified to the paper's scale)."""
    frame = store.frame(f"communes_{m['units']}") if frame is None else frame
    sub = frame[frame["commune_code"].astype(str).isin(list(m["values"]))]
    colors = [
        cls.colors[classes[c]] if classes.get(c, -1) >= 0 else NO_DATA_COLOR for c in sub["commune_code"].astype(str)
    ]
    sub.plot(ax=ax, color=colors, edgecolor="#555555", linewidth=linewidth)
    ax.set_axis_off()
    ax.set_title(f"{m['year']} ({labels(lang)['units_2025' if m['units'] == 2025 else 'units_2009']})", fontsize=8)


def legend_handles(cls, fig_data: dict, lang: str):
    integer = fig_data["type"] == "count"
    handles, lower = [], cls.minimum
    for upper, color in zip(cls.bins, cls.colors):
        lo, hi = num(lower, lang, integer=integer), num(upper, lang, integer=integer)
        handles.append(Patch(facecolor=color, edgecolor="#555555", label=hi if lo == hi else f"{lo} – {hi}"))
        lower = upper
    handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#555555", label=labels(lang)["no_data"]))
    return handles


def draw_class_counts(ax, cls, maps, fig_data: dict, lang: str) -> None:
    n = len(cls.bins)
    width = 0.8 / max(1, len(maps))
    for j, (_m, classes) in enumerate(maps):
        counts = [sum(1 for k in classes.values() if k == i) for i in range(n)] + [
            sum(1 for k in classes.values() if k < 0)
        ]
        xs = np.arange(n + 1) + j * width
        ax.bar(
            xs,
            counts,
            width=width,
            color=[*cls.colors, NO_DATA_COLOR],
            edgecolor="#333333",
            lw=0.4,
            hatch="" if j == 0 else "//",
        )
        for x, c in zip(xs, counts):
            ax.text(x, c, str(c), ha="center", va="bottom", fontsize=6)
    ax.set_xticks(np.arange(n + 1) + width * (len(maps) - 1) / 2)
    ax.set_xticklabels([h.get_label() for h in legend_handles(cls, fig_data, lang)], fontsize=6, rotation=20)
    ax.set_title(labels(lang)["classes"] + " (" + ", ".join(str(m["year"]) for m, _ in maps) + ")", fontsize=8)


def maps_figure(store, fig_data: dict, lang: str, fig: Figure | None = None, rect=(0, 0, 1, 1)) -> Figure | None:
    cls, maps = map_classes(fig_data)
    if cls is None:
        return None
    fig = fig or Figure(figsize=(7.5, 5.2))
    x0, y0, w, h = rect
    for j, (m, classes) in enumerate(maps):
        ax = fig.add_axes((x0 + j * w / 2 + 0.01, y0 + h * 0.38, w / 2 - 0.02, h * 0.58))
        draw_map(ax, store, m, classes, cls, lang)
    fig.legend(
        handles=legend_handles(cls, fig_data, lang),
        loc="lower center",
        bbox_to_anchor=(x0 + w * 0.5, y0 + h * 0.30),
        ncol=6,
        fontsize=6,
        frameon=False,
    )
    ax = fig.add_axes((x0 + w * 0.1, y0 + h * 0.04, w * 0.8, h * 0.2))
    draw_class_counts(ax, cls, maps, fig_data, lang)
    return fig


def maps_png(store, fig_data: dict, lang: str) -> bytes | None:
    f = maps_figure(store, fig_data, lang)
    return png(f) if f is not None else None
