"""Matching a record's row to what it is about: a gate (by id, by name with or without
diacritics, by its partner gate's name), a border marker (by number on a border), a Vietnamese
province and a partner province.

Each `match` returns (key, how, message, candidates): key None with how "ambiguous" or "unknown"
when the row cannot be placed, and a message for the report.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geoborder.core.text import fold, nfc, slug
from geoborder.records.cells import empty, text
from geoborder.records.vocabularies import BORDER_OF_COUNTRY, BORDERS

PARTNER_NAMES = Path(__file__).resolve().parents[2] / "layers" / "partner_names.toml"
_GATE_PREFIXES = ("cua khau quoc te ", "cua khau chinh ", "cua khau phu ", "cua khau ", "ck ", "loi mo ", "cho ")
_PAIR = re.compile(r"\s+[–—-]\s+|[–—]")


def all_gates(store) -> pd.DataFrame:
    """Every gate of the pack: the `gates` layer and the gates it could not place."""
    placed = store.frame("gates").drop(columns="geometry")
    try:
        unplaced = store.table("gates_unplaced")
    except Exception:  # a store without the table (small test stores)
        unplaced = placed.iloc[0:0]
    return pd.concat([placed, unplaced], ignore_index=True)


def all_markers(store) -> pd.DataFrame:
    placed = store.frame("markers").drop(columns="geometry").assign(placed=True)
    try:
        unplaced = store.table("markers_unplaced").assign(placed=False)
    except Exception:
        unplaced = placed.iloc[0:0]
    return pd.concat([placed, unplaced], ignore_index=True)


def _gate_key(name) -> str:
    k = fold(str(name))
    for p in _GATE_PREFIXES:
        if k.startswith(p) and len(k) > len(p):
            return k[len(p) :]
    return k


def _partner_keys(partner) -> set[str]:
    """'Hà Khẩu (Hekou 河口)' -> {'ha khau', 'hekou'}; 'Pả Sa / Ba Sa (Basa)' -> {'pa sa', 'ba sa', 'basa'}."""
    if empty(partner):
        return set()
    s = nfc(str(partner))
    parts = [*re.split(r"\s*/\s*", re.sub(r"\(.*?\)", "", s)), *re.findall(r"\((.*?)\)", s)]
    keys = {_gate_key(p) for p in parts}
    return {k for k in keys if k and k not in ("railway",)}


class GateMatcher:
    """A row's gate: its id, its Vietnamese name (with or without diacritics, with or without
    'Cửa khẩu'), or its partner gate's name; a pair 'Lóng Sập – Pa Háng' is both."""

    def __init__(self, store):
        g = all_gates(store)
        self.gates = g.set_index("gate_id", drop=False)
        self.by_name: dict[str, list[str]] = defaultdict(list)
        self.by_partner: dict[str, list[str]] = defaultdict(list)
        for r in g.itertuples(index=False):
            for k in {_gate_key(r.name_vi), _gate_key(r.name_ascii)}:
                self.by_name[k].append(r.gate_id)
            for k in _partner_keys(r.partner_gate):
                self.by_partner[k].append(r.gate_id)
        self.prov = {
            r.gate_id: {fold(str(r.vn_province)), fold(str(r.province_name_2025))} for r in g.itertuples(index=False)
        }

    def describe(self, gate_id: str) -> dict:
        r = self.gates.loc[gate_id]
        return {
            "gate_id": gate_id,
            "name": r["name_vi"],
            "partner_gate": r["partner_gate"],
            "province": r["vn_province"],
        }

    def match(self, gate, partner=None, province=None) -> tuple[str | None, str, str, list]:
        """how: id | name | partner | ambiguous | unknown."""
        if empty(gate):
            return None, "unknown", "no gate", []
        raw = text(gate)
        assert raw is not None  # not empty
        if raw in self.gates.index:
            return raw, "id", "", []
        if slug(raw) in self.gates.index and raw == slug(raw):
            return raw, "id", "", []
        name, pair_partner = raw, None
        parts = _PAIR.split(raw)
        if len(parts) == 2 and all(p.strip() for p in parts):
            name, pair_partner = parts[0].strip(), parts[1].strip()
        partners = _partner_keys(partner) | _partner_keys(pair_partner)
        key = _gate_key(name)
        how, cands = "name", list(dict.fromkeys(self.by_name.get(key, [])))
        if not cands and not partners and key in self.by_partner:
            how, cands = "partner", list(dict.fromkeys(self.by_partner[key]))
        if partners and len(cands) > 1:
            cands = [c for c in cands if partners & _partner_keys(self.gates.at[c, "partner_gate"])] or cands
        note = ""
        if not empty(province) and len(cands) > 1:
            pf = fold(str(province))
            inprov = [c for c in cands if pf in self.prov[c]]
            if inprov:
                cands = inprov
            else:
                note = f" (none in province {province!r})"
        if len(cands) == 1:
            return cands[0], how, "", []
        if len(cands) > 1:
            return (
                None,
                "ambiguous",
                f"{len(cands)} gates are named {raw!r}{note}: give the province, the partner gate or the gate id",
                [self.describe(c) for c in cands],
            )
        near = sorted({c for k, v in self.by_name.items() if key and (key in k or k in key) for c in v})[:6]
        return (
            None,
            "unknown",
            f"no gate of the pack is named {raw!r}" + (f" in {province}" if not empty(province) else ""),
            [self.describe(c) for c in near],
        )


