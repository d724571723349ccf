"""`geoborder fetch`'s entry point: every source downloaded, the pack written, what is missing said."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.errors import FetchError
from geoborder.sources.fetch.dem import fetch_dem
from geoborder.sources.fetch.download import Downloader
from geoborder.sources.fetch.geoboundaries import Layers, fetch_layer, write_geoboundaries_files
from geoborder.sources.fetch.manifest import NOT_OPEN, Manifest, now
from geoborder.sources.fetch.options import OSM_LICENCE, FetchOptions
from geoborder.sources.fetch.osm import OsmData, fetch_extract, read_osm
from geoborder.sources.fetch.osm_files import write_osm_files


@dataclass
class FetchResult:
    pack: Path
    manifest: Manifest
    failures: list[dict]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failures


def fetch_pack(
    pack: Path,
    *,
    cache: Path,
    opts: FetchOptions,
    emit: Callable[[str], None] = print,
    progress: bool | None = None,
    pins: dict[str, str] | None = None,
    catalog: Catalog | None = None,
    session=None,
) -> FetchResult:
    """Download every source, write the pack in contract form and its manifest. Never raises for
    one failed source: failures are in the result (and the manifest)."""
    t0 = time.perf_counter()
    catalog = catalog or load_catalog()
    pack = Path(pack)
    pack.mkdir(parents=True, exist_ok=True)
    dl = Downloader(cache, emit=emit, progress=progress, pins=pins, session=session)
    man = Manifest.read(pack)
    man.created, man.missing, man.failures, man.downloads = now(), [], [], []
    failures: list[dict] = []

    gb = _fetch_geoboundaries(dl, opts, man, failures, emit)
    osm, osm_sources = _fetch_osm(dl, opts, man, failures, emit)

    emit("writing the pack:")
    write_geoboundaries_files(pack, gb, man, emit)
    if osm_sources:
        write_osm_files(pack, osm, gb, osm_sources, opts, man, emit)
    if opts.dem:  # after the provinces and border lines are written: they give the DEM's extent
        fetch_dem(dl, pack, opts, man, failures, emit)

    _list_missing(pack, man, catalog)
    man.failures = failures
    man.write(pack)
    emit(
        f"pack {pack}: {len([f for f in man.files if f.contract])} contract files, "
        f"{len(man.missing)} missing, {len(failures)} sources failed"
    )
    return FetchResult(pack=pack, manifest=man, failures=failures, seconds=time.perf_counter() - t0)


def _fetch_geoboundaries(dl: Downloader, opts: FetchOptions, man: Manifest, failures: list[dict], emit) -> Layers:
    """Every level of opts.levels that could be fetched; a failed one goes to `failures`."""
    gb: Layers = {}
    emit("geoBoundaries gbOpen (CC BY 4.0):")
    for iso3, level in opts.levels:
        try:
            lyr = fetch_layer(dl, opts, iso3, level)
        except FetchError as exc:
            failures.append({"source": f"geoBoundaries {iso3} ADM{level}", "error": str(exc)})
            emit(f"  FAILED geoBoundaries {iso3} ADM{level}: {exc}")
            continue
        gb[(iso3, level)] = lyr
        man.downloads.append(
            {
                "source": lyr.name,
                "url": lyr.url,
                "sha256": lyr.sha256,
                "date": lyr.date,
                "licence": lyr.licence,
                "licence_detail": lyr.meta.get("licenseDetail", ""),
                "licence_source": lyr.meta.get("licenseSource", ""),
                "boundary_id": lyr.meta.get("boundaryID", ""),
                "year": lyr.meta.get("boundaryYearRepresented", ""),
            }
        )
    return gb


def _fetch_osm(
    dl: Downloader, opts: FetchOptions, man: Manifest, failures: list[dict], emit
) -> tuple[OsmData, list[tuple[str, str, str]]]:
    """The objects of every extract that could be fetched and read, and (name, URL, date) of those."""
    emit("OpenStreetMap extracts (ODbL):")
    osm = OsmData()
    osm_sources = []
    for iso3 in opts.osm_extracts:
        name = f"OpenStreetMap {iso3} extract"
        try:
            path, rec, url = fetch_extract(dl, opts, iso3)
            read_osm(path, iso3, opts, osm)
        except FetchError as exc:
            failures.append({"source": name, "error": str(exc)})
            emit(f"  FAILED {name}: {exc}")
            continue
        except Exception as exc:  # pyosmium: not a PBF, truncated ...
            failures.append({"source": name, "error": f"cannot read the extract: {exc}"})
            emit(f"  FAILED {name}: cannot read the extract: {exc}")
            continue
        osm_sources.append((name, url, rec["fetched_at"]))
        man.downloads.append(
            {"source": name, "url": url, "sha256": rec["sha256"], "date": rec["fetched_at"], "licence": OSM_LICENCE}
        )
    emit(
        f"  read: {len(osm.roads)} roads, {len(osm.places)} places, {len(osm.gates)} border_control, "
        f"{len(osm.markers)} markers, {len(osm.border_ways)} admin_level=2 ways"
    )
    return osm, osm_sources


def _list_missing(pack: Path, man: Manifest, catalog: Catalog) -> None:
    """Every contract file: present (written now or before), or missing with the reason."""
    have = {f.file for f in man.files if (pack / f.file).exists()}
    man.files = [f for f in man.files if f.file in have]
    listed = {m["file"] for m in man.missing}
    for src in catalog.sources.values():
        if src.file in have or src.file in listed:
            continue
        layers = [lyr.id for lyr in catalog.layers if lyr.source is not None and lyr.source.file == src.file]
        why = NOT_OPEN.get(src.file) or "its open source failed in this fetch (see failures)"
        optional = all(catalog.layer(lid).optional for lid in layers)
        man.missing.append({"file": src.file, "layers": layers, "why": why, "optional": optional})
    for m in man.missing:
        m.setdefault(
            "layers", [lyr.id for lyr in catalog.layers if lyr.source is not None and lyr.source.file == m["file"]]
        )


def read_pins(path: Path) -> dict[str, str]:
    """URL -> sha256 from the `downloads` of an earlier pack.json (to fetch exactly the same files)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return {d["url"]: d["sha256"] for d in doc.get("downloads", []) if d.get("url") and d.get("sha256")}
