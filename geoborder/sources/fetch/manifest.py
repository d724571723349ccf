"""The pack's manifest: pack.json (the facts) and MANIFEST.md (the same, for people)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from geoborder import __version__

MANIFEST_MARK = "<!-- written by geoborder; edit pack.json, not this file -->"

# contract files open sources cannot give, and what the pack has instead
NOT_OPEN = {
    "dem_glo30.tif": "Copernicus GLO-30 elevation: fetched only with `geoborder fetch --dem` (large)",
    "dem_own.tif": "a province's own DEM: `geoborder import FILE --layer dem`",
    "vn_communes_2025.geojson": "2025 communes with GSO codes: no open source (geoBoundaries VNM ADM3 "
    "holds pre-2025 communes, names only, no codes: gb_vnm_adm3.geojson)",
    "vn_commune_centres_2025.geojson": "2025 commune seats: no open source",
    "vn_provinces_2025.geojson": "the 34 provinces of 2025 with GSO codes: no open source "
    "(geoBoundaries VNM ADM1 has the 63 pre-2025 provinces without GSO codes: "
    "gb_vnm_adm1.geojson)",
    "vn_communes_2009.geojson": "2009 census communes with census codes: no open source "
    "(gb_vnm_adm3.geojson: names only, no codes)",
    "vn_districts_2009.geojson": "2009 census districts with census codes: no open source "
    "(gb_vnm_adm2.geojson: names only, no codes)",
    "vn_provinces_2009.geojson": "2009 census provinces with census codes: no open source "
    "(gb_vnm_adm1.geojson: names only, no codes)",
    "border_lines_wdbii.geojson": "GSHHG WDBII reference lines (optional layer): not fetched",
}
HOW_TO_COMPLETE = (
    "import your own files in contract form, e.g. "
    "`geoborder import communes.shp --layer communes_2025 --to PACK`, "
    "or copy the files from a full source pack"
)


@dataclass
class PackFile:
    file: str
    what: str
    source: str
    urls: list[str]
    licence: str
    attribution: str
    date: str
    sha256: str = ""
    rows: int = 0
    contract: bool = True
    notes: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    files: list[PackFile] = field(default_factory=list)
    downloads: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    created: str = ""
    generator: str = f"geoborder {__version__}"

    @classmethod
    def read(cls, pack: Path) -> Manifest:
        path = Path(pack) / "pack.json"
        if not path.exists():
            return cls()
        doc = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            files=[PackFile(**f) for f in doc.get("files", [])],
            downloads=doc.get("downloads", []),
            missing=doc.get("missing", []),
            failures=doc.get("failures", []),
            created=doc.get("created", ""),
            generator=doc.get("generator", ""),
        )

    def put(self, pf: PackFile):
        self.files = [f for f in self.files if f.file != pf.file] + [pf]
        self.missing = [m for m in self.missing if m["file"] != pf.file]

    def write(self, pack: Path):
        pack = Path(pack)
        doc = {
            "generator": self.generator,
            "created": self.created or now(),
            "files": [asdict(f) for f in sorted(self.files, key=lambda f: f.file)],
            "missing": self.missing,
            "failures": self.failures,
            "downloads": self.downloads,
        }
        (pack / "pack.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        md = pack / "MANIFEST.md"
        if md.exists() and MANIFEST_MARK not in md.read_text(encoding="utf-8"):
            # a pack made by hand: keep its manifest, add ours beside it
            md = pack / "MANIFEST.geoborder.md"
        md.write_text(self.markdown(), encoding="utf-8")

    def markdown(self) -> str:
        out = [
            MANIFEST_MARK,
            "# Source pack (assembled by geoborder)",
            "",
            "Every file is EPSG:4326. `pack.json` holds the same facts in JSON.",
            "",
            "| file | what | source | licence | attribution | date | rows | sha256 |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in sorted(self.files, key=lambda f: f.file):
            kind = "" if f.contract else " (extra: not read by the build)"
            out.append(
                f"| {f.file} | {f.what}{kind} | {f.source}: {' '.join(f.urls)} | {f.licence} | "
                f"{f.attribution} | {f.date} | {f.rows} | `{f.sha256[:16]}…` |"
            )
        notes = [(f.file, n) for f in self.files for n in f.notes]
        if notes:
            out += ["", "## Notes", ""] + [f"- **{fn}**: {n}" for fn, n in notes]
        if self.missing:
            out += [
                "",
                "## Missing: contract files open sources cannot give",
                "",
                f"The build needs those not marked optional; without an optional one its layers are left "
                f"out of the store (the build report says which). To complete the pack, {HOW_TO_COMPLETE}.",
                "",
            ]
            out += [
                f"- **{m['file']}** ({', '.join(m.get('layers', []))}{'; optional' if m.get('optional') else ''}):"
                f" {m['why']}"
                for m in self.missing
            ]
        if self.failures:
            out += ["", "## Sources that failed in the last fetch", ""]
            out += [f"- **{x['source']}**: {x['error']}" for x in self.failures]
        return "\n".join(out) + "\n"


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
