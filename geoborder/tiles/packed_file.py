"""Tile geometries packed as WKB, held in memory (`Packed`) or read from the store's tile file
(`FilePacked`, issue 18).

A worker draws tiles from every layer projected to EPSG:3857 and, for the choropleth's commune
layers, simplified per zoom (geoborder.tiles.render). Held in each worker's heap those WKB buffers
took 37 MB per worker, the same bytes in every worker of a machine. The tile file,
`<store>.tiles` beside the GeoPackage, holds them once per build (`write_tile_file`, called by
`geoborder build` and `geoborder run` through `render.ensure_tile_file`): a tile reads the WKB of
the rows it draws with `os.pread` (rows near each other in one read), so the bytes stay in the
system's page cache, shared by every worker. The row offsets and envelopes (small) are read into
memory; the STRtree is built from the envelopes.

The file is written from the very `Packed` buffers the in-memory path makes, so both give the same
geometries. A file of another build or `FORMAT`, truncated, or whose parts fail their checksum is
not used (`TileFile.open` checks the store's fingerprint and the trailer; each layer's part is
checked, with its row count and row ids, when a worker first reads it).

File layout: per layer, the WKB of every row of the projected layer, its offsets (little-endian
int64, n + 1) and envelopes (float64, n x 4), then per simplified zoom the WKB and its offsets;
then the index (JSON: per layer the row count, a digest of the row ids, the bounds, and where each
part starts, its size and CRC-32); the last 16 bytes are the index's offset and `MAGIC`.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from geoborder.core.sidecar import read_index, write_indexed

SUFFIX = ".tiles"
MAGIC = b"GBTILES1"
#: raised whenever the file's layout or the packing of the geometries changes
FORMAT = 1
#: rows whose WKB lie at most this many bytes apart are read in one `pread`
READ_GAP = 16384
_CHUNK = 4 * 2**20


@dataclass(frozen=True)
class Packed:
    """Geometries held as their WKB, one buffer for all (half the memory of GEOS geometries, which
    keep x, y and z of every vertex, and one object instead of one per feature): only a tile's few
    are read back (WKB is exact)."""

    blob: bytes
    offsets: np.ndarray  # int64, len(geoms) + 1; an empty span is a missing geometry

    @classmethod
    def of(cls, geoms: np.ndarray) -> Packed:
        wkb = shapely.to_wkb(geoms)
        sizes = np.fromiter((0 if w is None else len(w) for w in wkb), dtype=np.int64, count=len(wkb))
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        return cls(b"".join(w for w in wkb if w is not None), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take(self, idx: np.ndarray) -> np.ndarray:
        """The geometries at `idx` (None where missing)."""
        o, blob = self.offsets, self.blob
        wkb = np.array([blob[o[i] : o[i + 1]] or None for i in idx] + [None], dtype=object)[:-1]
        return shapely.from_wkb(wkb)


class _File:
    """An open file, closed when nothing refers to it any more (a `FilePacked` a tile is being
    drawn from keeps it open even after its cache entry was dropped)."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size

    def read(self, n: int, at: int) -> bytes:
        out = os.pread(self.fd, n, at)
        if len(out) != n:
            raise OSError(f"tile file {self.path.name}: short read at {at} ({len(out)} of {n} bytes)")
        return out

    def crc(self, at: int, n: int) -> int:
        c = 0
        for start in range(at, at + n, _CHUNK):
            c = zlib.crc32(self.read(min(_CHUNK, at + n - start), start), c)
        return c

    def __del__(self) -> None:
        fd = getattr(self, "fd", None)
        if fd is not None:
            os.close(fd)


class FilePacked:
    """`Packed` geometries whose WKB is in the tile file: only the offsets are held."""

    def __init__(self, file: _File, at: int, offsets: np.ndarray):
        self.file = file
        self._at = at
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take(self, idx: np.ndarray) -> np.ndarray:
        """The geometries at `idx` (None where missing): the rows asked for read in order of their
        place in the file, rows at most READ_GAP bytes apart in one read."""
        idx = np.asarray(idx, dtype=np.int64)
        if len(idx) == 0:
            return shapely.from_wkb(np.empty(0, dtype=object))
        rows = np.unique(idx)
        starts, stops = self.offsets[rows], self.offsets[rows + 1]
        cut = (np.flatnonzero(starts[1:] - stops[:-1] > READ_GAP) + 1).tolist()
        wkb = np.full(len(rows), None, dtype=object)
        s, e = starts.tolist(), stops.tolist()
        for a, b in zip([0, *cut], [*cut, len(rows)]):
            base = s[a]
            data = self.file.read(e[b - 1] - base, self._at + base)
            for k in range(a, b):
                if e[k] > s[k]:
                    wkb[k] = data[s[k] - base : e[k] - base]
        return shapely.from_wkb(wkb[np.searchsorted(rows, idx)])


def ids_digest(ids: np.ndarray) -> str:
    """What identifies a layer's rows and their order: a digest of its fids."""
    return hashlib.sha256(np.ascontiguousarray(ids, dtype="<i8").tobytes()).hexdigest()[:32]


@dataclass(frozen=True)
class FileLayer:
    """A projected layer as the tile file holds it."""

    packed: FilePacked
    envelopes: np.ndarray  # float64 (n, 4)
    bounds: tuple[float, float, float, float] | None


