"""What a store was built from (catalog, build code, input files) and whether it is stale."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from geoborder import __version__
from geoborder.build.partner_names import PARTNER_NAMES_PATH
from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.files import sha256_file
from geoborder.core.tables import META_BUILD

# the code whose change changes what a build writes (relative to geoborder/): every module of
# build/ (a new one is covered without a list to keep up) and the core modules it relies on
_CORE_FILES = ("core/text.py", "core/crs.py", "core/catalog.py")


def code_checksum() -> str:
    here = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    names = sorted(p.relative_to(here).as_posix() for p in (here / "build").glob("*.py")) + list(_CORE_FILES)
    for name in names:
        h.update((here / name).read_bytes())
    return h.hexdigest()


def pack_files(pack: Path, catalog: Catalog) -> dict[str, Path]:
    """Source id -> file path, for every source the catalog names."""
    return {sid: Path(pack) / s.file for sid, s in catalog.sources.items()}


def fingerprint(pack: Path, catalog: Catalog) -> tuple[str, dict[str, str]]:
    """What a store was built from: catalog, build code and the checksum of every input file."""
    sums = {}
    for sid, path in sorted(pack_files(pack, catalog).items()):
        sums[catalog.sources[sid].file] = sha256_file(path) if path.exists() else "absent"
    h = hashlib.sha256()
    h.update(catalog.checksum.encode())
    h.update(code_checksum().encode())
    # the Vietnamese names of partner units are written into the partner layers
    h.update(PARTNER_NAMES_PATH.read_bytes() if PARTNER_NAMES_PATH.exists() else b"")
    for name, s in sorted(sums.items()):
        h.update(f"{name}={s}".encode())
    return h.hexdigest(), sums


def stored_fingerprint(store: Path) -> str | None:
    """The fingerprint recorded in an existing store, or None if it has none / is unreadable."""
    if not Path(store).exists():
        return None
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as con:
            row = con.execute(f"SELECT value FROM {META_BUILD} WHERE key='fingerprint'").fetchone()
        return row[0] if row else None
    except sqlite3.Error:
        return None


def is_stale(pack: Path, store: Path, catalog: Catalog | None = None) -> bool:
    catalog = catalog or load_catalog()
    current = stored_fingerprint(store)
    return current is None or current != fingerprint(pack, catalog)[0]
