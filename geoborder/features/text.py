"""The GeoJSON text of a layer's features, where `LayerFeatures` reads it from (issue 18).

Every feature of a layer is serialised once (CRS84, as stored), with a raw deflate segment of it
for gzip pages (geoborder.features.gzip). Two places hold that text:

- `HeldText`: in the worker's memory, built from the frame at first use of the layer (the
  per-feature bytes, their deflate segments made on demand). Layers with values joined on
  (indicators, records) and stores without a features file use it.
- `FileText`: the store's features file, `<store>.features` beside the GeoPackage, written once
  per build by `write_feature_file` (`geoborder build` and `geoborder run` call it). Pages are
  read from it with `os.pread`: the bytes stay in the system's page cache, shared by every worker,
  instead of in each worker's heap (the commune layers and villages: 43 MB of GeoJSON and 21 MB of
  deflate segments per worker). A contiguous run of features (a page by limit/offset) is one read
  of its GeoJSON and one of its segments.

The file is made by the same code that builds `HeldText` (LayerFeatures over the store's frame), so
both give the same bytes; a file of another build, format or layer content is not used
(`FeatureFile.open` checks the store's fingerprint, `FORMAT`, and per layer the count, property
names and feature ids).

File layout: for each layer, the GeoJSON of every feature followed by a comma (`feature,`), then
the deflate segment of every feature followed by the segment of a comma; then the index (JSON:
per layer where each part starts, the offsets as little-endian int64 arrays); the last 16 bytes
are the index's offset and `MAGIC`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import orjson

from geoborder.core.sidecar import read_index, write_indexed
from geoborder.features.gzip import _COMMA, GzipMember, deflate_segment

SUFFIX = ".features"
MAGIC = b"GBFEATS1"
#: raised whenever the file's layout or the features' serialisation changes
FORMAT = 1


def ids_digest(feature_ids: list) -> str:
    """What identifies a layer's features and their order: a digest of their ids."""
    return hashlib.sha256(orjson.dumps(feature_ids)).hexdigest()[:32]


def runs(positions: np.ndarray) -> Iterator[tuple[int, int]]:
    """The positions as maximal runs of consecutive rows [start, stop), in order."""
    n = len(positions)
    if n == 0:
        return
    p = np.asarray(positions, dtype=np.int64)
    breaks = np.flatnonzero(np.diff(p) != 1) + 1
    starts = np.concatenate(([0], breaks))
    stops = np.concatenate((breaks, [n]))
    for a, b in zip(starts.tolist(), stops.tolist()):
        yield int(p[a]), int(p[b - 1]) + 1


class HeldText:
    """The features' GeoJSON in memory: one bytes per feature, where its properties start, and
    its deflate segment (made at first use of the feature in a gzip page)."""

    def __init__(self, features: list[bytes], props_at: np.ndarray):
        self._features = features
        self._props_at = props_at
        self._gz: list[bytes | None] = [None] * len(features)

    def features(self, positions) -> list[bytes]:
        feats = self._features
        return [feats[i] for i in positions]

    def joined(self, positions) -> bytes:
        """The features' GeoJSON separated by commas."""
        return b",".join(self.features(positions))

    def properties(self, positions) -> list[bytes]:
        """The properties object of each feature (its GeoJSON without the rest)."""
        feats, at = self._features, self._props_at
        return [feats[i][at[i] : -1] for i in positions]

    def segments(self) -> None:
        """Every feature's deflate segment made now (the warm-up)."""
        self.add_gzip(GzipMember(), np.arange(len(self._features)))

    def add_gzip(self, gz: GzipMember, positions, first: bool = True) -> None:
        feats, cache = self._features, self._gz
        for k, i in enumerate(positions):
            seg = cache[i]
            if seg is None:
                seg = cache[i] = deflate_segment(feats[i])
            if k or not first:
                gz.segment(b",", _COMMA)
            gz.segment(feats[i], seg)


