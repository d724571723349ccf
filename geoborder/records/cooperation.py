"""Cooperation: relations between a Vietnamese province and partner provinces (type, date
signed, document, source), and the question "which partner provinces does P cooperate with, and
which of them share its border?" (the border from the store's border_segments_2025)."""

from __future__ import annotations

import pandas as pd

from geoborder.core.errors import InvalidParameter
from geoborder.records.db import current_rows
from geoborder.records.matching import ProvinceMatcher


def _clean(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def relations(db, *, province_code: str | None = None, partner_country: str | None = None) -> list[dict]:
    df = current_rows("cooperation", db.rows("cooperation"))
    if province_code:
        df = df[df["vn_province_code"] == province_code]
    if partner_country:
        df = df[df["partner_country"] == partner_country]
    cols = [
        "vn_province_code",
        "vn_province",
        "partner_code",
        "partner_name",
        "partner_country",
        "type",
        "date_signed",
        "document",
        "source",
        "import_id",
        "line",
    ]
    out = []
    for _, r in df.sort_values(["vn_province_code", "partner_code", "date_signed"]).iterrows():
        d = {c: _clean(r[c]) for c in cols}
        d["import_id"], d["line"] = int(d["import_id"]), int(d["line"])
        out.append(d)
    return out


def border_partners(store, province_code: str) -> dict[str, float]:
    """{partner unit code: border length km} of one 2025 province (border_segments_2025)."""
    seg = store.frame("border_segments_2025")
    seg = seg[seg["province_code"] == province_code]
    return {str(k): round(float(v), 3) for k, v in seg.groupby("partner_unit_code")["length_km"].sum().items()}


def cooperation(store, db, province: str, *, partner_country: str | None = None) -> dict:
    """The partner provinces `province` has relations with, each with `shares_border` (and the
    border length), and the bordering partner provinces it has none with."""
    m = ProvinceMatcher(store)
    got, err = m.vn_province(province)
    if err:
        raise InvalidParameter(f"province: {err}")
    assert got is not None  # no error
    code, name = got
    iso3 = None
    if partner_country:
        iso3 = str(partner_country).upper()
        if iso3 not in ("LAO", "CHN", "KHM"):
            raise InvalidParameter(f"partner_country: {partner_country!r} is not LAO, CHN or KHM")
    rels = relations(db, province_code=code, partner_country=iso3)
    border = border_partners(store, code)
    partners: dict[str, dict] = {}
    for r in rels:
        p = partners.setdefault(
            r["partner_code"],
            {
                "code": r["partner_code"],
                "name": r["partner_name"],
                "country": r["partner_country"],
                "shares_border": r["partner_code"] in border,
                "border_km": border.get(r["partner_code"]),
                "relations": [],
            },
        )
        p["relations"].append({k: r[k] for k in ("type", "date_signed", "document", "source", "import_id", "line")})
    bordering = [
        {"code": c, "name": m.partner_name.get(c, c), "border_km": km}
        for c, km in sorted(border.items())
        if c not in partners and (iso3 is None or c.startswith({"LAO": "LA-", "CHN": "CN", "KHM": "KH"}[iso3]))
    ]
    listed = sorted(partners.values(), key=lambda p: (not p["shares_border"], p["code"]))
    return {
        "province": {"code": code, "name": name},
        "partner_country": iso3,
        "count": len(listed),
        "sharing_border": sum(1 for p in listed if p["shares_border"]),
        "partners": listed,
        "bordering_without_relations": bordering,
    }
