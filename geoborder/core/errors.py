"""Typed exceptions of the library. The API maps them to status codes in one place."""

from __future__ import annotations


class GeoborderError(Exception):
    """Base class of every error the library raises on purpose."""


class BuildError(GeoborderError):
    """A source pack cannot be built. Names the file, layer, field and row where known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        layer: str | None = None,
        field: str | None = None,
        row: int | None = None,
    ):
        self.file, self.layer, self.field, self.row = file, layer, field, row
        where = ", ".join(
            f"{k} {v}" for k, v in (("file", file), ("layer", layer), ("field", field), ("row", row)) if v is not None
        )
        super().__init__(f"{message} ({where})" if where else message)
        self.message = message


class CatalogError(GeoborderError):
    """The layer catalog itself is malformed."""


class StoreError(GeoborderError):
    """The store is missing, unreadable or was built by an incompatible version."""


class NotFound(GeoborderError):
    """A layer, feature or unit that does not exist."""


class InvalidParameter(GeoborderError):
    """A parameter a caller gave is out of range or malformed."""


class FetchError(GeoborderError):
    """An open source could not be downloaded or read. Names the source and the URL."""

    def __init__(self, message: str, *, source: str | None = None, url: str | None = None):
        self.source, self.url = source, url
        where = ", ".join(f"{k} {v}" for k, v in (("source", source), ("url", url)) if v)
        super().__init__(f"{message} ({where})" if where else message)
        self.message = message


class DataImportError(GeoborderError):
    """A user's file cannot be imported into a pack. Names the file, row and column where known."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column = file, row, column
        where = ", ".join(f"{k} {v}" for k, v in (("file", file), ("row", row), ("column", column)) if v is not None)
        super().__init__(f"{message} ({where})" if where else message)
        self.message = message


class Unauthorized(GeoborderError):
    """A caller who must say who they are did not (no API key)."""


class Forbidden(GeoborderError):
    """A caller is not allowed to do this (an API key that is not valid)."""


class PayloadTooLarge(GeoborderError):
    """What a caller sent is larger than the service takes."""


class Unavailable(GeoborderError):
    """A part of the service that this request needs is not configured or not open."""
