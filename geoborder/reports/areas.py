"""The area a report is about, as communes of both unit vintages.

An area is written as a short text (the same in the API, the CLI and saved areas):

  border                      every land-border commune
  border:<province>           a province's border communes; the province by name or by code of
                              either vintage ("Sơn La", "14", "303")
  communes:<code>,<code>,...  a list of communes of one vintage (5-digit 2025 codes or 7-digit
                              2009 census codes)
  districts:<name>;<name>     pre-2025 districts by name ("Si Ma Cai; Bắc Hà, Lào Cai"; add the
                              province after a comma when a name repeats)
  zone:<km>                   the communes within <km> of the border line
  saved:<name>                an area saved under a name (geoborder.indicators.saved_areas)

Each area has its communes on both vintages (`codes[2009]`, `codes[2025]`). The vintage it was
given on is `vintage`; the other one is its counterpart through the crosswalk of the 2025 reform
(the 2025 communes its pre-2025 units went into, or the pre-2025 units that went into its 2025
communes), except for the border areas, which are the border communes of each vintage. Where the
two do not cover the same ground, `notes` says so, unit by unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from geoborder.core.errors import InvalidParameter, NotFound
from geoborder.core.text import fold
from geoborder.indicators import reform as indicator_reform

KINDS = ("border", "communes", "districts", "zone", "saved")
MAX_ZONE_KM = 100.0


@dataclass(frozen=True)
class ReportArea:
    key: str  # the area as written, e.g. "border:Sơn La"
    vi: str
    en: str
    vintage: int  # the units the area was given on
    codes: dict[int, tuple[str, ...]]  # commune codes per vintage, sorted
    notes: tuple[dict, ...] = field(default=())  # where the two vintages do not cover the same ground

    def title(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi

    def as_dict(self, lang: str = "vi") -> dict:
        return {
            "key": self.key,
            "title": self.title(lang),
            "vintage": self.vintage,
            "communes_2025": list(self.codes[2025]),
            "communes_2009": list(self.codes[2009]),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- the crosswalk


def _links(store):
    links = indicator_reform.links_for(store)
    units = links.units[links.units["status"].isin(["code", "group"])]
    return units


def targets_of(store, codes09) -> dict[str, list[str]]:
    """The 2025 communes each pre-2025 unit went into (an unlinked unit: none)."""
    units = _links(store)
    return {c: list(units.at[c, "targets"]) if c in units.index else [] for c in codes09}


def members_of(store, codes25) -> dict[str, list[str]]:
    """The pre-2025 units that went (wholly or in part) into each 2025 commune."""
    units = _links(store)
    want = set(codes25)
    out: dict[str, list[str]] = {c: [] for c in codes25}
    for u, targets in units["targets"].items():
        for t in targets:
            if t in want:
                out[t].append(u)
    return {c: sorted(v) for c, v in out.items()}


def _names(store, vintage: int) -> pd.Series:
    c = store.frame(f"communes_{vintage}")
    return pd.Series(c["name"].astype(str).to_numpy(), index=c["commune_code"].astype(str).to_numpy())


def _counterpart_notes(store, codes09: set[str], codes25: set[str]) -> list[dict]:
    """Units of one vintage whose counterpart is partly outside the area's units of the other."""
    n09, n25 = _names(store, 2009), _names(store, 2025)
    notes = []
    for u, ts in sorted(targets_of(store, codes09).items()):
        outside = [t for t in ts if t not in codes25]
        if not ts:
            notes.append({"kind": "unlinked_2009", "commune_code": u, "name": n09.get(u), "communes": []})
        elif outside:
            notes.append(
                {
                    "kind": "2009_goes_outside",
                    "commune_code": u,
                    "name": n09.get(u),
                    "communes": [{"commune_code": t, "name": n25.get(t)} for t in outside],
                }
            )
    for c, ms in sorted(members_of(store, codes25).items()):
        outside = [m for m in ms if m not in codes09]
        if outside:
            notes.append(
                {
                    "kind": "2025_takes_outside",
                    "commune_code": c,
                    "name": n25.get(c),
                    "communes": [{"commune_code": m, "name": n09.get(m)} for m in outside],
                }
            )
    return notes


