"""Files: digests (the build fingerprint, fetched and imported pack files)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file (sha256 unless `algorithm` says otherwise), read in chunks."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()
