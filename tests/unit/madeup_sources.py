"""Made-up open sources served on loopback, for `geoborder fetch` tests without internet.

- `Server`: http.server in a thread on 127.0.0.1 with a random port; serves bytes by path, honours
  Range requests (206), and can cut a response short, corrupt it once, or answer an error status.
- `madeup_geoboundaries`: geoBoundaries API answers (the real JSON fields) and GeoJSON files with
  the real properties (shapeName, shapeISO, shapeID, shapeGroup, shapeType); made-up boxes
  around the Sơn La - Houaphan border.
- `madeup_osm_pbf`: tests/fixtures/osm_sonla_madeup.osm turned into a PBF with pyosmium.

Every value here is invented: the shapes are boxes, not the real units.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures"
OSM_XML = FIXTURES / "osm_sonla_madeup.osm"


def _box(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


# (ISO3, level) -> [(shapeName, shapeISO, box)]; made-up boxes, real-looking names
MADEUP_UNITS = {
    ("VNM", 1): [("Sơn La", "VN-05", (103.95, 20.55, 104.90, 21.05))],
    ("VNM", 2): [("Sốp Cộp", "", (103.95, 20.55, 104.30, 21.05)), ("Mộc Châu", "", (104.30, 20.55, 104.90, 21.05))],
    ("VNM", 3): [
        ("Mường Lèo", "", (103.95, 20.80, 104.30, 21.05)),
        ("Mường Lạn", "", (103.95, 20.55, 104.30, 20.80)),
        ("Chiềng Khương", "", (104.30, 20.55, 104.90, 21.05)),
    ],
    ("LAO", 1): [
        ("Houaphan", "LA-HO", (103.40, 20.55, 103.95, 21.05)),
        ("Luang Prabang", "LA-LP", (102.50, 19.50, 103.40, 21.05)),
    ],
    ("LAO", 2): [("Sop Bao", "", (103.40, 20.55, 103.95, 21.05)), ("Viengkham", "", (102.50, 19.50, 103.40, 21.05))],
    ("CHN", 1): [
        ("Yunnan Province", "CN-YN", (102.00, 21.50, 104.00, 23.00)),
        ("Guangxi Zhuang Autonomous Region", "CN-GX", (105.50, 22.00, 108.00, 24.00)),
    ],
    ("CHN", 2): [("Honghe Hani and Yi Autonomous Prefecture", "", (102.50, 22.40, 104.00, 23.00))],
    ("CHN", 3): [
        ("Hekou Yao Autonomous County", "", (103.60, 22.50, 104.00, 22.80)),
        ("Maguan County", "", (104.00, 22.80, 104.50, 23.00)),
    ],
    ("KHM", 1): [("Svay Rieng", "KH-20", (105.50, 10.90, 106.20, 11.50))],
    ("KHM", 2): [("Chantrea", "", (105.50, 10.90, 106.20, 11.50))],
}


def madeup_geojson(iso3: str, level: int) -> bytes:
    feats = []
    for i, (name, iso, box) in enumerate(MADEUP_UNITS[(iso3, level)]):
        feats.append(
            {
                "type": "Feature",
                "geometry": _box(*box),
                "properties": {
                    "shapeName": name,
                    "shapeISO": iso,
                    "shapeID": f"{iso3}-ADM{level}-madeup-{i + 1}",
                    "shapeGroup": iso3,
                    "shapeType": f"ADM{level}",
                },
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False).encode("utf-8")


def madeup_api_answer(base: str, iso3: str, level: int) -> bytes:
    """What https://www.geoboundaries.org/api/current/gbOpen/{ISO3}/ADM{n}/ answers (fields as the
    real API), with download links pointing at the loopback server."""
    stem = f"{base}/data/geoBoundaries-{iso3}-ADM{level}"
    return json.dumps(
        {
            "boundaryID": f"{iso3}-ADM{level}-madeup",
            "boundaryName": iso3,
            "boundaryISO": iso3,
            "boundaryYearRepresented": "2020",
            "boundaryType": f"ADM{level}",
            "boundaryCanonical": "",
            "boundarySource": "madeup test source",
            "boundaryLicense": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
            "licenseDetail": "madeup",
            "licenseSource": "https://example.invalid/licence",
            "boundarySourceURL": "https://example.invalid",
            "sourceDataUpdateDate": "2023-01-01",
            "buildDate": "2023-06-01",
            "Continent": "Asia",
            "admUnitCount": str(len(MADEUP_UNITS[(iso3, level)])),
            "staticDownloadLink": f"{stem}-all.zip",
            "gjDownloadURL": f"{stem}.geojson",
            "tjDownloadURL": f"{stem}.topojson",
            "imagePreview": f"{stem}-PREVIEW.png",
            "simplifiedGeometryGeoJSON": f"{stem}_simplified.geojson",
        }
    ).encode("utf-8")


def madeup_osm_pbf(dest: Path) -> bytes:
    """The OSM XML fixture written as PBF with pyosmium (the format of real extracts)."""
    import osmium

    if dest.exists():
        dest.unlink()
    with osmium.SimpleWriter(str(dest)) as w:
        for obj in osmium.FileProcessor(str(OSM_XML)):
            w.add(obj)
    return dest.read_bytes()


# --------------------------------------------------------------------------- the server


@dataclass
class Server:
    files: dict[str, bytes] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)  # path -> error status to answer
    cut_once: set[str] = field(default_factory=set)  # first full GET sends half, then drops
    corrupt_once: set[str] = field(default_factory=set)  # first GET sends flipped bytes
    log: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sha256(self, path: str) -> str:
        return hashlib.sha256(self.files[path]).hexdigest()

    def gets(self, path: str) -> list[str | None]:
        return [rng for p, rng in self.log if p == path]

    def start(self):
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                rng = self.headers.get("Range")
                srv.log.append((path, rng))
                if path in srv.status:
                    self.send_error(srv.status[path])
                    return
                body = srv.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.end_headers()
                        return
                part = body[start:]
                if path in srv.corrupt_once and not rng:
                    srv.corrupt_once.discard(path)
                    part = bytes(b ^ 0xFF for b in part[:64]) + part[64:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(part)))
                self.send_header("Accept-Ranges", "bytes")
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.end_headers()
                if path in srv.cut_once and not rng:
                    srv.cut_once.discard(path)
                    self.wfile.write(part[: len(part) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()


def madeup_world(server: Server, tmp: Path) -> None:
    """Put every geoBoundaries answer and file, and the OSM extracts, on the server."""
    for iso3, level in MADEUP_UNITS:
        server.files[f"/gb/gbOpen/{iso3}/ADM{level}/"] = madeup_api_answer(server.base, iso3, level)
        gj = madeup_geojson(iso3, level)
        server.files[f"/data/geoBoundaries-{iso3}-ADM{level}_simplified.geojson"] = gj
        server.files[f"/data/geoBoundaries-{iso3}-ADM{level}.geojson"] = gj
    pbf = madeup_osm_pbf(tmp / "osm_sonla_madeup.osm.pbf")
    server.files["/osm/vietnam-latest.osm.pbf"] = pbf
    # the Lao and Cambodian extracts: the same small file stands in for them
    server.files["/osm/laos-latest.osm.pbf"] = pbf
    server.files["/osm/cambodia-latest.osm.pbf"] = pbf
