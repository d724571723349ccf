"""Matching a table's row (code, name, province, district) to a commune of one vintage."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

from geoborder.core.text import fold, nfc, split_unit_prefix

if TYPE_CHECKING:
    from geoborder.indicators.reform import Links


def cell_code(cell) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, float):
        if math.isnan(cell) or cell != int(cell):
            return None
        cell = int(cell)
    s = str(cell).strip()
    if not s:
        return None
    return s


class Matcher:
    """Resolves a row (code, name, province, district) to a commune code of one vintage."""

    def __init__(self, store, vintage: int):
        self.store, self.vintage = store, vintage
        layer = "communes_2025" if vintage == 2025 else "communes_2009"
        f = store.frame(layer).drop(columns="geometry")
        self.frame = f.set_index("commune_code", drop=False)
        self.codes = set(f["commune_code"])
        self.by_name = defaultdict(list)
        for code, name in zip(f["commune_code"], f["name"]):
            self.by_name[fold(name)].append(code)
        self.prov_fold = f["province_name"].map(fold)
        self.prov_fold.index = f["commune_code"]
        self.dist_fold = f["district_name"].map(fold).set_axis(f["commune_code"]) if vintage == 2009 else None
        self._links: Links | None = None
        self._old: dict | None = None
        self._old_names: defaultdict[str, list[dict]] | None = None

    def links(self):
        from geoborder.indicators.reform import links_for

        if self._links is None:
            self._links = links_for(self.store)
        return self._links

    def old_codes(self) -> dict:
        """2024 codes -> their 2025 communes (from the crosswalk)."""
        if self._old is None:
            from geoborder.indicators.reform import crosswalk_path, read_crosswalk

            cw = read_crosswalk(crosswalk_path(self.store))
            self._old = cw.groupby("old")["new"].agg(lambda s: sorted(set(s))).to_dict()
        return self._old

    def describe(self, code: str) -> dict:
        r = self.frame.loc[code]
        d = {"code": code, "name": r["name"], "province": r["province_name"]}
        if self.vintage == 2009:
            d["district"] = r["district_name"]
        return d

    def match(self, code, name, province, district) -> tuple[str | None, str, str, list]:
        """(commune_code, how, message, candidates); how is code | name | ambiguous | unknown | mismatch.

        A row with both a code and a name must agree: the name must be the coded commune's."""
        commune, how, msg, cands = self._match(code, name, province, district)
        if how == "code" and isinstance(name, str) and name.strip():
            assert commune is not None  # matched by its code
            from geoborder.indicators.reform import link_key

            own = self.frame.at[commune, "name"]
            key = link_key(name)
            if key != link_key(own) and not (
                key.startswith(("xa ", "phuong ")) and key.split(" ", 1)[1] == link_key(own)
            ):
                return (
                    None,
                    "mismatch",
                    (f"the code {commune} is {own!r}, but the name says {name!r}: correct the code or the name"),
                    [self.describe(commune)],
                )
        return commune, how, msg, cands

    def _match(self, code, name, province, district) -> tuple[str | None, str, str, list]:
        code = cell_code(code)
        if code is not None:
            return self._by_code(code)
        if not isinstance(name, str) or not name.strip():
            return None, "unknown", "no commune code and no name", []
        return self._by_name(name, province, district)

    def _by_code(self, code: str) -> tuple[str | None, str, str, list]:
        if not code.isdigit():
            return None, "unknown", f"commune code {code!r} is not a number", []
        if len(code) <= 5:
            c5 = code.zfill(5)
            if self.vintage == 2025:
                if c5 in self.codes:
                    return c5, "code", "", []
                targets = self.old_codes().get(c5)
                if targets:
                    return (
                        None,
                        "unknown",
                        (
                            f"{c5} is a pre-2025 (GSO 2024) code, merged into "
                            f"{', '.join(targets)}: import pre-2025 tables with vintage 2009"
                        ),
                        [self._describe25(t) for t in targets],
                    )
                return None, "unknown", f"no 2025 commune has the code {c5}", []
            unit, cands = self.links().unit_for_2024(c5)
            if unit is not None:
                return unit, "code", "", []
            if c5 not in self.old_codes():
                return None, "unknown", f"{c5} is not a GSO 2024 commune code (not in the crosswalk)", []
            if cands:
                return (
                    None,
                    "ambiguous",
                    (
                        f"GSO 2024 code {c5} links to several 2009 units (same 2025 "
                        "commune); give the 2009 census code or the name"
                    ),
                    [self.describe(c) for c in cands],
                )
            return None, "unknown", f"GSO 2024 code {c5} links to no 2009 census unit", []
        if len(code) <= 7:
            c7 = code.zfill(7)
            if self.vintage == 2009 and c7 in self.codes:
                return c7, "code", "", []
            if self.vintage == 2025:
                return (None, "unknown", f"{c7} looks like a 2009 census code: import the table with vintage 2009", [])
            return None, "unknown", f"no 2009 census unit has the code {c7}", []
        return None, "unknown", f"commune code {code!r} has too many digits", []

    def _by_name(self, name: str, province, district) -> tuple[str | None, str, str, list]:
        key = fold(name)
        cands = list(self.by_name.get(key, []))
        if not cands:
            # without diacritics fold() keeps "xa"/"phuong" (they begin real names: Xa Mát);
            # when the whole name matches nothing, read them as the unit prefix
            for p in ("xa ", "phuong ", "dac khu "):
                if key.startswith(p) and self.by_name.get(key[len(p) :]):
                    key = key[len(p) :]
                    cands = list(self.by_name[key])
                    break
        note = ""
        if province not in (None, "") and cands:
            pf = fold(str(province))
            inprov = [c for c in cands if self.prov_fold[c] == pf or c[:2] == str(province).zfill(2)]
            if inprov or pf in set(self.prov_fold):
                cands = inprov
            else:
                note = f" (province {province!r} is not a {self.vintage} province: not used)"
        if district not in (None, "") and self.vintage == 2009 and cands:
            df = fold(str(district))
            assert self.dist_fold is not None  # a 2009 matcher
            cands = [c for c in cands if self.dist_fold[c] == df]
        if len(cands) > 1:
            utype, _ = split_unit_prefix(name)
            if utype:
                typed = [c for c in cands if self.frame.at[c, "unit_type"] == utype]
                if len(typed) == 1:
                    cands = typed
        if len(cands) > 1:
            exact = [c for c in cands if nfc(self.frame.at[c, "name"]).lower() == split_unit_prefix(name)[1].lower()]
            if len(exact) == 1:
                cands = exact
        if len(cands) == 1:
            return cands[0], "name", "", []
        if len(cands) > 1:
            used = [str(v) for v in (district if self.vintage == 2009 else None, province) if v not in (None, "")]
            within = f"in {', '.join(used)}" if used else "in the country (give the province)"
            if self.vintage == 2009 and district in (None, ""):
                within += "; give the district"
            return (
                None,
                "ambiguous",
                f"{len(cands)} {self.vintage} communes are named {name!r} {within}{note}",
                [self.describe(c) for c in cands],
            )
        hint = self._old_name_hint(key, province) if self.vintage == 2025 else []
        if hint:
            return (
                None,
                "unknown",
                (
                    f"no 2025 commune is named {name!r}: it is a pre-2025 name, merged into "
                    f"{', '.join(h['name'] for h in hint)}; import pre-2025 tables with vintage 2009"
                ),
                hint,
            )
        return (
            None,
            "unknown",
            f"no {self.vintage} commune is named {name!r}"
            + (f" in {province}" if province not in (None, "") else "")
            + note,
            [],
        )

    def _describe25(self, code):
        f = self.store.frame("communes_2025")
        r = f[f["commune_code"] == code]
        return {
            "code": code,
            "name": r["name"].iloc[0] if len(r) else "",
            "province": r["province_name"].iloc[0] if len(r) else "",
        }

    def _old_name_hint(self, key, province) -> list:
        """2025 communes whose before_merger list names `key` (a pre-2025 name)."""
        from geoborder.indicators.reform import link_key, parse_before_merger

        if self._old_names is None:
            self._old_names = defaultdict(list)
            for r in self.store.frame("commune_seats_2025").itertuples(index=False):
                for e in parse_before_merger(r.before_merger, r.name):
                    self._old_names[e["key"]].append(
                        {"code": r.commune_code, "name": r.name, "province": r.province_name}
                    )
        pf = fold(str(province)) if province not in (None, "") else None
        out = [c for c in self._old_names.get(link_key(key), []) if pf is None or fold(c["province"]) == pf]
        return out[:10]