class TileFile:
    """An open tile file, for the store version it was written for."""

    def __init__(self, file: _File, index: dict):
        self._file = file
        self._index = index

    @property
    def path(self) -> Path:
        return self._file.path

    @classmethod
    def open(cls, path: Path | None, fingerprint: str) -> TileFile | None:
        """The file at `path` if it was written for a store of `fingerprint` in this FORMAT;
        None otherwise (missing, another build, another format, truncated, unreadable)."""
        if path is None:
            return None
        try:
            file = _File(Path(path))
        except OSError:
            return None
        try:
            index = read_index(file.read, file.size, MAGIC, FORMAT, fingerprint)
        except (OSError, ValueError):
            return None
        return cls(file, index)

    @property
    def contents(self) -> dict[str, list[int]]:
        """The layers the file holds, each with its simplified zooms."""
        try:
            return {k: sorted(int(z) for z in v["zooms"]) for k, v in self._index["layers"].items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return {}

    def _entry(self, layer_id: str, ids: np.ndarray) -> dict | None:
        """The layer's index entry if it was written for exactly these rows (fids in this order)."""
        entry = self._index["layers"].get(layer_id)
        if not isinstance(entry, dict) or entry.get("count") != len(ids) or entry.get("ids") != ids_digest(ids):
            return None
        return entry

    def _part(self, part: dict, dtype: str | None = None, shape: tuple[int, ...] | None = None):
        """A part of the file after its checksum: an array read into memory (`dtype`), or, for a
        WKB part, its offset."""
        at, n, crc = int(part["at"]), int(part["size"]), int(part["crc"])
        if at < 0 or n < 0 or at + n > self._file.size:
            raise ValueError("a part outside the file")
        if dtype is None:
            if self._file.crc(at, n) != crc:
                raise ValueError("a WKB part fails its checksum")
            return at
        data = self._file.read(n, at)
        if zlib.crc32(data) != crc:
            raise ValueError("an array fails its checksum")
        return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype[1:], copy=True)

    def _packed(self, part: dict, count: int) -> FilePacked:
        offsets = self._part(part["offsets"], "<i8", (count + 1,))
        at = self._part(part["wkb"])
        size = int(part["wkb"]["size"])
        if offsets[0] != 0 or offsets[-1] != size or (np.diff(offsets) < 0).any():
            raise ValueError("offsets do not fit the WKB")
        return FilePacked(self._file, at, offsets)

    def projected(self, layer_id: str, ids: np.ndarray) -> FileLayer | None:
        """The layer projected, if the file holds it for exactly these rows (fids in this order)
        and its parts are intact; None otherwise."""
        entry = self._entry(layer_id, ids)
        if entry is None:
            return None
        n = entry["count"]
        try:
            packed = self._packed(entry, n)
            envelopes = self._part(entry["envelopes"], "<f8", (n, 4))
        except (OSError, ValueError, KeyError):
            return None
        b = entry["bounds"]
        bounds = None if b is None else (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
        return FileLayer(packed, envelopes, bounds)

    def simplified(self, layer_id: str, z: int, ids: np.ndarray) -> FilePacked | None:
        """The layer simplified for zoom z, if the file holds it for exactly these rows."""
        entry = self._entry(layer_id, ids)
        if entry is None:
            return None
        part = entry["zooms"].get(str(z))
        if part is None:
            return None
        try:
            return self._packed(part, entry["count"])
        except (OSError, ValueError, KeyError):
            return None


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class LayerParts:
    """What the file holds of one layer, as the in-memory path makes it."""

    layer_id: str
    ids: np.ndarray  # the fids, in row order
    packed: Packed
    envelopes: np.ndarray
    bounds: tuple[float, float, float, float] | None
    zooms: dict[int, Packed]


def write_tile_file(
    path: Path, fingerprint: str, layers: Iterator[LayerParts], emit: Callable[[str], None] = lambda m: None
) -> Path:
    """Write the tile file of a store. Written to a temporary file, then renamed over `path`: a
    failure leaves the previous file (or none) in place."""
    index: dict = {"format": FORMAT, "fingerprint": fingerprint, "layers": {}}

    def write_parts(out) -> None:
        def part(data: bytes) -> dict:
            at = out.tell()
            out.write(data)
            return {"at": at, "size": len(data), "crc": zlib.crc32(data)}

        def packed(p: Packed) -> dict:
            return {"wkb": part(p.blob), "offsets": part(np.asarray(p.offsets, dtype="<i8").tobytes())}

        for lp in layers:
            start = out.tell()
            entry = {
                "count": len(lp.packed),
                "ids": ids_digest(lp.ids),
                "bounds": list(lp.bounds) if lp.bounds is not None else None,
                **packed(lp.packed),
                "envelopes": part(np.ascontiguousarray(lp.envelopes, dtype="<f8").tobytes()),
                "zooms": {str(z): packed(p) for z, p in sorted(lp.zooms.items())},
            }
            index["layers"][lp.layer_id] = entry
            emit(f"  tiles of {lp.layer_id}: {len(lp.packed)} rows, {(out.tell() - start) / 1e6:.1f} MB")

    return write_indexed(path, MAGIC, index, write_parts)
