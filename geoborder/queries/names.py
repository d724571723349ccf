"""Unit resolution: partner countries / provinces / Lao districts and Vietnamese provinces /
pre-2025 districts by code or any known name (aliases from layers/partner_names.toml), with the
closest known names suggested when nothing matches."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import NoReturn

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.core.text import fold, nfc, slug
from geoborder.queries._common import _metric, _nonempty, _vintage

PARTNER_NAMES_PATH = Path(__file__).resolve().parents[2] / "layers" / "partner_names.toml"


@dataclass(frozen=True)
class Unit:
    """A unit a question is about: a partner country / province / district, or a VN unit."""

    kind: str  # country | partner_province | partner_district | province | district
    code: str
    name: str
    country: str = "VNM"  # ISO3
    vintage: int | None = None  # VN units only
    parent_code: str | None = None
    parent_name: str | None = None
    name_vi: str | None = None

    @property
    def is_partner(self) -> bool:
        return self.country != "VNM"

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _key(s) -> str:
    return fold(nfc(str(s))).replace(" ", "") if s is not None else ""


_CODE_RE = re.compile(r"\d+|[A-Za-z]{2}[-.][A-Za-z0-9]{2,3}|\d+B\d+")


def looks_like_code(s: str) -> bool:
    return bool(_CODE_RE.fullmatch(s.strip()))


@lru_cache(maxsize=4)
def load_partner_names(path: Path = PARTNER_NAMES_PATH) -> dict:
    """layers/partner_names.toml, parsed once."""
    with open(path, "rb") as fh:
        return tomllib.load(fh)


class _Index:
    """Names and codes -> units, with the display names used for suggestions."""

    def __init__(self):
        self.by_code: dict[str, Unit] = {}
        self.by_key: dict[str, list[Unit]] = {}
        self.display: dict[str, str] = {}

    def add(self, unit: Unit, *names, codes=()):
        for c in (unit.code, *codes):
            if c:
                self.by_code[str(c).upper()] = unit
                self.by_code[str(c).upper().replace("-", ".")] = unit
        for n in names:
            k = _key(n)
            if not k:
                continue
            lst = self.by_key.setdefault(k, [])
            if unit not in lst:
                lst.append(unit)
            self.display.setdefault(k, nfc(str(n)))


_RANK = {"country": 0, "partner_province": 1, "partner_district": 2, "province": 0, "district": 1}


def _partner_index(store) -> _Index:
    m = _metric(store)

    def make():
        idx = _Index()
        names = load_partner_names()
        extra: dict[tuple[str, str], list[str]] = {}
        for kind in ("country", "province"):
            for e in names.get(kind, []):
                extra.setdefault((kind, e["code"]), []).extend(a[0] for a in e.get("aliases", []))
        c = store.frame("countries")
        for _, r in c.iterrows():
            iso3 = r.get("iso3")
            if not iso3 or iso3 == "VNM":
                continue
            u = Unit("country", iso3, r["name_en"], country=iso3, name_vi=r.get("name_vi"))
            idx.add(u, r["name_en"], r.get("name_vi"), iso3, *extra.get(("country", iso3), []), codes=(r["code"],))
        # partner countries without a polygon in the store (China): from the alias table
        for e in names.get("country", []):
            if e["code"] not in idx.by_code:
                al = e.get("aliases", [])
                vi = next((a[0] for a in al if a[1] == "vi"), None)
                u = Unit("country", e["code"], al[0][0] if al else e["code"], country=e["code"], name_vi=vi)
                idx.add(u, *(a[0] for a in al))
        for _, r in store.frame("china_provinces").iterrows():
            u = Unit("partner_province", r["code"], r["name_en"], country="CHN", name_vi=r.get("name_vi"))
            idx.add(u, r["name_en"], r.get("name_vi"), *extra.get(("province", r["code"]), []))
        for _, r in store.frame("lao_provinces").iterrows():
            u = Unit("partner_province", r["iso_code"], r["name"], country="LAO")
            idx.add(u, r["name"], *extra.get(("province", r["iso_code"]), []))
        dextra: dict[tuple[str, str], list[str]] = {}
        for e in names.get("district", []):
            dextra.setdefault((_key(e["name"]), e["province"]), []).extend(a[0] for a in e.get("aliases", []))
        for _, r in store.frame("lao_districts").iterrows():
            u = Unit(
                "partner_district",
                r["shape_id"],
                r["name"],
                country="LAO",
                parent_code=r["province_iso"],
                parent_name=r.get("province_name"),
            )
            idx.add(u, r["name"], *dextra.get((_key(r["name"]), r["province_iso"]), []))
        _add_optional_partners(store, idx, extra)
        return idx

    return m.memo(("partner_index",), make)


def _add_optional_partners(store, idx: _Index, extra: dict) -> None:
    """Cambodian provinces (partner provinces of KHM) and the Chinese counties along the border
    (the district-level partner units below Yunnan and Guangxi, as Lao districts below Lao
    provinces), when the store holds them: optional layers, a pack may lack them."""
    present = {i.id for i in store.layers()}
    if "khm_provinces" in present:
        for _, r in store.frame("khm_provinces").iterrows():
            vi = r.get("name_vi") if isinstance(r.get("name_vi"), str) else None
            u = Unit("partner_province", r["iso_code"], r["name"], country="KHM", name_vi=vi)
            idx.add(u, r["name"], vi, *extra.get(("province", r["iso_code"]), []))
    if "cn_counties" in present:
        for _, r in store.frame("cn_counties").iterrows():
            vi = r.get("name_vi") if isinstance(r.get("name_vi"), str) else None
            en = r.get("name_en") if isinstance(r.get("name_en"), str) else None
            u = Unit(
                "partner_district",
                r["adcode"],
                r["name"],
                country="CHN",
                parent_code=r["province_code"],
                parent_name=r.get("province_name"),
                name_vi=vi,
            )
            idx.add(u, r["name"], en, vi)  # names are matched folded to ASCII: Chinese ones cannot be


def _vn_index(store, vintage: int) -> _Index:
    m = _metric(store)

    def make():
        idx = _Index()
        prov = store.frame(f"provinces_{vintage}")
        for _, r in prov.iterrows():
            u = Unit("province", r["province_code"], r["name"], vintage=vintage)
            plain = re.sub(r"^TP\.?\s*", "", r["name"])
            idx.add(u, r["name"], plain, slug(f"tinh {r['name']}"))
        if vintage == 2009:
            for _, r in store.frame("districts_2009").iterrows():
                u = Unit(
                    "district",
                    r["district_code"],
                    r["name"],
                    vintage=2009,
                    parent_code=r["province_code"],
                    parent_name=r["province_name"],
                )
                # 'Huyện Bắc Hà' folds to 'bac ha'; 'Huyen Bac Ha' (no diacritics) needs its own key
                idx.add(u, r["name"], r.get("name_full"), slug(r.get("name_full") or ""))
        return idx

    return m.memo(("vn_index", vintage), make)


def _label(u: Unit) -> str:
    where = u.parent_name if u.kind in ("district", "partner_district") else None
    return f"{u.name} ({where + ', ' if where else ''}{u.code})"


def _suggest(query: str, indexes: Sequence[_Index], n: int = 5) -> list[str]:
    """The closest known units to `query` (difflib on folded names and aliases), one per unit."""
    keys: dict[str, list[Unit]] = {}
    for idx in indexes:
        for k, units in idx.by_key.items():
            keys.setdefault(k, []).extend(units)
    q = _key(query)
    close = difflib.get_close_matches(q, list(keys), n=4 * n, cutoff=0.6)
    if not close and len(q) >= 3:  # a short query against long names: word prefixes
        close = [k for k in keys if k.startswith(q[:4])]
    out: list[str] = []
    for k in close:
        for u in keys[k]:
            lab = _label(u)
            if lab not in out:
                out.append(lab)
    return out[:n]


def _pick(cands: list[Unit], text: str, parent: str | None) -> Unit:
    if parent:
        pk = _key(parent)
        narrowed = [
            u
            for u in cands
            if u.parent_code and (_key(u.parent_name) == pk or str(u.parent_code).upper() == parent.strip().upper())
        ]
        if not narrowed:
            raise NotFound(
                f"{text!r}: no such unit in {parent!r}; candidates: "
                + "; ".join(f"{u.name} ({u.parent_name}, code {u.code})" for u in cands)
            )
        cands = narrowed
    best = min(_RANK.get(u.kind, 9) for u in cands)
    top = [u for u in cands if _RANK.get(u.kind, 9) == best]
    if len(top) > 1:
        raise InvalidParameter(
            f"{text!r} is ambiguous: "
            + "; ".join(f"{u.name} ({u.parent_name or u.kind}, code {u.code})" for u in top)
            + "; give the code, or 'name, parent' (e.g. 'Châu Thành, An Giang')"
        )
    return top[0]


def _lookup(idx: _Index, text: str) -> Unit | None:
    """Code, then name, then 'name, parent name'; None when nothing matches."""
    t = nfc(text)
    u = idx.by_code.get(t.upper()) or idx.by_code.get(t.upper().replace("-", "."))
    if u is not None:
        return u
    cands = idx.by_key.get(_key(t))
    if cands:
        return _pick(cands, t, None)
    if "," in t:
        name, parent = (s.strip() for s in t.split(",", 1))
        cands = idx.by_key.get(_key(name))
        if cands:
            return _pick(cands, t, parent)
    return None


def resolve_partner(store, text: str) -> Unit:
    """A partner country, Chinese or Lao province, or Lao district, by code or any known name."""
    text = _nonempty("partner", text)
    idx = _partner_index(store)
    u = _lookup(idx, text)
    if u is None:
        _unknown("partner unit", text, [idx])
    return u


def resolve_vn_unit(store, text: str, vintage: int = 2025, *, param: str = "unit") -> Unit:
    """A Vietnamese province (either vintage) or pre-2025 district, by code or name."""
    text = _nonempty(param, text)
    vintage = _vintage(vintage)
    idx = _vn_index(store, vintage)
    u = _lookup(idx, text)
    if u is None:
        _unknown(
            f"{'province' if vintage == 2025 else 'province or district'} ({vintage} units)", text, [idx], param=param
        )
    return u


def resolve_unit(store, text: str, vintage: int = 2025) -> Unit:
    """A partner unit first (countries, provinces, Lao districts), else a Vietnamese unit."""
    text = _nonempty("unit", text)
    vintage = _vintage(vintage)
    pidx, vidx = _partner_index(store), _vn_index(store, vintage)
    u = _lookup(pidx, text) or _lookup(vidx, text)
    if u is None and vintage == 2025 and not looks_like_code(text):
        old = _lookup(_vn_index(store, 2009), text)
        if old is not None:
            raise InvalidParameter(f"{text!r} is a pre-2025 {old.kind} ({_label(old)}); ask with vintage=2009")
    if u is None:
        _unknown(
            f"unit (partner country/province/district, or {vintage} Vietnamese province"
            f"{'' if vintage == 2025 else '/district'})",
            text,
            [pidx, vidx],
        )
    return u


def _unknown(what: str, text: str, indexes, param: str = "unit") -> NoReturn:
    if looks_like_code(text):
        raise InvalidParameter(f"{param}: unknown code {text!r} for a {what}")
    sugg = _suggest(text, indexes)
    hint = f"; did you mean: {', '.join(sugg)}?" if sugg else ""
    raise NotFound(f"no {what} named {text!r}{hint}")
