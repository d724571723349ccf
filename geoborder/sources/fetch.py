"""`geoborder fetch`: assemble a source pack from open sources.

- geoBoundaries gbOpen (CC BY 4.0) through its API: ``{base}/gbOpen/{ISO3}/ADM{n}/`` answers a
  JSON object whose ``gjDownloadURL`` (full resolution) and ``simplifiedGeometryGeoJSON`` name the
  GeoJSON, with ``boundaryLicense``, ``licenseDetail``, ``licenseSource``, ``boundarySource``,
  ``boundaryYearRepresented`` and ``buildDate`` for the manifest. Features carry ``shapeName``,
  ``shapeISO``, ``shapeID``.
- OpenStreetMap extracts (ODbL) as PBF, read with pyosmium: roads, settlements, border gates,
  border markers and the admin_level=2 boundary.

Downloads are cached (by URL, with their sha256 in ``index.json``), resumed with HTTP Range after
a cut connection, and verified against a known checksum when there is one (a previous download,
a ``--pin`` manifest, or the ``.md5`` file an extract server publishes). A source that fails is
reported by name and the others still complete.

The pack follows the contract of ``layers/catalog.toml`` for every file an open source can give;
``pack.json`` and ``MANIFEST.md`` record URL, licence, attribution, date and sha256 of every file,
and list the contract files that open sources cannot give.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoborder import __version__
from geoborder.core.catalog import Catalog, load_catalog
from geoborder.core.errors import FetchError
from geoborder.core.files import sha256_file
from geoborder.core.text import _ascii

WGS84 = "EPSG:4326"
METRIC = "EPSG:3405"
MANIFEST_MARK = "<!-- written by geoborder; edit pack.json, not this file -->"

GB_LEVELS: tuple[tuple[str, int], ...] = (
    ("VNM", 1),
    ("VNM", 2),
    ("VNM", 3),
    ("LAO", 1),
    ("LAO", 2),
    ("CHN", 1),
    ("CHN", 2),
    ("CHN", 3),
    ("KHM", 1),
    ("KHM", 2),
)
# OSM extracts by country (Geofabrik names). China's (~1.3 GB) is not fetched by default: the
# Vietnamese extract holds both sides of the VN-CN line near it.
OSM_EXTRACTS = {
    "VNM": "vietnam-latest.osm.pbf",
    "LAO": "laos-latest.osm.pbf",
    "KHM": "cambodia-latest.osm.pbf",
    "CHN": "china-latest.osm.pbf",
}
DEFAULT_OSM = ("VNM", "LAO", "KHM")
ISO2 = {"VNM": "VN", "LAO": "LA", "CHN": "CN", "KHM": "KH"}
ISO3 = {v: k for k, v in ISO2.items()}
PARTNERS = ("LAO", "CHN", "KHM")

OSM_LICENCE = "ODbL 1.0"
OSM_ATTRIBUTION = "(c) OpenStreetMap contributors"

# highway=* -> (loai_duong, cap_duong). Vietnamese OSM practice: trunk = quốc lộ, primary = đường
# tỉnh, secondary = đường huyện (wiki.openstreetmap.org/wiki/Vi:Vietnam/Highway tagging).
ROAD_CLASSES = {
    "motorway": ("Đường cao tốc", "Quốc Gia"),
    "trunk": ("Quốc lộ", "Quốc Gia"),
    "primary": ("Đường tỉnh", "Cấp Tỉnh"),
    "secondary": ("Đường huyện", "Cấp Huyện"),
    "tertiary": ("Đường xã", "Cấp Xã"),
    "unclassified": ("Đường địa phương", "Khác"),
}
PLACE_KINDS = ("city", "town", "village", "hamlet", "isolated_dwelling")
GATE_MAX_KM = 10.0  # a border_control node farther than this from the land border is not a gate
MARKER_MAX_KM = 2.0  # a boundary stone farther than this from the border is not a border marker
PARTNER_MAX_KM = 2.0  # a VN boundary way within this of a partner unit borders that partner

# contract files open sources cannot give, and what the pack has instead
NOT_OPEN = {
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


# --------------------------------------------------------------------------- manifest


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
            "created": self.created or _now(),
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


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


# --------------------------------------------------------------------------- downloads


class Downloader:
    """Cached, resumable, verified HTTP downloads.

    The cache holds one file per URL and ``index.json`` (URL -> file, sha256, size, date). A cached
    file whose sha256 no longer matches is refused and fetched again; an interrupted download is
    kept as ``.part`` and resumed with a Range request.
    """

    def __init__(
        self,
        cache: Path,
        *,
        retries: int = 3,
        timeout: float = 60.0,
        progress: bool | None = None,
        emit: Callable[[str], None] = print,
        session=None,
        pins: dict[str, str] | None = None,
    ):
        import requests

        self.cache = Path(cache)
        self.cache.mkdir(parents=True, exist_ok=True)
        self.retries, self.timeout, self.progress, self.emit = retries, timeout, progress, emit
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", f"geoborder/{__version__} (+fetch)")
        self.pins = dict(pins or {})
        self._index_path = self.cache / "index.json"
        self.index: dict[str, dict] = (
            json.loads(self._index_path.read_text(encoding="utf-8")) if self._index_path.exists() else {}
        )

    def _save_index(self):
        self._index_path.write_text(json.dumps(self.index, indent=1, sort_keys=True), encoding="utf-8")

    def _path_for(self, url: str) -> Path:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", url.rstrip("/").rsplit("/", 1)[-1])[:80] or "download"
        return self.cache / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{name}"

    def get_json(self, url: str, *, source: str):
        """A small JSON answer (an API's). The last good answer is kept in the cache and used, with
        a message, when the server cannot be reached or fails."""
        import requests

        saved = self._path_for(url).with_suffix(".answer.json")
        last = None
        for _attempt in range(self.retries):
            try:
                r = self.session.get(url, timeout=self.timeout)
            except requests.RequestException as exc:
                last = FetchError(f"cannot reach the server: {exc.__class__.__name__}", source=source, url=url)
                continue
            if r.status_code >= 500:
                last = FetchError(f"HTTP {r.status_code}", source=source, url=url)
                continue
            if r.status_code >= 400:
                last = FetchError(f"HTTP {r.status_code}", source=source, url=url)
                break
            try:
                doc = r.json()
            except ValueError:
                last = FetchError("the answer is not JSON", source=source, url=url)
                break
            saved.write_text(json.dumps(doc), encoding="utf-8")
            return doc
        if saved.exists() and last is not None and "HTTP 404" not in str(last):
            when = datetime.fromtimestamp(saved.stat().st_mtime, UTC).replace(microsecond=0).isoformat()
            self.emit(f"  {source}: {last.message}; using the answer cached at {when}")
            return json.loads(saved.read_text(encoding="utf-8"))
        raise last

    def fetch(
        self, url: str, *, source: str, expected_sha256: str | None = None, expected_md5: str | None = None
    ) -> tuple[Path, dict]:
        """The file at `url` in the cache (downloaded, resumed or reused), and its index record."""
        import requests
        import urllib3

        expected_sha256 = expected_sha256 or self.pins.get(url)
        dest = self._path_for(url)
        rec = self.index.get(url)
        if rec and dest.exists():
            sha = sha256_file(dest)
            want = expected_sha256 or rec.get("sha256")
            if sha == want:
                self.emit(f"  {source}: cached ({dest.name}, sha256 {sha[:12]}…)")
                return dest, rec
            self.emit(
                f"  {source}: cached file {dest.name} fails its checksum "
                f"(sha256 {sha[:12]}… instead of {want[:12]}…): refused, fetching again"
            )
            dest.unlink()
        part = dest.with_name(dest.name + ".part")
        attempt = 0
        while True:
            attempt += 1
            if attempt > self.retries + 1:
                raise FetchError(f"gave up after {self.retries + 1} attempts", source=source, url=url)
            have = part.stat().st_size if part.exists() else 0
            # identity: byte ranges must count the bytes of the file, not of a compressed stream
            headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={have}-"} if have else {})}
            try:
                r = self.session.get(url, headers=headers, stream=True, timeout=self.timeout)
            except requests.RequestException as exc:
                self.emit(f"  {source}: {exc.__class__.__name__}; retrying")
                continue
            with r:
                if r.status_code == 416 and have:  # the part is already whole (or stale)
                    part.unlink()
                    continue
                if r.status_code >= 500:
                    self.emit(f"  {source}: HTTP {r.status_code}; retrying")
                    if attempt > self.retries:
                        raise FetchError(f"HTTP {r.status_code}", source=source, url=url)
                    continue
                if r.status_code >= 400:
                    raise FetchError(f"HTTP {r.status_code}", source=source, url=url)
                if have and r.status_code == 200:  # the server ignored Range: start again
                    self.emit(f"  {source}: the server does not resume; downloading from the start")
                    have = 0
                resumed = r.status_code == 206
                if resumed:
                    self.emit(f"  {source}: resuming at byte {have:,}")
                length = r.headers.get("Content-Length")
                total = have + int(length) if length is not None else None
                try:
                    self._stream(r, part, append=resumed, start=have, total=total, label=source)
                except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                    got = part.stat().st_size if part.exists() else 0
                    self.emit(f"  {source}: connection lost at byte {got:,} ({exc.__class__.__name__}); will resume")
                    continue
            size = part.stat().st_size
            if total is not None and size < total:
                self.emit(f"  {source}: short read ({size:,} of {total:,} bytes); will resume")
                continue
            sha = sha256_file(part)
            bad = None
            if expected_sha256 and sha != expected_sha256:
                bad = f"sha256 {sha[:12]}… is not the expected {expected_sha256[:12]}…"
            elif expected_md5 and sha256_file(part, "md5") != expected_md5:
                bad = f"md5 is not the published {expected_md5}"
            if bad:
                part.unlink()
                self.emit(f"  {source}: checksum mismatch ({bad}): file refused, fetching again")
                if attempt > self.retries:
                    raise FetchError(f"checksum mismatch after {attempt} attempts: {bad}", source=source, url=url)
                continue
            part.replace(dest)
            rec = {"file": dest.name, "sha256": sha, "size": size, "fetched_at": _now(), "url": url}
            self.index[url] = rec
            self._save_index()
            self.emit(f"  {source}: downloaded {size:,} bytes (sha256 {sha[:12]}…)")
            return dest, rec

    def _stream(self, r, part: Path, *, append: bool, start: int, total: int | None, label: str):
        from tqdm import tqdm

        with (
            open(part, "ab" if append else "wb") as fh,
            tqdm(
                total=total,
                initial=start if append else 0,
                unit="B",
                unit_scale=True,
                desc=label,
                disable=None if self.progress is None else not self.progress,
                leave=False,
            ) as bar,
        ):
            # read1: every byte that arrived is written before a cut connection raises, so that
            # the next request resumes exactly where this one stopped
            read = getattr(r.raw, "read1", None)
            chunks = iter(lambda: read(1 << 16), b"") if read else r.iter_content(chunk_size=1 << 16)
            for chunk in chunks:
                if chunk:
                    fh.write(chunk)
                    fh.flush()
                    bar.update(len(chunk))


# --------------------------------------------------------------------------- sources


@dataclass
class FetchOptions:
    geoboundaries_url: str
    osm_url: str
    levels: tuple[tuple[str, int], ...] = GB_LEVELS
    osm_extracts: tuple[str, ...] = DEFAULT_OSM
    simplified: bool = True
    road_classes: tuple[str, ...] = tuple(ROAD_CLASSES)
    with_railways: bool = True


@dataclass
class GbLayer:
    iso3: str
    level: int
    gdf: gpd.GeoDataFrame
    meta: dict
    url: str
    sha256: str
    date: str

    @property
    def name(self) -> str:
        return f"geoBoundaries {self.iso3} ADM{self.level}"

    @property
    def licence(self) -> str:
        return self.meta.get("boundaryLicense") or "CC BY 4.0"

    @property
    def attribution(self) -> str:
        src = self.meta.get("boundarySource") or ""
        return f"geoBoundaries gbOpen {self.iso3} ADM{self.level}" + (f" (source: {src})" if src else "")


@dataclass
class FetchResult:
    pack: Path
    manifest: Manifest
    failures: list[dict]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failures


def _gb_fetch(dl: Downloader, opts: FetchOptions, iso3: str, level: int) -> GbLayer:
    name = f"geoBoundaries {iso3} ADM{level}"
    api = f"{opts.geoboundaries_url.rstrip('/')}/gbOpen/{iso3}/ADM{level}/"
    meta = dl.get_json(api, source=name)
    if isinstance(meta, list):  # the API answers a list for ALL queries
        meta = meta[0] if meta else {}
    if not isinstance(meta, dict):
        raise FetchError("unexpected API answer (not a JSON object)", source=name, url=api)
    keys = (
        ("simplifiedGeometryGeoJSON", "gjDownloadURL")
        if opts.simplified
        else ("gjDownloadURL", "simplifiedGeometryGeoJSON")
    )
    urls = [meta[k] for k in keys if meta.get(k)]
    if not urls:
        raise FetchError(f"the API answer has neither {' nor '.join(keys)}", source=name, url=api)
    gdf = None
    for n, url in enumerate(urls):  # the preferred file, else the other resolution
        try:
            path, rec = dl.fetch(url, source=name)
            if path.open("rb").read(200).startswith(b"version https://git-lfs"):
                path.unlink()
                dl.index.pop(url, None)
                raise FetchError("the server sent a Git LFS pointer, not the GeoJSON", source=name, url=url)
            try:
                gdf = pyogrio.read_dataframe(path)
            except Exception as exc:
                raise FetchError(f"not a readable GeoJSON: {exc}", source=name, url=url) from exc
            break
        except FetchError as exc:
            if n + 1 == len(urls):
                raise
            dl.emit(f"  {name}: {exc}; trying {keys[n + 1]}")
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    gdf = gdf.to_crs(WGS84)
    for col in ("shapeName", "shapeISO", "shapeID"):
        if col not in gdf.columns:
            raise FetchError(f"the GeoJSON has no {col} property", source=name, url=url)
    return GbLayer(iso3, level, gdf, meta, url, rec["sha256"], rec["fetched_at"])


def _extract_url(opts: FetchOptions, iso3: str) -> str:
    return f"{opts.osm_url.rstrip('/')}/{OSM_EXTRACTS[iso3]}"


def _osm_fetch(dl: Downloader, opts: FetchOptions, iso3: str) -> tuple[Path, dict, str]:
    name = f"OpenStreetMap {iso3} extract"
    url = _extract_url(opts, iso3)
    md5 = None
    try:  # extract servers publish <file>.md5; when they do, the download is checked against it
        import requests

        r = dl.session.get(url + ".md5", timeout=dl.timeout)
        if r.status_code == 200 and re.match(r"^[0-9a-f]{32}\b", r.text.strip()):
            md5 = r.text.split()[0]
    except requests.RequestException:
        pass
    path, rec = dl.fetch(url, source=name, expected_md5=md5)
    return path, rec, url


# --------------------------------------------------------------------------- OSM reading


@dataclass
class OsmData:
    roads: list[dict] = field(default_factory=list)
    places: list[dict] = field(default_factory=list)
    gates: list[dict] = field(default_factory=list)
    markers: list[dict] = field(default_factory=list)
    border_ways: dict[int, dict] = field(default_factory=dict)  # way id -> {coords, countries, tags}
    countries_found: set = field(default_factory=set)
    seen: set = field(default_factory=set)  # ("n" | "w", id): extracts overlap near borders


def read_osm(path: Path, extract_iso3: str, opts: FetchOptions, data: OsmData | None = None) -> OsmData:
    """Roads, places, gates, markers and admin_level=2 boundary ways of one OSM file (pyosmium)."""
    import osmium

    data = data or OsmData()
    way_country: dict[int, set] = {}
    for rel in osmium.FileProcessor(str(path), osmium.osm.RELATION):
        t = rel.tags
        if t.get("boundary") != "administrative" or t.get("admin_level") != "2":
            continue
        iso2 = t.get("ISO3166-1") or t.get("ISO3166-1:alpha2") or ""
        if iso2 not in ISO3:
            continue
        data.countries_found.add(ISO3[iso2])
        for m in rel.members:
            if m.type == "w" and m.role in ("outer", "", "inner"):
                way_country.setdefault(m.ref, set()).add(ISO3[iso2])

    classes = set(opts.road_classes)
    all_roads = "all" in classes

    def coords_of(w):
        pts = [(n.lon, n.lat) for n in w.nodes if n.location.valid()]
        return pts if len(pts) >= 2 else None

    for obj in osmium.FileProcessor(str(path)).with_locations():
        t = obj.tags
        if obj.is_node():
            if not len(t):
                continue  # most nodes: only a location for the ways
            key = ("n", obj.id)
        elif obj.is_way():
            key = ("w", obj.id)
        else:
            continue
        if key in data.seen:  # extracts overlap near borders: keep one copy
            if key[0] == "w" and obj.id in way_country and obj.id in data.border_ways:
                data.border_ways[obj.id]["countries"] |= way_country[obj.id]
            continue
        if obj.is_node():
            place = t.get("place") in PLACE_KINDS and bool(t.get("name") or t.get("name:vi"))
            gate = t.get("barrier") == "border_control"
            marker = t.get("boundary") == "marker" or t.get("historic") == "boundary_stone"
            if not (place or gate or marker):
                continue
            data.seen.add(key)  # only the nodes kept
            lon, lat = obj.location.lon, obj.location.lat
            tags = dict(t)
            if place:
                data.places.append({"id": obj.id, "lon": lon, "lat": lat, "tags": tags, "extract": extract_iso3})
            if gate:
                data.gates.append({"id": obj.id, "type": "node", "lon": lon, "lat": lat, "tags": tags})
            if marker:
                data.markers.append({"id": obj.id, "lon": lon, "lat": lat, "tags": tags})
        elif obj.is_way():
            hw = t.get("highway")
            base = hw[:-5] if hw and hw.endswith("_link") else hw
            is_rail = opts.with_railways and t.get("railway") == "rail"
            if (
                (hw and (all_roads or base in classes))
                or is_rail
                or obj.id in way_country
                or t.get("barrier") == "border_control"
            ):
                data.seen.add(key)  # only the ways kept, not every building
            if (hw and (all_roads or base in classes)) or is_rail:
                c = coords_of(obj)
                if c:
                    data.roads.append({"id": obj.id, "coords": c, "tags": dict(t), "rail": is_rail and not hw})
            if obj.id in way_country:
                c = coords_of(obj)
                if c:
                    data.border_ways[obj.id] = {"coords": c, "countries": set(way_country[obj.id]), "tags": dict(t)}
            if t.get("barrier") == "border_control":
                c = coords_of(obj)
                if c:
                    x, y = np.mean(np.array(c), axis=0)
                    data.gates.append({"id": obj.id, "type": "way", "lon": float(x), "lat": float(y), "tags": dict(t)})
    return data


# --------------------------------------------------------------------------- spatial helpers


class Units:
    """Polygons of one admin level (any countries), for 'which unit holds / is nearest' questions."""

    def __init__(self, gdf: gpd.GeoDataFrame | None):
        self.gdf = gdf if gdf is not None and len(gdf) else None
        if self.gdf is not None:
            self.geoms_m = _to_metric(self.gdf.geometry.values)
            self.tree = shapely.STRtree(self.geoms_m)

    def nearest(self, pts_m: np.ndarray, max_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Row of the unit holding or nearest each point (-1 beyond max_m), and the distance."""
        n = len(pts_m)
        if self.gdf is None or n == 0:
            return np.full(n, -1), np.full(n, np.inf)
        (pi, ui), dist = self.tree.query_nearest(pts_m, max_distance=max_m, return_distance=True, all_matches=False)
        idx = np.full(n, -1)
        d = np.full(n, np.inf)
        idx[pi] = ui
        d[pi] = dist
        return idx, d

    def value(self, idx: np.ndarray, col: str) -> list:
        if self.gdf is None:
            return [None] * len(idx)
        vals = self.gdf[col].to_numpy()
        return [vals[i] if i >= 0 else None for i in idx]


def _to_metric(geoms) -> np.ndarray:
    from geoborder.core.crs import reproject

    return reproject(np.asarray(geoms, dtype=object), WGS84, METRIC)


def _concat(layers: Iterable[GbLayer]) -> gpd.GeoDataFrame | None:
    frames = []
    for lyr in layers:
        g = lyr.gdf[["shapeName", "shapeISO", "shapeID", "geometry"]].copy()
        g["_iso3"] = lyr.iso3
        frames.append(g)
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)


