"""Where a pack file came from, when the pack's manifest (pack.json) says so.

The catalog names the source of each layer's file as the development pack has it (for `roads`:
the national roads of CTU-SematX/LegoCity). A province's own file (`geoborder import FILE --layer
roads`) or an OpenStreetMap extract (`geoborder fetch`) replaces that file and records itself in
pack.json; the store's layer information then names that source, not the catalog's. An entry
counts only while its checksum is the file's: a file changed by hand after the manifest was
written keeps the catalog's words.
"""

from __future__ import annotations

from pathlib import Path

from geoborder.sources.fetch.manifest import Manifest


def pack_provenance(pack: Path, sums: dict[str, str]) -> dict[str, dict[str, str]]:
    """file -> {licence, attribution, source_vintage} for the files pack.json describes."""
    out = {}
    for f in Manifest.read(Path(pack)).files:
        if not f.sha256 or sums.get(f.file) != f.sha256:
            continue
        what = f.what if not f.notes else f"{f.what} ({'; '.join(f.notes)})"
        out[f.file] = {"licence": f.licence, "attribution": f"{f.attribution} ({f.source})", "source_vintage": what}
    return out