def _both(store, vintage: int, codes: set[str]) -> dict[int, tuple[str, ...]]:
    if vintage == 2009:
        other = {t for ts in targets_of(store, codes).values() for t in ts}
        return {2009: tuple(sorted(codes)), 2025: tuple(sorted(other))}
    other = {m for ms in members_of(store, codes).values() for m in ms}
    return {2025: tuple(sorted(codes)), 2009: tuple(sorted(other))}


def _make(store, key: str, vi: str, en: str, vintage: int, codes: dict[int, tuple[str, ...]]) -> ReportArea:
    if not codes[vintage]:
        raise InvalidParameter(f"area {key!r} has no communes")
    notes = _counterpart_notes(store, set(codes[2009]), set(codes[2025]))
    return ReportArea(key, vi, en, vintage, codes, tuple(notes))


# --------------------------------------------------------------------------- the kinds


def _provinces(store, vintage: int) -> dict[str, str]:
    c = store.frame(f"communes_{vintage}")
    return dict(c[["province_code", "province_name"]].drop_duplicates().astype(str).to_numpy())


def _find_province(store, text: str) -> tuple[int, str, str]:
    """(vintage, code, name) of a province by code or by name; a name is taken on 2025 units."""
    text = text.strip()
    for vintage in (2025, 2009):
        provs = _provinces(store, vintage)
        if text in provs:
            return vintage, text, provs[text]
    want = fold(re.sub(r"^(tinh|thanh pho|tp\.?)\s+", "", fold(text)))
    for vintage in (2025, 2009):
        for code, name in _provinces(store, vintage).items():
            if fold(re.sub(r"^(Tỉnh|Thành phố)\s+", "", name)) == want:
                return vintage, code, name
    names = sorted(set(_provinces(store, 2025).values()))
    raise NotFound(f"area: no province {text!r}; provinces of 2025: {', '.join(names)}")


def border_area(store, province: str | None = None) -> ReportArea:
    """The border communes of one province (both vintages: each vintage's own border communes,
    the other vintage's linked through the crosswalk), or of the whole border."""
    b = {v: store.frame(f"border_communes_{v}") for v in (2009, 2025)}
    if province is None:
        codes = {v: tuple(sorted(b[v]["commune_code"].astype(str))) for v in b}
        return _make(store, "border", "Các xã biên giới đất liền", "Land-border communes", 2025, codes)
    vintage, code, name = _find_province(store, province)
    own = set(b[vintage].loc[b[vintage]["province_code"].astype(str) == code, "commune_code"].astype(str))
    if not own:
        raise InvalidParameter(f"area: {name} ({code}) has no border communes")
    other = 2009 if vintage == 2025 else 2025
    border_other = set(b[other]["commune_code"].astype(str))
    linked = set(_both(store, vintage, own)[other]) & border_other
    codes = {vintage: tuple(sorted(own)), other: tuple(sorted(linked))}
    return _make(
        store,
        f"border:{province.strip()}",
        f"Các xã biên giới tỉnh {name}",
        f"Border communes of {name}",
        vintage,
        codes,
    )


def communes_area(store, text: str) -> ReportArea:
    codes = [c.strip() for c in re.split(r"[,;\s]+", text) if c.strip()]
    if not codes:
        raise InvalidParameter("area: communes: give commune codes, e.g. communes:04045,04240")
    lengths = {len(c) for c in codes}
    if lengths - {5, 7} or len(lengths) > 1:
        raise InvalidParameter(
            "area: communes: codes of one vintage only, 5-digit 2025 codes or 7-digit 2009 census codes"
        )
    vintage = 2025 if lengths == {5} else 2009
    known = set(_names(store, vintage).index)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise NotFound(f"area: no {vintage} commune with code {', '.join(unknown)}")
    n = len(set(codes))
    return _make(
        store,
        f"communes:{','.join(codes)}",
        f"{n} xã (đơn vị {'2025' if vintage == 2025 else 'trước 2025'})",
        f"{n} communes ({'2025' if vintage == 2025 else 'pre-2025'} units)",
        vintage,
        _both(store, vintage, set(codes)),
    )


def _district_key(name: str) -> str:
    return fold(re.sub(r"^(Huyện|Thị xã|Thành phố|Quận)\s+", "", str(name).strip(), flags=re.IGNORECASE))


