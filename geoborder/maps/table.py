"""The figures of a map as rows: one per commune of the map's area, with the value, class, rank
and the border figures the popup shows. The GeoJSON download (geoborder.maps.lookup), the CSV
and XLSX downloads and the page's table all read these rows, so they say the same thing."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import shapely

from geoborder.core.text import fold
from geoborder.maps.change import ChangeMap, fmt_change
from geoborder.maps.choropleth import Choropleth
from geoborder.maps.classes import fmt_number

ATTRS = ("commune_code", "name", "unit_type", "district_code", "district_name", "province_code", "province_name")

# column headings of the CSV / XLSX and the page's table, in the page's language
HEADINGS = {
    "vi": {
        "commune_code": "Mã xã",
        "name": "Tên",
        "unit_type": "Loại",
        "district_code": "Mã huyện",
        "district_name": "Huyện",
        "province_code": "Mã tỉnh",
        "province_name": "Tỉnh",
        "indicator": "Chỉ tiêu",
        "value": "Giá trị",
        "unit": "Đơn vị tính",
        "year": "Năm",
        "vintage": "Địa giới",
        "rank": "Thứ hạng",
        "class": "Lớp",
        "class_label": "Khoảng của lớp",
        "color": "Màu",
        "border_length_km": "Chiều dài biên giới (km)",
        "partner_units": "Giáp với",
    },
    "en": {
        "commune_code": "Commune code",
        "name": "Name",
        "unit_type": "Type",
        "district_code": "District code",
        "district_name": "District",
        "province_code": "Province code",
        "province_name": "Province",
        "indicator": "Indicator",
        "value": "Value",
        "unit": "Unit",
        "year": "Year",
        "vintage": "Units",
        "rank": "Rank",
        "class": "Class",
        "class_label": "Class range",
        "color": "Colour",
        "border_length_km": "Border length (km)",
        "partner_units": "Faces",
    },
}


def ranks(values: np.ndarray) -> np.ndarray:
    """1 = the highest value; ties share the best rank (competition ranking); NaN -> 0 (no rank)."""
    out = np.zeros(len(values), dtype=np.int64)
    ok = np.isfinite(values)
    v = values[ok]
    # rank = 1 + how many values are strictly higher
    srt = np.sort(v)
    out[ok] = 1 + (len(v) - np.searchsorted(srt, v, side="right"))
    return out


def _border(store, ch: Choropleth) -> dict[str, tuple[float, str | None]]:
    border = store.frame(f"border_communes_{ch.spec.vintage}")
    units = border["partner_units"] if "partner_units" in border.columns else [None] * len(border)
    return {
        str(c): (float(km), None if u is None or (isinstance(u, float) and math.isnan(u)) else str(u))
        for c, km, u in zip(border["commune_code"].astype(str), border["border_length_km"], units)
    }


def rows(store, ch: Choropleth, lang: str = "vi") -> list[dict]:
    """One dict per commune of the map's area (store order): the download's properties."""
    communes = store.frame(ch.layer_id)
    idx = np.flatnonzero(ch.area.mask)
    legend_ = ch.legend(lang)
    keep = [c for c in ATTRS if c in communes.columns]
    sub = communes[keep].iloc[idx]
    attrs = sub.astype(object).where(sub.notna(), None).to_dict("records")
    rk = ranks(ch.values[idx])
    border = _border(store, ch)
    cm = ch if isinstance(ch, ChangeMap) else None
    out = []
    for rec, r, rank in zip(attrs, idx, rk):
        v = ch.values[r]
        cls = int(ch.classes[r])
        km, faces = border.get(str(rec["commune_code"]), (None, None))
        props = dict(rec)
        props.update(
            {
                "indicator": ch.spec.indicator,
                "value": float(v) if math.isfinite(v) else None,
                "unit": ch.info.unit(lang),
                "year": ch.year,
                "vintage": ch.spec.vintage,
                "rank": int(rank) if rank else None,
                "class": cls if cls >= 0 else None,
                "class_label": legend_[cls]["label"],
                "color": ch.color_of(cls),
                "border_length_km": km,
                "partner_units": faces,
            }
        )
        if cm is not None:  # a change map: both years' values beside the change (`value`)
            b, t = cm.base_values[r], cm.to_values[r]
            props["from_year"] = cm.base_year
            props["value_from"] = float(b) if math.isfinite(b) else None
            props["value_to"] = float(t) if math.isfinite(t) else None
            props["measure"] = cm.measure
        out.append(props)
    return out


def value_text(ch: Choropleth, v: float | None, lang: str) -> str:
    """A value as the popup writes it (a change with its sign)."""
    v = float("nan") if v is None else v
    if isinstance(ch, ChangeMap):
        return fmt_change(v, lang, integer=ch.info.integer)
    return fmt_number(v, lang, integer=ch.info.integer)


def _change_texts(ch: Choropleth, props: dict, lang: str) -> dict:
    """A change map's table also shows both years' values."""
    if not isinstance(ch, ChangeMap) or ch.source_info is None:
        return {}
    integer = ch.source_info.integer
    nan = float("nan")
    return {
        "value_from": props["value_from"],
        "value_to": props["value_to"],
        "value_from_text": fmt_number(
            nan if props["value_from"] is None else props["value_from"], lang, integer=integer
        ),
        "value_to_text": fmt_number(nan if props["value_to"] is None else props["value_to"], lang, integer=integer),
    }


def page_rows(store, ch: Choropleth, lang: str = "vi") -> dict:
    """The page's table and commune search: the rows, the value as the popup writes it, a key
    without diacritics ("muong leo") and where to zoom (bbox, a point inside)."""
    communes = store.frame(ch.layer_id)
    idx = np.flatnonzero(ch.area.mask)
    geoms = np.asarray(communes.geometry.values[idx], dtype=object)
    boxes = shapely.bounds(geoms)
    pts = shapely.point_on_surface(geoms)
    out = []
    for props, box, pt in zip(rows(store, ch, lang), boxes, pts):
        v = props["value"]
        out.append(
            {
                "code": props["commune_code"],
                "name": props["name"],
                "title": f"{props.get('unit_type') or ''} {props['name']}".strip(),
                "district": props.get("district_name"),
                "province": props["province_name"],
                "value": v,
                "value_text": value_text(ch, v, lang),
                **_change_texts(ch, props, lang),
                "rank": props["rank"],
                "class": props["class"],
                "class_label": props["class_label"],
                "color": props["color"],
                "border_km": props["border_length_km"],
                "border_text": None
                if props["border_length_km"] is None
                else fmt_number(props["border_length_km"], lang),
                "faces": props["partner_units"],
                "key": fold(props["name"]),
                "bbox": [round(float(b), 5) for b in box],
                "point": [round(float(pt.x), 5), round(float(pt.y), 5)],
            }
        )
    return {
        "indicator": ch.spec.indicator,
        "title": ch.info.title(lang),
        "unit": ch.info.unit(lang),
        "year": ch.year,
        **({"from": ch.base_year, "measure": ch.measure} if isinstance(ch, ChangeMap) else {}),
        "headings": HEADINGS["en" if lang == "en" else "vi"],
        "rows": out,
    }


def csv_bytes(store, ch: Choropleth, lang: str = "vi") -> bytes:
    """The download's rows as CSV: UTF-8 with a BOM (Excel then reads the Vietnamese names right),
    one header line of the property names, values unformatted (a dot for decimals)."""
    data = rows(store, ch, lang)
    buf = io.StringIO()
    cols = list(data[0]) if data else [*ATTRS, "indicator", "value", "unit", "year", "vintage", "rank", "class"]
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\r\n")
    w.writeheader()
    for r in data:
        w.writerow({k: "" if v is None else v for k, v in r.items()})
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


def xlsx_bytes(store, ch: Choropleth, lang: str = "vi") -> bytes:
    """The download's rows as an XLSX workbook: a sheet of the rows (property names as the first
    row, numbers as numbers) and a sheet saying which map they are (title, year, units, area, legend)."""
    from openpyxl import Workbook

    data = rows(store, ch, lang)
    wb = Workbook()
    ws = wb.active
    ws.title = "data" if lang == "en" else "so_lieu"
    cols = list(data[0]) if data else list(ATTRS)
    ws.append(cols)
    for r in data:
        ws.append([r.get(c) for c in cols])
    ws.freeze_panes = "A2"
    h = HEADINGS["en" if lang == "en" else "vi"]
    about = wb.create_sheet("map" if lang == "en" else "ban_do")
    about.append([h["indicator"], ch.info.title(lang)])
    about.append([h["unit"], ch.info.unit(lang)])
    about.append([h["year"], ch.year])
    about.append([h["vintage"], ch.spec.vintage])
    about.append(["area" if lang == "en" else "vùng", ch.area.title(lang)])
    about.append(["classes" if lang == "en" else "phân lớp", f"{ch.spec.method}, {ch.k_text(lang)}"])
    about.append(["data version" if lang == "en" else "phiên bản dữ liệu", ch.version])
    about.append([])
    about.append([h["class"], h["class_label"], h["color"], "n"])
    for e in ch.legend(lang):
        about.append([e["class"], e["label"], e["color"], e["count"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