# --------------------------------------------------------------------------- contract files


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path):
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(gdf, path, driver="GeoJSON", layer_options={"RFC7946": "YES"})


def _write_csv(df: pd.DataFrame, path: Path):
    df.to_csv(path, index=False, encoding="utf-8")


def _name(tags: dict) -> str | None:
    return tags.get("name:vi") or tags.get("name") or None


def _geoboundaries_files(pack: Path, gb: dict[tuple[str, int], GbLayer], man: Manifest, emit):
    """partner_* contract files and the extra geoBoundaries layers."""

    def record(file, what, layers: list[GbLayer], rows, contract=True, notes=()):
        man.put(
            PackFile(
                file=file,
                what=what,
                source="geoBoundaries gbOpen",
                urls=[lyr.url for lyr in layers],
                licence=layers[0].licence,
                attribution="; ".join(lyr.attribution for lyr in layers),
                date=max(lyr.date for lyr in layers),
                sha256=sha256_file(pack / file),
                rows=rows,
                contract=contract,
                notes=list(notes),
            )
        )
        emit(f"  wrote {file} ({rows} features)")

    lao1 = gb.get(("LAO", 1))
    if lao1 is not None:
        g = lao1.gdf[["shapeISO", "shapeName", "shapeID", "geometry"]]
        _write_geojson(g, pack / "partner_lao_provinces.geojson")
        empty = int((g["shapeISO"].fillna("") == "").sum())
        record(
            "partner_lao_provinces.geojson",
            "Lao provinces (ADM1)",
            [lao1],
            len(g),
            notes=[f"{empty} provinces without shapeISO: the build needs it"] if empty else [],
        )
    lao2 = gb.get(("LAO", 2))
    if lao2 is not None and lao1 is not None:
        g = lao2.gdf[["shapeName", "shapeISO", "shapeID", "geometry"]].copy()
        prov = Units(lao1.gdf)
        idx, _ = prov.nearest(_to_metric(shapely.point_on_surface(g.geometry.values)), 5000)
        g["prov_iso"] = prov.value(idx, "shapeISO")
        g["prov_name"] = prov.value(idx, "shapeName")
        _write_geojson(gpd.GeoDataFrame(g, crs=WGS84), pack / "partner_lao_districts.geojson")
        record(
            "partner_lao_districts.geojson",
            "Lao districts (ADM2) with their province",
            [lao2, lao1],
            len(g),
            notes=["prov_iso / prov_name: the ADM1 unit holding a point inside each district"],
        )
    # countries VN, LA, KH dissolved from ADM1; Yunnan and Guangxi from CHN ADM1
    parts, used = [], []
    for iso3, code in (("VNM", "VN"), ("LAO", "LA"), ("KHM", "KH")):
        lyr = gb.get((iso3, 1))
        if lyr is not None:
            parts.append(
                {
                    "code": code,
                    "geometry": shapely.make_valid(
                        shapely.union_all(shapely.make_valid(np.asarray(lyr.gdf.geometry.values, dtype=object)))
                    ),
                }
            )
            used.append(lyr)
    chn = gb.get(("CHN", 1))
    if chn is not None:
        for code, iso_codes, word in (
            ("CN.YN", ("CN-YN", "CN-53"), "yunnan"),
            ("CN.GX", ("CN-GX", "CN-45"), "guangxi"),
        ):
            hit = chn.gdf[
                chn.gdf["shapeISO"].isin(iso_codes) | chn.gdf["shapeName"].fillna("").str.lower().str.contains(word)
            ]
            if len(hit):
                parts.append(
                    {"code": code, "geometry": shapely.union_all(np.asarray(hit.geometry.values, dtype=object))}
                )
        used.append(chn)
    if parts:
        g = gpd.GeoDataFrame(parts, geometry="geometry", crs=WGS84)
        _write_geojson(g, pack / "partner_dcw_countries_and_china_provinces.geojson")
        have = sorted(g["code"])
        notes = [
            "not DCW: country polygons are geoBoundaries ADM1 dissolved; Yunnan and Guangxi are "
            "geoBoundaries CHN ADM1 units"
        ]
        lacking = sorted({"VN", "LA", "KH", "CN.YN", "CN.GX"} - set(have))
        if lacking:
            notes.append(f"lacking {lacking}: the build needs all five codes")
        record(
            "partner_dcw_countries_and_china_provinces.geojson",
            "countries VN, LA, KH and Chinese provinces Yunnan, Guangxi",
            used,
            len(g),
            notes=notes,
        )
    # the other levels, as fetched (names, ISO codes, geoBoundaries ids). The VNM ones are read by
    # the build (layers communes_gb, districts_gb, provinces_gb); the others are extras.
    extra = {
        ("VNM", 1): "pre-2025 provinces of Vietnam (no GSO codes)",
        ("VNM", 2): "pre-2025 districts of Vietnam (no GSO codes)",
        ("VNM", 3): "pre-2025 communes of Vietnam (no GSO codes)",
        ("CHN", 2): "Chinese prefectures",
        ("CHN", 3): "Chinese counties (e.g. Maguan, Hekou)",
        ("KHM", 1): "Cambodian provinces",
        ("KHM", 2): "Cambodian districts",
        ("CHN", 1): "Chinese provinces",
    }
    for (iso3, level), what in extra.items():
        lyr = gb.get((iso3, level))
        if lyr is None:
            continue
        file = f"gb_{iso3.lower()}_adm{level}.geojson"
        _write_geojson(lyr.gdf[["shapeName", "shapeISO", "shapeID", "geometry"]], pack / file)
        record(file, what, [lyr], len(lyr.gdf), contract=iso3 == "VNM")


