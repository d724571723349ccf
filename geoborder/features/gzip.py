"""Gzip from per-feature deflate segments: a page of features is compressed by concatenating
segments made once per feature (each ends on a byte boundary, RFC 1951 sync flush)."""

from __future__ import annotations

import struct
import zlib

GZIP_LEVEL = 6
_GZ_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no mtime, unknown OS
_GZ_FINAL = b"\x03\x00"  # an empty final fixed-Huffman block


def deflate_segment(data: bytes, level: int = GZIP_LEVEL) -> bytes:
    """Raw deflate of `data`, sync-flushed (byte-aligned, not final): segments made this way can be
    concatenated into one deflate stream, since none refers back before its own start (pigz)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


_COMMA = deflate_segment(b",")


class GzipMember:
    """One gzip member assembled from deflate segments (precomputed per feature) and small plain
    pieces compressed on the fly. The CRC and size are of the uncompressed bytes."""

    __slots__ = ("parts", "crc", "size")

    def __init__(self):
        self.parts: list[bytes] = [_GZ_HEADER]
        self.crc = 0
        self.size = 0

    def plain(self, data: bytes) -> None:
        if data:
            self.segment(data, deflate_segment(data, 1))

    def segment(self, data: bytes, deflated: bytes) -> None:
        self.parts.append(deflated)
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)

    def take(self) -> bytes:
        """The parts so far (for streaming), emptied."""
        out, self.parts = b"".join(self.parts), []
        return out

    def finish(self) -> bytes:
        self.parts += [_GZ_FINAL, struct.pack("<II", self.crc, self.size & 0xFFFFFFFF)]
        return self.take()


# --------------------------------------------------------------------------- layer features
