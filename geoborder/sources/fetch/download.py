"""Cached, resumable, verified HTTP downloads for `geoborder fetch`."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from geoborder import __version__
from geoborder.core.errors import FetchError
from geoborder.core.files import sha256_file
from geoborder.sources.fetch.manifest import now


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
        assert last is not None  # at least one attempt
        raise last

    def fetch(
        self, url: str, *, source: str, expected_sha256: str | None = None, expected_md5: str | None = None
    ) -> tuple[Path, dict]:
        """The file at `url` in the cache (downloaded, resumed or reused), and its index record."""
        expected_sha256 = expected_sha256 or self.pins.get(url)
        dest = self._path_for(url)
        rec = self._cached(url, dest, source=source, expected_sha256=expected_sha256)
        if rec is not None:
            return dest, rec
        part = dest.with_name(dest.name + ".part")
        attempt = 0
        while True:
            attempt += 1
            if attempt > self.retries + 1:
                raise FetchError(f"gave up after {self.retries + 1} attempts", source=source, url=url)
            got, total = self._download_once(url, part, source=source, attempt=attempt)
            if not got:
                continue
            size = part.stat().st_size
            if total is not None and size < total:
                self.emit(f"  {source}: short read ({size:,} of {total:,} bytes); will resume")
                continue
            sha = self._verified(part, url, source=source, attempt=attempt, sha256=expected_sha256, md5=expected_md5)
            if sha is None:
                continue
            part.replace(dest)
            rec = {"file": dest.name, "sha256": sha, "size": size, "fetched_at": now(), "url": url}
            self.index[url] = rec
            self._save_index()
            self.emit(f"  {source}: downloaded {size:,} bytes (sha256 {sha[:12]}…)")
            return dest, rec

    def _cached(self, url: str, dest: Path, *, source: str, expected_sha256: str | None) -> dict | None:
        """The index record of the cached file when it is there and passes its checksum; a cached
        file that fails it is deleted (and fetched again)."""
        rec = self.index.get(url)
        if not (rec and dest.exists()):
            return None
        sha = sha256_file(dest)
        want = expected_sha256 or rec.get("sha256") or ""
        if sha == want:
            self.emit(f"  {source}: cached ({dest.name}, sha256 {sha[:12]}…)")
            return rec
        self.emit(
            f"  {source}: cached file {dest.name} fails its checksum "
            f"(sha256 {sha[:12]}… instead of {want[:12]}…): refused, fetching again"
        )
        dest.unlink()
        return None

    def _download_once(self, url: str, part: Path, *, source: str, attempt: int) -> tuple[bool, int | None]:
        """One request into `part` (resumed with Range when part holds bytes): (whether the body was
        read to its end, the file's expected size). Raises FetchError for an error the server keeps."""
        import requests
        import urllib3

        have = part.stat().st_size if part.exists() else 0
        # identity: byte ranges must count the bytes of the file, not of a compressed stream
        headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={have}-"} if have else {})}
        try:
            r = self.session.get(url, headers=headers, stream=True, timeout=self.timeout)
        except requests.RequestException as exc:
            self.emit(f"  {source}: {exc.__class__.__name__}; retrying")
            return False, None
        with r:
            if r.status_code == 416 and have:  # the part is already whole (or stale)
                part.unlink()
                return False, None
            if r.status_code >= 500:
                self.emit(f"  {source}: HTTP {r.status_code}; retrying")
                if attempt > self.retries:
                    raise FetchError(f"HTTP {r.status_code}", source=source, url=url)
                return False, None
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
                return False, None
        return True, total

    def _verified(
        self, part: Path, url: str, *, source: str, attempt: int, sha256: str | None, md5: str | None
    ) -> str | None:
        """The sha256 of the downloaded part, or None when it fails a known checksum (the part is
        deleted, to be fetched again; after the last attempt FetchError)."""
        sha = sha256_file(part)
        bad = None
        if sha256 and sha != sha256:
            bad = f"sha256 {sha[:12]}… is not the expected {sha256[:12]}…"
        elif md5 and sha256_file(part, "md5") != md5:
            bad = f"md5 is not the published {md5}"
        if bad is None:
            return sha
        part.unlink()
        self.emit(f"  {source}: checksum mismatch ({bad}): file refused, fetching again")
        if attempt > self.retries:
            raise FetchError(f"checksum mismatch after {attempt} attempts: {bad}", source=source, url=url)
        return None

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


def unreachable(urls: list[str], *, timeout: float = 15.0, session=None) -> str | None:
    """None when every server of `urls` answers (any HTTP status), else which one cannot be
    reached and why, in a few words: the check before a fetch nobody asked for by name."""
    from urllib.parse import urlsplit

    import requests

    session = session or requests.Session()
    for url in urls:
        try:
            session.head(url, timeout=timeout, allow_redirects=False).close()
        except requests.RequestException as exc:
            return f"cannot reach {urlsplit(url).netloc} ({exc.__class__.__name__})"
    return None
