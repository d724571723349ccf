"""The words of a printed map sheet (geoborder.reports.mapsheet) in Vietnamese and English, and the
texts it draws: the title block and the sources line."""

from __future__ import annotations

import textwrap

from geoborder.core.errors import NotFound
from geoborder.maps import choropleth as C
from geoborder.maps.change import ChangeMap

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


def title(dr):
    ch, t, lang, s = dr.ch, dr.t, dr.lang, dr.s
    units = t["units_2025"] if dr.vintage == 2025 else t["units_2009"]
    title = ch.info.title(lang)
    years = f"{ch.base_year} → {ch.year}" if isinstance(ch, ChangeMap) else f"{t['year']} {ch.year}"
    sub = f"{t['area']}: {ch.area.title(lang)} · {years} · {units}"
    method = C.LABELS[lang]["method"][ch.spec.method]
    sub2 = f"{t['classes']}: {method}, {ch.k_text(lang)} · {t['unit']}: {ch.info.unit(lang)}"
    y = dr.lay.title_y
    fit = min(1.0, 52 * dr.lay.size[0] / 8.27 / max(len(title), 1))  # a long title (a change map's) in a smaller size
    dr.fig.text(0.04 if dr.lay.size[1] > dr.lay.size[0] else 0.03, y, title, fontsize=17 * s * fit, weight="bold")
    x = 0.04 if dr.lay.size[1] > dr.lay.size[0] else 0.03
    dr.fig.text(x, y - 0.024 * (11.69 / dr.lay.size[1]) * s, sub, fontsize=10 * s)
    dr.fig.text(x, y - 0.042 * (11.69 / dr.lay.size[1]) * s, sub2, fontsize=8 * s, color="#444444")
    dr.texts.update(title=title, subtitle=sub, classes=sub2)


def sources(dr):
    from matplotlib.lines import Line2D  # imported when a sheet is drawn (issue 18)

    ch, t, lang, s = dr.ch, dr.t, dr.lang, dr.s
    catalog = dr.store.catalog
    seen, parts = set(), []
    for layer_id in dr.drawn:
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
    info = dr.store.build_info() or {}
    version = t["version"].format(version=ch.version, date=_fmt_date(info.get("built_at"), lang))
    text = f"{t['sources']}: " + "; ".join(parts) + f". {ind}."
    x, y, w, h = dr.lay.sources
    fs = 5.6 * s
    chars = int(w * dr.lay.size[0] * 72 / (fs * 0.56))
    lines = textwrap.wrap(text, chars, break_on_hyphens=False) + [
        version + " · " + t["made"].format(indicator=ch.spec.indicator)
    ]
    dr.fig.text(x, y + h, "\n".join(lines), fontsize=fs, va="top", color="#333333", linespacing=1.3)
    dr.fig.lines.append(
        Line2D([x, x + w], [y + h + 0.004, y + h + 0.004], transform=dr.fig.transFigure, color="#999999", lw=0.5)
    )
    dr.boxes["sources"] = dr.lay.sources
    dr.texts.update(sources=text, version=version, source_parts=parts)
