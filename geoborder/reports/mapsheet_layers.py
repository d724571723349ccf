"""The map of a printed map sheet (geoborder.reports.mapsheet): the partner countries and their
units, Vietnam's provinces, the communes by class, the border line, the gates and the names."""

from __future__ import annotations

import numpy as np
import shapely
from matplotlib.patheffects import Stroke

from geoborder.build.partner_names import partner_vi_names
from geoborder.reports.charts import draw_map  # importing charts sets the Agg backend and the fonts
from geoborder.reports.mapsheet_layout import (
    BORDER_COLOR,
    GATE_STYLE,
    ISLANDS_LON,
    PARTNER_EDGE,
    PARTNER_FILL,
    VN_EDGE,
    _frame,
    _simplified,
)


def draw_layers(dr, ax, extent, aspect, tol, *, inset: bool = False):
    x0, x1, y0, y1 = extent
    box = shapely.box(x0 - (x1 - x0) * 0.05, y0 - (y1 - y0) * 0.05, x1 + (x1 - x0) * 0.05, y1 + (y1 - y0) * 0.05)
    s = dr.s
    fine = 0.5 if dr.national else 1.0
    # Vietnam's layers: the mainland on a map with an inset, the islands in the inset
    vn_box = box
    if inset:
        vn_box = shapely.box(ISLANDS_LON, y0, x1, y1)
    elif dr.islands is not None:
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
        if dr.national and layer_id in ("cn_counties", "lao_districts"):
            continue
        f = _frame(dr.store, layer_id)
        if layer_id == "countries" and f is not None and "iso3" in f:
            f = f[f["iso3"].astype(str) != "VNM"]
        f = _simplified(f, tol, box)
        if f is None or not len(f):
            continue
        fill = PARTNER_FILL if layer_id in ("countries", "china_provinces") else "none"
        f.plot(ax=ax, facecolor=fill, edgecolor=PARTNER_EDGE, linewidth=lw * s, zorder=1)
        dr._used(layer_id)
    # Vietnam's provinces under the classes (the area's surroundings in white)
    prov = _simplified(_frame(dr.store, f"provinces_{dr.vintage}"), tol, vn_box)
    if prov is not None and len(prov):
        prov.plot(ax=ax, facecolor="white", edgecolor=VN_EDGE, linewidth=0.3 * s, zorder=2)
        dr._used(f"provinces_{dr.vintage}")
    # the communes of the area, by class: the reports' commune drawing
    ch = dr.ch
    communes = dr.store.frame(ch.layer_id)
    sub = communes[ch.area.mask]
    sub = _simplified(sub, tol, vn_box)
    codes = sub["commune_code"].astype(str).tolist()
    rows = dict(zip(communes["commune_code"].astype(str), range(len(communes))))
    m = {"units": dr.vintage, "year": ch.year, "values": dict.fromkeys(codes)}
    classes = {c: int(ch.classes[rows[c]]) for c in codes}
    if len(sub):
        draw_map(ax, dr.store, m, classes, ch.classification, dr.lang, frame=sub, linewidth=0.12 * s * fine)
        for coll in ax.collections[-1:]:
            coll.set_zorder(3)
    ax.set_title("")
    dr._used(ch.layer_id)
    if inset and len(sub):  # the islands are specks at this scale: a dark outline shows them
        ax.collections[-1].set_linewidth(0.35 * s)
        ax.collections[-1].set_edgecolor("#333333")
    # province boundaries over the classes
    if prov is not None and len(prov) and not inset:
        edges = prov.copy()
        edges.plot(ax=ax, facecolor="none", edgecolor="#3a3a3a", linewidth=0.45 * s, zorder=4)
        if not dr.national and not inset:
            own = edges[edges["province_code"].astype(str) == str(ch.spec.area)]
            if len(own):
                own.plot(ax=ax, facecolor="none", edgecolor="#111111", linewidth=1.1 * s, zorder=4)
    # the border line, on a white casing so it stands out over any class
    bl = _simplified(_frame(dr.store, "border_lines"), tol / 2, box)
    if bl is not None and len(bl):
        bl.plot(ax=ax, color="white", linewidth=(2.6 if not dr.national else 1.9) * s, zorder=5)
        bl.plot(ax=ax, color=BORDER_COLOR, linewidth=(1.6 if not dr.national else 1.1) * s, zorder=6)
        dr._used("border_lines")
    if not inset:
        gates(dr, ax, box)
        labels(dr, ax, box, extent)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(aspect, adjustable="box")
    ax.set_axis_off()


