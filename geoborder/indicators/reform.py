"""Across the 2025 reform: pre-2025 communes (2009 census units) -> GSO 2024 codes -> 2025 communes.

The pack's pre-2025 polygons carry 2009 census codes (3031939), the official crosswalk
(admin_crosswalk_2025.csv, read from the pack the store was built from) maps GSO 2024 ward codes
(04045) to 2025 ward codes, and the pack has no list of 2024 names. The link is made like this:

1. Each 2025 commune's `before_merger` list (commune_seats_2025) names its pre-2025 units
   ("Xã Chiềng Khừa, Xã Lóng Sập"; "Không sáp nhập" = unchanged, same name). A 2009 unit is
   given to an entry of a 2025 commune it overlaps when the names fold equal (diacritics-,
   case- and prefix-insensitive); when several units could fill one entry, the one with the
   same unit type, then the one mostly inside the commune wins (otherwise: ambiguous).
   T(u) = the 2025 communes unit u is given to.
2. The crosswalk gives each 2024 code k its 2025 communes S(k). k and u can only be the same unit
   when S(k) == T(u). Pairs are fixed by elimination: a 2025 commune that kept the code of one of
   its old units and that unit's name pairs them ("kept code and name"); a code with a single
   possible unit (and vice versa) pairs them ("unique"); then census districts are mapped to GSO
   districts by the pairs found, and the elimination runs again within districts ("district").
3. A unit still without its own code but whose possible codes all lead to the same 2025 communes
   is linked at group level ("group"): the join to 2025 is known, the exact 2024 code is not.
   Every other unit is reported unlinked, with the reason; so are 2024 codes with no 2009 unit
   (units created, renamed or merged between 2009 and 2024).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geoborder.core.errors import StoreError
from geoborder.core.settings import StoreSettings
from geoborder.core.text import fold, nfc, split_unit_prefix
from geoborder.indicators.reform_join import to_2025

__all__ = ["Links", "crosswalk_path", "link_units", "links_for", "read_crosswalk", "to_2025"]

CROSSWALK_FILE = "admin_crosswalk_2025.csv"
_SPLIT_RE = re.compile(r",\s*(?![^()]*\))")
_BRACKET_RE = re.compile(r"\((.*)\)")
NOT_MERGED = "khong sap nhap"


def crosswalk_path(store) -> Path:
    """The crosswalk in the pack the store was built from (else the configured pack)."""
    candidates = []
    pack = (store.build_info() or {}).get("pack") if store is not None else None
    if pack:
        candidates.append(Path(pack) / CROSSWALK_FILE)
    configured = StoreSettings().resolved_pack()
    if configured:
        candidates.append(Path(configured) / CROSSWALK_FILE)
    for p in candidates:
        if p.exists():
            return p
    raise StoreError(
        f"the code crosswalk {CROSSWALK_FILE} is not in the source pack "
        f"({', '.join(str(c.parent) for c in candidates) or 'no pack configured'})"
    )


def read_crosswalk(path: Path) -> pd.DataFrame:
    """The crosswalk, one row per (2024 code, 2025 commune).

    `flag` is the source's old_is_partly_merged; `partly` is what the join uses: the 2024 unit
    was split across several 2025 communes, i.e. the code has more than one row. The source sets
    its flag on 132 codes that have a single destination (131 of them unchanged communes that kept
    their code, e.g. Sơn La's 7 unmerged ones: Mường Lèo 04240, Mường Lạn 04246, Phiêng Khoài
    04099); a unit that goes whole to one commune is not split, so the flag alone is not taken.
    """
    df = pd.read_csv(path, dtype=int)
    need = {"old_ward_code", "old_district_code", "old_province_code", "old_is_partly_merged", "new_ward_code"}
    if not need <= set(df.columns):
        raise StoreError(f"{path}: expected columns {sorted(need)}, found {list(df.columns)}")
    out = pd.DataFrame(
        {
            "old": df["old_ward_code"].map(lambda v: f"{v:05d}"),
            "old_district": df["old_district_code"].map(lambda v: f"{v:03d}"),
            "old_province": df["old_province_code"].map(lambda v: f"{v:02d}"),
            "flag": df["old_is_partly_merged"].astype(bool),
            "new": df["new_ward_code"].map(lambda v: f"{v:05d}"),
        }
    )
    out["partly"] = out.groupby("old")["new"].transform("nunique") > 1
    return out


def link_key(name: str) -> str:
    """fold() plus the spelling variants of the sources: i/y (Ma Li Chải / Ma Ly Chải) and the
    'la' typed for 'Ia' in Central Highlands names ('la Dom' = 'Ia Dom')."""
    if not isinstance(name, str):
        return ""
    name = nfc(name)
    if name.startswith("la ") or name.startswith("la\u00a0"):
        name = "Ia " + name[3:]
    return fold(name).replace("y", "i")


def parse_before_merger(text: str, name: str = "", unit_type: str | None = None) -> list[dict]:
    """'Xã A, Xã B (phần còn lại sau khi sáp nhập vào xã C)' -> entries with type, fold, partial."""
    out = []
    for part in _SPLIT_RE.split(nfc(text or "")):
        part = part.strip()
        if not part:
            continue
        if fold(part) == NOT_MERGED:
            out.append({"text": part, "type": unit_type, "key": link_key(name), "partial": False, "hint": None})
            continue
        m = _BRACKET_RE.search(part)
        note = m.group(1) if m else ""
        partial = "phần còn lại" in note.lower()
        hint = None if partial or not note else fold(note)
        utype, bare = split_unit_prefix(_BRACKET_RE.sub("", part).strip())
        out.append({"text": part, "type": utype, "key": link_key(bare), "partial": partial, "hint": hint})
    return out


@dataclass
class Links:
    """The result of linking; `units` is indexed by 2009 census code."""

    units: pd.DataFrame  # code2024, candidates, status, method, targets, partly, reason
    codes: pd.DataFrame  # per 2024 code: unit (census code) or None, status
    crosswalk: pd.DataFrame
    summary: dict = field(default_factory=dict)

    def unit_for_2024(self, code: str) -> tuple[str | None, list[str]]:
        """(census code, candidates) of a 2024 code: the unit when linked one to one."""
        if code not in self.codes.index:
            return None, []
        row = self.codes.loc[code]
        return row["unit"], list(row["candidates"])


def _entries(c25: pd.DataFrame, seats: pd.DataFrame) -> pd.DataFrame:
    """The before_merger entries of every 2025 commune: new, entry, text, type, key, partial, hint."""
    c25_info = c25.set_index("commune_code")
    ent_rows = []
    for r in seats.itertuples(index=False):
        utype = c25_info["unit_type"].get(r.commune_code) if r.commune_code in c25_info.index else None
        for j, e in enumerate(parse_before_merger(r.before_merger, r.name, utype)):
            ent_rows.append({"new": r.commune_code, "entry": j, **e})
    # 2025 communes without a seat record (141 in the pack): their own name stands for the old unit
    no_seat = set(c25["commune_code"]) - set(seats["commune_code"])
    for r in c25[c25["commune_code"].isin(no_seat)].itertuples(index=False):
        ent_rows.append(
            {
                "new": r.commune_code,
                "entry": 0,
                "text": r.name,
                "type": r.unit_type,
                "key": link_key(r.name),
                "partial": False,
                "hint": None,
            }
        )
    return pd.DataFrame(ent_rows)


def _given_units(c09: pd.DataFrame, c25: pd.DataFrame, entries: pd.DataFrame) -> tuple[dict, list]:
    """Step 1: T(u), the 2025 communes each 2009 unit is given to, and the ambiguous entries."""
    g09 = shapely.make_valid(np.asarray(c09.geometry.values, dtype=object))
    g25 = shapely.make_valid(np.asarray(c25.geometry.values, dtype=object))
    tree = shapely.STRtree(g25)
    ui, ci = tree.query(g09, predicate="intersects")
    pairs = pd.DataFrame({"ui": ui, "ci": ci})
    pairs["unit"] = c09["commune_code"].to_numpy()[ui]
    pairs["new"] = c25["commune_code"].to_numpy()[ci]
    pairs["key"] = c09["name"].map(link_key).to_numpy()[ui]
    cand = pairs.merge(entries, on=["new", "key"])
    if len(cand):
        inter = shapely.area(shapely.intersection(g09[cand["ui"].to_numpy()], g25[cand["ci"].to_numpy()]))
        cand["share"] = inter / np.maximum(shapely.area(g09[cand["ui"].to_numpy()]), 1e-12)
        utypes = c09["unit_type"].to_numpy()[cand["ui"].to_numpy()]
        cand["same_type"] = [isinstance(a, str) and a == b for a, b in zip(cand["type"], utypes)]
        dists = c09["district_name"].map(fold).to_numpy()[cand["ui"].to_numpy()]
        cand["hint_ok"] = [not isinstance(h, str) or h == d for h, d in zip(cand["hint"], dists)]
        cand = cand[cand["hint_ok"] & (cand["share"] > 0.01)]
    # each entry takes its best unit: same type first, then the largest share of the unit inside;
    # two units equally good for one entry make it ambiguous (the entry takes none)
    cand = cand.sort_values(["new", "entry", "same_type", "share"], ascending=[True, True, False, False])
    rank = cand.groupby(["new", "entry"], sort=False).cumcount().to_numpy()
    first = cand[rank == 0].set_index(["new", "entry"])
    second = cand[rank == 1].set_index(["new", "entry"])[["same_type", "share"]].add_suffix("_2")
    both = first.join(second)
    amb = both["share_2"].notna() & (both["same_type"] == both["same_type_2"]) & (both["share_2"] > 0.5 * both["share"])
    entry_ambiguous = list(both.index[amb.to_numpy()])
    taken = both[~amb.to_numpy()].reset_index()
    T = defaultdict(set)
    for r in taken.itertuples(index=False):
        T[r.unit].add(r.new)
    return T, entry_ambiguous


class _Pairing:
    """Step 2: 2024 codes k and 2009 units u with S(k) == T(u), paired by elimination."""

    def __init__(self, S: dict, T: dict, old_district: dict, unit_dist: dict):
        self.old_district, self.unit_dist = old_district, unit_dist
        self.by_sig: defaultdict[frozenset, tuple[set, set]] = defaultdict(
            lambda: (set(), set())
        )  # signature -> (codes, units)
        for u, t in T.items():
            self.by_sig[frozenset(t)][1].add(u)
        for k, s in S.items():
            self.by_sig[s][0].add(k)
        self.code_of: dict = {}
        self.unit_of: dict = {}
        self.method: dict = {}

    def pair(self, k, u, how):
        self.code_of[u], self.unit_of[k], self.method[u] = k, u, how

    def kept_code_and_name(self, name25: dict, unit_key: dict):
        for sig, (ks, us) in self.by_sig.items():
            for new in sorted(sig):
                if new in ks:
                    same = [u for u in sorted(us) if unit_key[u] == name25.get(new) and u not in self.code_of]
                    if len(same) == 1 and new not in self.unit_of:
                        self.pair(new, same[0], "kept code and name")

    def eliminate(self, dist_map=None):
        changed = True
        while changed:
            changed = False
            for ks, us in self.by_sig.values():
                free_k = sorted(k for k in ks if k not in self.unit_of)
                free_u = sorted(u for u in us if u not in self.code_of)
                if not free_k or not free_u:
                    continue
                if dist_map is None:
                    if len(free_k) == 1 and len(free_u) == 1:
                        self.pair(free_k[0], free_u[0], "unique")
                        changed = True
                    continue
                groups = defaultdict(lambda: ([], []))
                for k in free_k:
                    groups[self.old_district[k]][0].append(k)
                for u in free_u:
                    d = dist_map.get(self.unit_dist[u])
                    if d is not None:
                        groups[d][1].append(u)
                for gk, gu in groups.values():
                    if len(gk) == 1 and len(gu) == 1:
                        self.pair(gk[0], gu[0], "district")
                        changed = True

    def district_map(self) -> dict:
        """Census district -> GSO district, by the votes of the pairs found so far."""
        votes: defaultdict[Any, defaultdict[Any, int]] = defaultdict(lambda: defaultdict(int))
        for u, k in self.code_of.items():
            votes[self.unit_dist[u]][self.old_district[k]] += 1
        return {d: max(v, key=v.__getitem__) for d, v in votes.items()}

    def run(self, name25: dict, unit_key: dict) -> _Pairing:
        self.kept_code_and_name(name25, unit_key)
        self.eliminate()
        self.eliminate(self.district_map())
        self.eliminate()
        return self


_UNIT_COLUMNS = ["commune_code", "code2024", "candidates", "status", "method", "targets", "partly", "reason"]


def _unit_rows(c09: pd.DataFrame, T: dict, S: dict, partly: dict, p: _Pairing) -> pd.DataFrame:
    """Step 3: each 2009 unit linked to its code, to a group of codes, or unlinked with a reason."""
    rows = []
    for u in c09["commune_code"]:
        t = T.get(u)
        if u in p.code_of:
            k = p.code_of[u]
            rows.append((u, k, [k], "code", p.method[u], sorted(S[k]), bool(partly[k]), ""))
            continue
        if not t:
            why = "its name is in no before_merger list of a 2025 commune it overlaps"
            rows.append((u, None, [], "unlinked", "", [], False, why))
            continue
        ks, _ = p.by_sig.get(frozenset(t), (set(), set()))
        free = sorted(k for k in ks if k not in p.unit_of)
        if free:
            rows.append((u, None, free, "group", "same 2025 communes", sorted(t), any(partly[k] for k in free), ""))
        else:
            why = f"no 2024 code of the crosswalk leads to exactly {', '.join(sorted(t))}"
            rows.append((u, None, [], "unlinked", "", sorted(t), False, why))
    return pd.DataFrame(rows, columns=_UNIT_COLUMNS).set_index("commune_code")


def _code_rows(S: dict, units: pd.DataFrame, unit_of: dict) -> pd.DataFrame:
    code_rows = []
    group_units = defaultdict(list)
    for u, r in units[units["status"] == "group"].iterrows():
        for k in r["candidates"]:
            group_units[k].append(u)
    for k in S:
        if k in unit_of:
            code_rows.append((k, unit_of[k], [unit_of[k]], "code"))
        elif k in group_units:
            code_rows.append((k, None, sorted(group_units[k]), "group"))
        else:
            code_rows.append((k, None, [], "unlinked"))
    return pd.DataFrame(code_rows, columns=["code2024", "unit", "candidates", "status"]).set_index("code2024")


def link_units(store, crosswalk: pd.DataFrame) -> Links:
    c09 = store.frame("communes_2009")
    c25 = store.frame("communes_2025")
    seats = store.frame("commune_seats_2025")
    T, entry_ambiguous = _given_units(c09, c25, _entries(c25, seats))

    S = crosswalk.groupby("old")["new"].agg(lambda s: frozenset(s)).to_dict()
    partly = crosswalk.groupby("old")["partly"].any().to_dict()
    flag = crosswalk.groupby("old")["flag"].any().to_dict()
    old_district = crosswalk.groupby("old")["old_district"].first().to_dict()
    name25 = dict(zip(c25["commune_code"], c25["name"].map(link_key)))
    unit_key = dict(zip(c09["commune_code"], c09["name"].map(link_key)))
    unit_dist = dict(zip(c09["commune_code"], c09["district_code"]))
    pairing = _Pairing(S, T, old_district, unit_dist).run(name25, unit_key)

    units = _unit_rows(c09, T, S, partly, pairing)
    codes = _code_rows(S, units, pairing.unit_of)
    summary = {
        "units_2009": len(units),
        "units_by_status": units["status"].value_counts().to_dict(),
        "units_by_method": units.loc[units["status"] == "code", "method"].value_counts().to_dict(),
        "codes_2024": len(codes),
        "codes_by_status": codes["status"].value_counts().to_dict(),
        "ambiguous_entries": len(entry_ambiguous),
        "codes_partly_merged": int(sum(partly.values())),
        # flagged old_is_partly_merged by the crosswalk but going whole to one 2025 commune
        "partly_flag_single_commune": int(sum(1 for k, f in flag.items() if f and len(S[k]) == 1)),
    }
    return Links(units=units, codes=codes, crosswalk=crosswalk, summary=summary)


_CACHE: dict = {}
_CACHE_LOCK = threading.Lock()


def crosswalk_key(store) -> tuple:
    """What the links depend on besides the data version: the crosswalk file (path, mtime, size)."""
    path = crosswalk_path(store)
    st = path.stat()
    return str(path), st.st_mtime_ns, st.st_size


def links_for(store) -> Links:
    """The links of `store`, computed once per (store, data version, crosswalk) and process
    (~5-10 s): requests that come at once wait for the one computation."""
    key = (id(store), store.version, crosswalk_key(store))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = link_units(store, read_crosswalk(Path(key[2][0])))
        return _CACHE[key]
