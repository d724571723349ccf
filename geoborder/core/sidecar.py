"""The container of the files of derived data written beside a store (issue 18): the features file
(geoborder/features/text.py) and the tile file (geoborder/tiles/packed_file.py).

A file is its parts, then an index (JSON: the format, the store's fingerprint, per layer where its
parts are), then 16 bytes: the index's offset and the file's magic. It is written to a temporary
file renamed over the old one, so a failed write leaves the previous file (or none); a file of
another kind, format or build, or a truncated one, is refused when opened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from struct import Struct
from typing import BinaryIO

TRAILER = Struct("<Q8s")  # the index's offset, the magic


def write_indexed(path: Path, magic: bytes, index: dict, write_parts: Callable[[BinaryIO], None]) -> Path:
    """Write `path`: `write_parts(out)` writes the parts and fills `index`, then the index and the
    trailer follow; atomically (a temporary file renamed over `path`)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as out:
            write_parts(out)
            at = out.tell()
            out.write(json.dumps(index).encode())
            out.write(TRAILER.pack(at, magic))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_index(read: Callable[[int, int], bytes], size: int, magic: bytes, fmt: int, fingerprint: str) -> dict:
    """The index of a file of `size` bytes, read with `read(count, offset)`, if the file is of this
    `magic`, format `fmt` and store `fingerprint`; else ValueError (OSError from `read`)."""
    if size < TRAILER.size:
        raise ValueError("too short")
    at, found = TRAILER.unpack(read(TRAILER.size, size - TRAILER.size))
    if found != magic or at > size - TRAILER.size:
        raise ValueError("not a file of this kind")
    index = json.loads(read(size - TRAILER.size - at, at))
    if not isinstance(index, dict) or index.get("format") != fmt or index.get("fingerprint") != fingerprint:
        raise ValueError("another build or format")
    if not isinstance(index.get("layers"), dict):
        raise ValueError("no layers")
    return index