def gates(dr, ax, box):
    g = _frame(dr.store, "gates")
    if g is None or not len(g):
        return
    g = g[g.geometry.notna() & ~g.geometry.is_empty]
    g = g[shapely.intersects(np.asarray(g.geometry.values, dtype=object), box)]
    if not len(g):
        return
    dr._used("gates")
    for cls, (color, marker, size) in GATE_STYLE.items():
        sel = g[g["gate_class"].astype(str) == cls]
        if len(sel):
            ax.scatter(
                shapely.get_x(sel.geometry.values),
                shapely.get_y(sel.geometry.values),
                s=(size * dr.s * (0.8 if dr.national else 1.0)) ** 2,
                marker=marker,
                c=color,
                edgecolors="black",
                linewidths=0.6 * dr.s,
                zorder=8,
            )
    if not dr.national:  # names of the international and main gates
        for _, r in g[g["gate_class"].astype(str).isin(["international", "main"])].iterrows():
            _halo_text(
                ax,
                str(r["name_vi"]),
                (r.geometry.x, r.geometry.y),
                2 * dr.s,
                xytext=(5, 3),
                fontsize=6 * dr.s,
                color="#08306b",
                zorder=9,
            )


def _label(dr, ax, geoms, names, extent, size: float, *, min_share: float, style: str = "italic", bold=False):
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
            1.8 * dr.s,
            ha="center",
            va="center",
            fontsize=size * dr.s,
            style=style,
            fontweight="bold" if bold else "normal",
            color="#4d4d4d",
            zorder=7,
            annotation_clip=True,
        )


def labels(dr, ax, box, extent):
    lang = dr.lang
    vi = lang == "vi"
    countries = _frame(dr.store, "countries")
    if dr.national and countries is not None:
        f = countries[countries["iso3"].astype(str) != "VNM"]
        _label(
            dr,
            ax,
            f.geometry.values,
            [dr.t["countries"].get(str(c), str(c)) for c in f["iso3"]],
            extent,
            9,
            min_share=0.002,
            bold=True,
        )
        china = _frame(dr.store, "china_provinces")
        if china is not None:
            _label(
                dr, ax, [shapely.union_all(china.geometry.values)], [dr.t["countries"]["CHN"]], extent, 9,
                min_share=0.002, bold=True,
            )  # fmt: skip
        return
    names = partner_vi_names("province") if vi else {}
    for layer_id, code_col, name_col in (
        ("lao_provinces", "iso_code", "name"),
        ("china_provinces", "code", "name_vi" if vi else "name_en"),
        ("khm_provinces", "iso_code", "name_vi" if vi else "name"),
    ):
        f = _frame(dr.store, layer_id)
        if f is None or not len(f):
            continue
        ns = [
            names.get(str(c)) or (str(n) if str(n) != "nan" else str(e))
            for c, n, e in zip(f[code_col], f[name_col], f["name"] if "name" in f else f[name_col])
        ]
        _label(dr, ax, f.geometry.values, ns, extent, 8, min_share=0.01)
    # the partner districts facing the area (border_segments), smaller
    seg = _frame(dr.store, f"border_segments_{dr.vintage}")
    dists = _frame(dr.store, "lao_districts")
    if seg is not None and dists is not None and "partner_district_name" in seg:
        facing = set(seg.loc[seg["province_code"].astype(str) == str(dr.ch.spec.area), "partner_district_name"])
        facing = {str(d) for d in facing if str(d) != "nan"}
        sel = dists[dists["name"].astype(str).isin(facing)]
        dnames = _district_vi() if vi else {}
        _label(
            dr, ax, sel.geometry.values, [dnames.get(str(n), str(n)) for n in sel["name"]], extent, 5.5, min_share=0.002
        )
    prov = _frame(dr.store, f"provinces_{dr.vintage}")
    if prov is not None:
        other = prov[prov["province_code"].astype(str) != str(dr.ch.spec.area)]
        _label(dr, ax, other.geometry.values, other["name"].astype(str).tolist(), extent, 6.5, min_share=0.01)


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