class FileText:
    """The features' GeoJSON in the store's features file, read per page."""

    def __init__(self, fd: int, entry: dict, arrays: dict[str, np.ndarray]):
        self._fd = fd
        self._text_at = int(entry["text"])
        self._gz_at = int(entry["gz"])
        self._off = arrays["text"]  # n + 1 offsets of `feature,` in the text part
        self._goff = arrays["gz"]  # n + 1 offsets of `segment + comma segment` in the gz part
        self._props_at = arrays["props"]  # where the properties start in each feature

    def _read(self, start: int, stop: int) -> bytes:
        n = stop - start
        out = os.pread(self._fd, n, start)
        if len(out) != n:
            raise OSError(f"features file: short read at {start} ({len(out)} of {n} bytes)")
        return out

    def _run_text(self, a: int, b: int) -> tuple[bytes, np.ndarray]:
        """The text of features a..b-1 (`feature,` each) and their offsets into it."""
        off = self._off
        return self._read(self._text_at + int(off[a]), self._text_at + int(off[b])), off[a : b + 1] - off[a]

    def features(self, positions) -> list[bytes]:
        if len(positions) == 1:  # one feature (items/{id}): one read, no runs to find
            i = int(positions[0])
            return [self._read(self._text_at + int(self._off[i]), self._text_at + int(self._off[i + 1]) - 1)]
        out: list[bytes] = []
        for a, b in runs(np.asarray(positions)):
            text, o = self._run_text(a, b)
            view = memoryview(text)
            bounds = o.tolist()
            out += [bytes(view[s : e - 1]) for s, e in zip(bounds[:-1], bounds[1:])]
        return out

    def joined(self, positions) -> bytes:
        """The features' GeoJSON separated by commas: one read per run of consecutive features,
        whose text holds the commas already."""
        off, at = self._off, self._text_at
        return b",".join([self._read(at + int(off[a]), at + int(off[b]) - 1) for a, b in runs(np.asarray(positions))])

    def properties(self, positions) -> list[bytes]:
        at = self._props_at
        return [f[int(at[i]) : -1] for i, f in zip(positions, self.features(positions))]

    def segments(self) -> None:
        return None  # made with the file

    def add_gzip(self, gz: GzipMember, positions, first: bool = True) -> None:
        off, goff, tail = self._off, self._goff, len(_COMMA)
        for k, (a, b) in enumerate(runs(np.asarray(positions))):
            if k or not first:
                gz.segment(b",", _COMMA)
            # `f_a,f_a+1,...,f_b-1`: the run's text without its last comma, and the segments
            # `seg_a + comma ... + seg_b-1` without the last comma segment
            text = self._read(self._text_at + int(off[a]), self._text_at + int(off[b]) - 1)
            z = self._read(self._gz_at + int(goff[a]), self._gz_at + int(goff[b]) - tail)
            gz.segment(text, z)


class FeatureFile:
    """An open features file: the layers it holds, for the store version it was written for."""

    def __init__(self, path: Path, fd: int, index: dict):
        self.path = path
        self._fd = fd
        self._index = index
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path | None, fingerprint: str) -> FeatureFile | None:
        """The file at `path` if it was written for a store of `fingerprint` in this FORMAT;
        None otherwise (missing, another build, another format, unreadable)."""
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            size = os.fstat(fd).st_size
            index = read_index(lambda n, at: os.pread(fd, n, at), size, MAGIC, FORMAT, fingerprint)
        except (OSError, ValueError):
            os.close(fd)
            return None
        return cls(Path(path), fd, index)

    def layer(self, layer_id: str, property_names: list[str], feature_ids: list) -> FileText | None:
        """The layer's text if the file holds it for exactly these features and properties."""
        entry = self._index["layers"].get(layer_id)
        if (
            entry is None
            or entry["count"] != len(feature_ids)
            or entry["properties"] != property_names
            or entry["ids"] != ids_digest(feature_ids)
        ):
            return None
        n = entry["count"]
        arrays = {}
        for name, (at, dtype) in entry["arrays"].items():
            count = n if name == "props" else n + 1
            width = np.dtype(dtype).itemsize
            arrays[name] = np.frombuffer(os.pread(self._fd, count * width, at), dtype=dtype).copy()
        return FileText(self._fd, entry, arrays)

    @property
    def layer_ids(self) -> list[str]:
        return list(self._index["layers"])

    def close(self) -> None:
        os.close(self._fd)


# --------------------------------------------------------------------------- writing


def write_feature_file(
    path: Path,
    fingerprint: str,
    layers: Iterator[tuple[str, list[str], list, list[bytes], np.ndarray]],
    emit: Callable[[str], None] = lambda m: None,
) -> Path:
    """Write the features file of a store: `layers` yields (layer id, property names, feature ids,
    the GeoJSON of each feature, where its properties start). Written to a temporary file, then
    renamed over `path`: a failure leaves the previous file (or none) in place."""
    index: dict = {"format": FORMAT, "fingerprint": fingerprint, "layers": {}}

    def write_parts(out) -> None:
        for layer_id, names, ids, feats, props_at in layers:
            text_at = out.tell()
            off = np.zeros(len(feats) + 1, dtype="<i8")
            pos = 0
            for i, f in enumerate(feats):
                out.write(f)
                out.write(b",")
                pos += len(f) + 1
                off[i + 1] = pos
            gz_at = out.tell()
            goff = np.zeros(len(feats) + 1, dtype="<i8")
            pos = 0
            for i, f in enumerate(feats):
                seg = deflate_segment(f) + _COMMA
                out.write(seg)
                pos += len(seg)
                goff[i + 1] = pos
            arrays = {}
            for name, arr in (("text", off), ("gz", goff), ("props", np.asarray(props_at, dtype="<i8"))):
                arrays[name] = [out.tell(), "<i8"]
                out.write(arr.tobytes())
            index["layers"][layer_id] = {
                "count": len(feats),
                "properties": names,
                "ids": ids_digest(ids),
                "text": text_at,
                "gz": gz_at,
                "arrays": arrays,
            }
            emit(f"  features of {layer_id}: {len(feats)} ({(gz_at - text_at) / 1e6:.1f} MB of GeoJSON)")

    return write_indexed(path, MAGIC, index, write_parts)