def _osm_files(
    pack: Path,
    osm: OsmData,
    gb: dict[tuple[str, int], GbLayer],
    sources: list[tuple[str, str, str]],
    opts: FetchOptions,
    man: Manifest,
    emit,
):
    """border_lines_osm, roads_national, places_geonames, gates_curated.csv, markers_published.csv."""
    urls = [u for _, u, _ in sources]
    date = max(d for _, _, d in sources)
    attribution = f"{OSM_ATTRIBUTION}, extracts {', '.join(n for n, _, _ in sources)}"

    def record(file, what, rows, notes=()):
        man.put(
            PackFile(
                file=file,
                what=what,
                source="OpenStreetMap",
                urls=urls,
                licence=OSM_LICENCE,
                attribution=attribution,
                date=date,
                sha256=sha256_file(pack / file),
                rows=rows,
                notes=list(notes),
            )
        )
        emit(f"  wrote {file} ({rows} features)")

    partner1 = Units(_concat([gb[(i, 1)] for i in PARTNERS if (i, 1) in gb]))
    partner2 = Units(_concat([gb[(i, 2)] for i in PARTNERS if (i, 2) in gb]))
    vn = {lvl: Units(_concat([gb[("VNM", lvl)]]) if ("VNM", lvl) in gb else None) for lvl in (1, 2, 3)}

    # ---- border lines: ways of VN's admin_level=2 relation shared with a partner's, or, when the
    # partner's relation is not in the extracts, ways within PARTNER_MAX_KM of a partner unit
    rows, notes = [], []
    for wid, w in osm.border_ways.items():
        if "VNM" not in w["countries"] or w["tags"].get("maritime") == "yes":
            continue
        shared = sorted(w["countries"] & set(PARTNERS))
        line = shapely.linestrings(w["coords"])
        if shared:
            partner, how = shared[0], "relation"
        else:
            idx, _ = partner1.nearest(
                _to_metric([shapely.line_interpolate_point(line, 0.5, normalized=True)]), PARTNER_MAX_KM * 1000
            )
            if idx[0] < 0:
                continue  # coastline or a way of VN's outline away from any land neighbour
            partner, how = partner1.gdf["_iso3"].iat[idx[0]], "nearest partner unit"
        rows.append({"way": wid, "partner": partner, "how": how, "geometry": line})
    if rows:
        df = pd.DataFrame(rows)
        out = []
        for partner, grp in df.groupby("partner"):
            merged = shapely.line_merge(shapely.multilinestrings(list(grp["geometry"])))
            out.append(
                {
                    "pair": f"VNM-{partner}",
                    "osm_ways": len(grp),
                    "assigned_by": ", ".join(sorted(set(grp["how"]))),
                    "geometry": merged,
                }
            )
        g = gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)
        _write_geojson(g, pack / "border_lines_osm.geojson")
        lacking = sorted({"VNM-LAO", "VNM-CHN", "VNM-KHM"} - set(g["pair"]))
        if lacking:
            notes.append(f"no line for {lacking} in the extracts fetched")
        if "VNM" not in osm.countries_found:
            notes.append("Vietnam's admin_level=2 relation was not in the extracts")
        record(
            "border_lines_osm.geojson",
            "Vietnam's land boundary per partner country (ways of the admin_level=2 relations)",
            len(g),
            notes,
        )
        border_m = _to_metric(g.geometry.values)
        border_pair = list(g["pair"])
    else:
        border_m, border_pair = np.array([], dtype=object), []
        man.missing.append(
            {
                "file": "border_lines_osm.geojson",
                "layers": ["border_lines"],
                "why": "no admin_level=2 boundary way of Vietnam found in the OSM extracts",
            }
        )

    def near_border(pts_m):
        """Distance (m) of each point to the nearest border line, and that line's pair."""
        if not len(border_m) or not len(pts_m):
            return np.full(len(pts_m), np.inf), [None] * len(pts_m)
        tree = shapely.STRtree(border_m)
        (pi, li), d = tree.query_nearest(pts_m, return_distance=True, all_matches=False)
        dist = np.full(len(pts_m), np.inf)
        pair = [None] * len(pts_m)
        dist[pi] = d
        for p, l_ in zip(pi, li):
            pair[p] = border_pair[l_]
        return dist, pair

    # ---- roads
    road_rows = []
    for r in osm.roads:
        t = r["tags"]
        if r["rail"]:
            kind, cls = "Đường sắt", "Đường sắt"
        else:
            base = t["highway"][:-5] if t["highway"].endswith("_link") else t["highway"]
            kind, cls = ROAD_CLASSES.get(base, (f"Đường khác ({base})", "Khác"))
        road_rows.append(
            {
                "gid": r["id"],
                "ten": _name(t) or t.get("ref"),
                "loai_duong": kind,
                "cap_duong": cls,
                "ref": t.get("ref"),
                "osm_highway": t.get("highway") or "",
                "osm_id": f"way/{r['id']}",
                "geometry": shapely.linestrings(r["coords"]),
            }
        )
    if road_rows:
        g = gpd.GeoDataFrame(road_rows, geometry="geometry", crs=WGS84).sort_values("gid", kind="stable")
        g["chieu_dai"] = np.round(shapely.length(_to_metric(g.geometry.values)), 1)
        _write_geojson(g, pack / "roads_national.geojson")
        record(
            "roads_national.geojson",
            "roads (highway=" + "|".join(opts.road_classes) + ") and railways",
            len(g),
            [
                "loai_duong / cap_duong: OSM highway class read with the Vietnamese convention "
                "trunk = quốc lộ, primary = đường tỉnh, secondary = đường huyện; osm_highway keeps the tag",
                "gid is the OSM way id",
            ],
        )
    else:
        man.missing.append({"file": "roads_national.geojson", "layers": ["roads"], "why": "no road in the extracts"})

    # ---- places
    if osm.places:
        pts = shapely.points([(p["lon"], p["lat"]) for p in osm.places])
        idx_vn, _ = vn[1].nearest(_to_metric(pts), 1.0) if vn[1] else (np.full(len(pts), -1), None)
        idx_p, _ = partner1.nearest(_to_metric(pts), 1.0)
        rows = []
        for k, p in enumerate(osm.places):
            t = p["tags"]
            if idx_vn[k] >= 0:
                cc = "VN"
            elif idx_p[k] >= 0:
                cc = ISO2[partner1.gdf["_iso3"].iat[idx_p[k]]]
            else:
                cc = ISO2[p["extract"]]
            name = _name(t)
            pop = t.get("population", "")
            rows.append(
                {
                    "geonameid": f"osm:node/{p['id']}",
                    "name": name,
                    "asciiname": t.get("name:en") or _ascii(name).title(),
                    "fcode": t["place"],
                    "cc": cc,
                    "population": int(pop) if str(pop).isdigit() else None,
                    "geometry": shapely.points(p["lon"], p["lat"]),
                }
            )
        g = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84).drop_duplicates("geonameid")
        _write_geojson(g, pack / "places_geonames.geojson")
        record(
            "places_geonames.geojson",
            "settlements (place=" + "|".join(PLACE_KINDS) + ", named nodes)",
            len(g),
            [
                "not GeoNames: geonameid holds the OSM node id, fcode the place=* value, cc the country "
                "whose unit holds the point; population only where OSM has one; no elevation (dem)"
            ],
        )
    else:
        man.missing.append({"file": "places_geonames.geojson", "layers": ["places"], "why": "no named place node"})

    def vn_units(pts_m):
        out = {}
        for lvl, col in ((1, "vn_province"), (2, "vn_district"), (3, "vn_commune")):
            u = vn[lvl]
            if u is None:
                out[col] = [None] * len(pts_m)
                continue
            idx, _ = u.nearest(pts_m, 5000)
            out[col] = u.value(idx, "shapeName")
        return out

    # ---- gates: border_control on the Vietnamese side, near the land border
    if osm.gates:
        pts_m = _to_metric(shapely.points([(x["lon"], x["lat"]) for x in osm.gates]))
        dist, pair = near_border(pts_m)
        inside_vn, _ = vn[1].nearest(pts_m, 200.0) if vn[1] else (np.zeros(len(pts_m)), None)
        # without Vietnam's units the side of the border cannot be told: every point near it is kept
        keep = [
            k
            for k in range(len(osm.gates))
            if (not len(border_m) or dist[k] <= GATE_MAX_KM * 1000) and inside_vn[k] >= 0
        ]
        p1, _ = partner1.nearest(pts_m, 30_000)
        p2, _ = partner2.nearest(pts_m, 30_000)
        units = vn_units(pts_m)
        rows = []
        for k in keep:
            x = osm.gates[k]
            t = x["tags"]
            ref = f"{x['type']}/{x['id']}"
            name = _name(t) or f"(không tên) OSM {ref}"
            partner = (pair[k] or "").split("-")[-1] or (partner1.gdf["_iso3"].iat[p1[k]] if p1[k] >= 0 else "")
            rows.append(
                {
                    "name_vi": name,
                    "name_ascii": _ascii(name),
                    "partner_gate": None,
                    "partner_country_iso3": partner,
                    "partner_admin1": partner1.value([p1[k]], "shapeName")[0],
                    "partner_admin2": partner2.value([p2[k]], "shapeName")[0],
                    "class": "unknown (OpenStreetMap barrier=border_control; the class is not in OSM)",
                    "vn_province": units["vn_province"][k],
                    "vn_district": units["vn_district"][k],
                    "vn_commune": units["vn_commune"][k],
                    "lat": round(x["lat"], 7),
                    "lon": round(x["lon"], 7),
                    "coord_source": f"OpenStreetMap {ref}",
                    "fact_source": f"OpenStreetMap {ref}",
                    "confidence": "osm",
                    "notes": "; ".join(
                        f"{a}={b}" for a, b in sorted(t.items()) if a not in ("barrier", "name", "name:vi")
                    )[:300],
                }
            )
        df = pd.DataFrame(
            rows,
            columns=[
                "name_vi",
                "name_ascii",
                "partner_gate",
                "partner_country_iso3",
                "partner_admin1",
                "partner_admin2",
                "class",
                "vn_province",
                "vn_district",
                "vn_commune",
                "lat",
                "lon",
                "coord_source",
                "fact_source",
                "confidence",
                "notes",
            ],
        )
        _write_csv(df, pack / "gates_curated.csv")
        record(
            "gates_curated.csv",
            f"border gates: barrier=border_control on the Vietnamese side within {GATE_MAX_KM:g} km of the land border",
            len(df),
            [
                f"not the curated list: no gate class (international / main / secondary), no partner gate name; "
                f"{len(osm.gates) - len(keep)} border_control points dropped (partner side, or farther than "
                f"{GATE_MAX_KM:g} km from the border)",
                "vn_province / vn_district / vn_commune: geoBoundaries VNM units (pre-2025 names) holding the point",
            ],
        )
    else:
        man.missing.append(
            {
                "file": "gates_curated.csv",
                "layers": ["gates"],
                "why": "no barrier=border_control in the extracts; the curated list (classes, "
                "partner gates) has no open source",
            }
        )

    # ---- markers
    if osm.markers:
        pts_m = _to_metric(shapely.points([(x["lon"], x["lat"]) for x in osm.markers]))
        dist, pair = near_border(pts_m)
        keep = [k for k in range(len(osm.markers)) if not len(border_m) or dist[k] <= MARKER_MAX_KM * 1000]
        units = vn_units(pts_m)
        rows = []
        for k in keep:
            x = osm.markers[k]
            t = x["tags"]
            border = f"VN-{ISO2[pair[k].split('-')[1]]}" if pair[k] and pair[k].split("-")[1] in ISO2 else ""
            rows.append(
                {
                    "marker": t.get("ref") or t.get("name") or f"OSM node/{x['id']}",
                    "border": border,
                    "vn_province": units["vn_province"][k],
                    "vn_district": units["vn_district"][k],
                    "vn_commune": units["vn_commune"][k],
                    "lat": round(x["lat"], 7),
                    "lon": round(x["lon"], 7),
                    "source": f"OpenStreetMap node/{x['id']}",
                    "confidence": "osm",
                    "notes": "; ".join(f"{a}={b}" for a, b in sorted(t.items()) if a != "ref")[:300],
                }
            )
        df = pd.DataFrame(
            rows,
            columns=[
                "marker",
                "border",
                "vn_province",
                "vn_district",
                "vn_commune",
                "lat",
                "lon",
                "source",
                "confidence",
                "notes",
            ],
        )
        _write_csv(df, pack / "markers_published.csv")
        record(
            "markers_published.csv",
            f"border markers: boundary=marker / historic=boundary_stone within {MARKER_MAX_KM:g} km of the land border",
            len(df),
            ["marker: the OSM ref (else name, else node id); border: the nearest border line's pair"],
        )
    else:
        man.missing.append(
            {
                "file": "markers_published.csv",
                "layers": ["markers"],
                "why": "no boundary=marker / historic=boundary_stone in the extracts",
            }
        )