def marker_number(cell) -> str | None:
    """A marker number as written, spaces removed: '261 (2)' -> '261(2)'."""
    s = text(cell)
    return re.sub(r"\s+", "", nfc(s)).upper() if s else None


class MarkerMatcher:
    """A row's marker: its number on a border (the border column, or the province's border).

    Markers of the pack (the `markers` layer and markers_unplaced) keep their id; any other
    number is a marker known only by its number, keyed the same way (slug of border and number).
    """

    def __init__(self, store):
        m = all_markers(store)
        self.markers = m
        self.by_number: dict[tuple[str, str | None], str] = {}
        for r in m.itertuples(index=False):
            for border in str(r.border).split("/"):
                self.by_number.setdefault((border, marker_number(r.marker)), r.marker_id)
        self.province_borders: dict[str, set[str]] = defaultdict(set)
        for layer in ("border_segments_2025", "border_segments_2009"):
            try:
                seg = store.frame(layer)
            except Exception:
                continue
            for prov, iso3 in zip(seg["province_name"], seg["partner_iso3"]):
                if iso3 in BORDER_OF_COUNTRY:
                    self.province_borders[fold(str(prov))].add(BORDER_OF_COUNTRY[iso3])

    def border(self, border, province) -> tuple[str | None, str | None]:
        """(border VN-LA | VN-CN | VN-KH, error)."""
        if not empty(border):
            got = BORDERS.get(fold(str(border)))
            if got is None:
                return None, f"{text(border)!r} is not a border (VN-LA, VN-CN, VN-KH)"
            return got, None
        if empty(province):
            return None, "no border and no province: give one (VN-LA, or the province)"
        found = self.province_borders.get(fold(str(province)))
        if not found:
            return None, f"{text(province)!r} is not a border province"
        if len(found) > 1:
            return None, f"{text(province)} borders {' and '.join(sorted(found))}: give the border"
        return next(iter(found)), None

    def match(self, number, obj: str, border: str) -> tuple[str, str]:
        """(marker key, how: marker (of the pack) | number (known only by its number))."""
        n = marker_number(number)
        if obj == "marker" and (border, n) in self.by_number:
            return self.by_number[(border, n)], "marker"
        return slug(f"{border} {'coc ' if obj == 'stake' else ''}{n}"), "number"


@lru_cache(maxsize=2)
def _partner_aliases(path: Path = PARTNER_NAMES) -> dict[str, list[str]]:
    with open(path, "rb") as fh:
        names = tomllib.load(fh)
    out: dict[str, list[str]] = {}
    for e in names.get("province", []):
        out[e["code"]] = [a[0] for a in e.get("aliases", [])]
    return out


def _country_of(code: str) -> str | None:
    return (
        "LAO"
        if code.startswith("LA-")
        else "CHN"
        if code.startswith("CN")
        else "KHM"
        if code.startswith("KH")
        else None
    )


def _key(name) -> str:
    return fold(str(name)).replace(" ", "")


class ProvinceMatcher:
    """Vietnamese provinces (2025 units) and partner provinces (the store's Lao and Chinese
    provinces with the spellings of layers/partner_names.toml, Cambodian ones from that file)."""

    def __init__(self, store):
        p = store.frame("provinces_2025")
        self.vn = {fold(n): (c, n) for c, n in zip(p["province_code"], p["name"])}
        self.partner: dict[str, set[str]] = defaultdict(set)
        self.partner_name: dict[str, str] = {}
        for layer, code_col, name_col in (
            ("lao_provinces", "iso_code", "name"),
            ("china_provinces", "code", "name_en"),
        ):
            try:
                f = store.frame(layer)
            except Exception:
                continue
            for code, name in zip(f[code_col], f[name_col]):
                self.partner[_key(name)].add(code)
                self.partner[_key(code)].add(code)
                self.partner_name[code] = name
        for code, aliases in _partner_aliases().items():
            self.partner_name.setdefault(code, aliases[0] if aliases else code)
            self.partner[_key(code)].add(code)
            for a in aliases:
                self.partner[_key(a)].add(code)

    def vn_province(self, cell) -> tuple[tuple[str, str] | None, str | None]:
        if empty(cell):
            return None, "no Vietnamese province"
        got = self.vn.get(fold(str(cell)))
        if got is None:
            return None, f"no 2025 province is named {text(cell)!r}"
        return got, None

    def partner_province(self, cell, country=None) -> tuple[tuple[str, str, str] | None, str, str]:
        """((code, name, country), how name | ambiguous | unknown, message)."""
        if empty(cell):
            return None, "unknown", "no partner province"
        codes = set(self.partner.get(_key(cell), set()))
        if not empty(country) and len(codes) > 1:
            iso3 = {v: k for k, v in BORDER_OF_COUNTRY.items()}.get(BORDERS.get(fold(str(country)), ""))
            codes = {c for c in codes if _country_of(c) == iso3} or codes
        if len(codes) == 1:
            code = codes.pop()
            return (code, self.partner_name.get(code, code), _country_of(code) or ""), "name", ""
        if len(codes) > 1:
            return None, "ambiguous", f"{text(cell)!r} names {len(codes)} partner provinces: {', '.join(sorted(codes))}"
        return (
            None,
            "unknown",
            f"no partner province is named {text(cell)!r} (layers/partner_names.toml lists the spellings)",
        )
