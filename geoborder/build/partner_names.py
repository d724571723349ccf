"""The Vietnamese names of partner units, from layers/partner_names.toml (with their sources).

The build writes them into the partner layers (`name_vi` of khm_provinces and cn_counties), so a
Vietnamese page names Mã Quan, not Maguan. The name is the first alias of an entry whose source
tag is `vi` (the usual Vietnamese name); a unit without one has no `name_vi` (left empty rather
than guessed).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

PARTNER_NAMES_PATH = Path(__file__).resolve().parents[2] / "layers" / "partner_names.toml"


@lru_cache(maxsize=4)
def _doc(path: Path) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def partner_vi_names(kind: str, path: Path = PARTNER_NAMES_PATH) -> dict[str, str]:
    """code -> Vietnamese name for the entries of `kind` (country, province, district) that have
    a `code` and an alias tagged `vi`."""
    out: dict[str, str] = {}
    for e in _doc(Path(path)).get(kind, []):
        code = e.get("code")
        vi = next((a[0] for a in e.get("aliases", []) if len(a) > 1 and a[1] == "vi"), None)
        if code and vi:
            out[str(code)] = vi
    return out