# --------------------------------------------------------------------------- entry point


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
    man.created, man.missing, man.failures, man.downloads = _now(), [], [], []
    failures: list[dict] = []

    gb: dict[tuple[str, int], GbLayer] = {}
    emit("geoBoundaries gbOpen (CC BY 4.0):")
    for iso3, level in opts.levels:
        try:
            lyr = _gb_fetch(dl, opts, iso3, level)
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

    emit("OpenStreetMap extracts (ODbL):")
    osm = OsmData()
    osm_sources = []
    for iso3 in opts.osm_extracts:
        name = f"OpenStreetMap {iso3} extract"
        try:
            path, rec, url = _osm_fetch(dl, opts, iso3)
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

    emit("writing the pack:")
    _geoboundaries_files(pack, gb, man, emit)
    if osm_sources:
        _osm_files(pack, osm, gb, osm_sources, opts, man, emit)

    # every contract file: present (written now or before), or missing with the reason
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
    man.failures = failures
    man.write(pack)
    emit(
        f"pack {pack}: {len([f for f in man.files if f.contract])} contract files, "
        f"{len(man.missing)} missing, {len(failures)} sources failed"
    )
    return FetchResult(pack=pack, manifest=man, failures=failures, seconds=time.perf_counter() - t0)


def read_pins(path: Path) -> dict[str, str]:
    """URL -> sha256 from the `downloads` of an earlier pack.json (to fetch exactly the same files)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return {d["url"]: d["sha256"] for d in doc.get("downloads", []) if d.get("url") and d.get("sha256")}