def districts_area(store, text: str) -> ReportArea:
    c09 = store.frame("communes_2009")
    dkey = c09["district_name"].map(_district_key)
    pkey = c09["province_name"].map(_district_key)
    parts = [p.strip() for p in text.split(";") if p.strip()]
    if not parts:
        raise InvalidParameter("area: districts: give pre-2025 district names, e.g. districts:Si Ma Cai;Bắc Hà")
    codes: set[str] = set()
    titles = []
    for part in parts:
        name, _, prov = part.partition(",")
        mask = dkey == _district_key(name)
        if prov.strip():
            mask &= pkey == _district_key(prov)
        found = c09[mask]
        if found.empty:
            raise NotFound(f"area: no pre-2025 district {part!r}")
        if found["district_code"].nunique() > 1:
            provs = ", ".join(sorted(found["province_name"].astype(str).unique()))
            raise InvalidParameter(f"area: district {name.strip()!r} is in several provinces ({provs}): add one")
        codes |= set(found["commune_code"].astype(str))
        titles.append(str(found["district_name"].iloc[0]))
    return _make(
        store,
        f"districts:{';'.join(parts)}",
        "Khu vực " + " – ".join(titles),
        "Area of " + " – ".join(titles),
        2009,
        _both(store, 2009, codes),
    )


def zone_area(store, text: str) -> ReportArea:
    from geoborder.queries.zone import border_zone

    try:
        km = float(text)
    except ValueError:
        raise InvalidParameter(f"area: zone:<km> needs a distance in km, not {text!r}") from None
    if not 0 < km <= MAX_ZONE_KM:
        raise InvalidParameter(f"area: zone: the distance must be above 0 and at most {MAX_ZONE_KM:g} km")
    codes = {}
    for v in (2009, 2025):
        fc = border_zone(store, distance_km=km, vintage=v, include="communes")
        codes[v] = tuple(sorted(str(f["properties"]["commune_code"]) for f in fc["features"]))
    return _make(
        store,
        f"zone:{km:g}",
        f"Các xã trong phạm vi {km:g} km từ biên giới",
        f"Communes within {km:g} km of the border",
        2025,
        codes,
    )


def from_codes(store, key: str, vi: str, en: str, vintage: int, codes) -> ReportArea:
    """An area given by its communes of one vintage (a saved area)."""
    return _make(store, key, vi, en, vintage, _both(store, vintage, {str(c) for c in codes}))


def resolve_area(store, text: str, saved=None) -> ReportArea:
    """The area written as `text` (see the module); `saved`: the saved areas (a ReportsDB), if any."""
    if not text or not str(text).strip():
        raise InvalidParameter("area: give an area, e.g. border:Sơn La, communes:04045,04240 or zone:10")
    text = str(text).strip()
    kind, sep, rest = text.partition(":")
    kind = kind.strip().lower()
    if sep and kind in KINDS:
        rest = rest.strip()
        if kind == "border":
            return border_area(store, rest or None)
        if kind == "communes":
            return communes_area(store, rest)
        if kind == "districts":
            return districts_area(store, rest)
        if kind == "zone":
            return zone_area(store, rest)
        return _saved(store, rest, saved)
    if text.lower() == "border":
        return border_area(store)
    if saved is not None and saved.find(text) is not None:
        return _saved(store, text, saved)
    raise NotFound(
        f"area: {text!r} is not an area; write border, border:<province>, communes:<codes>, "
        "districts:<names>, zone:<km> or saved:<name>" + (" (no saved area by that name)" if saved is not None else "")
    )


def _saved(store, name: str, saved) -> ReportArea:
    if saved is None:
        raise NotFound(f"area: no saved area {name!r} (no saved areas here)")
    row = saved.find(name)
    if row is None:
        raise NotFound(f"area: no saved area {name!r}; saved areas: {', '.join(saved.area_names()) or 'none'}")
    codes = {2009: row.codes_2009, 2025: row.codes_2025}
    notes = _counterpart_notes(store, set(codes[2009]), set(codes[2025]))
    return ReportArea(f"saved:{row.name}", row.name, row.name, int(row.vintage), codes, tuple(notes))
