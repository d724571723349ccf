"""Reviews and their documents held per data: a review is made again only when something it is
made of changes — the store's version, the indicator database's revision (its imports), the
border records' revision, the saved areas and targets, or the day (the gates' state is that of
the period's end or today) — so a committee's repeated requests of one review are answered from
memory. Bounded: 16 reviews, 16 MB of documents (a review PDF is ~0.2-1 MB; a worker aims at <= 500 MB)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from geoborder.core.cache import LRU

_REPORTS = LRU(16)
_DOCUMENTS = LRU(64, max_bytes=16 * 2**20, sizeof=lambda v: len(v) if isinstance(v, (bytes, str)) else 0)


def data_key(store, indicators_db, reports_db) -> tuple:
    """What a review depends on besides its parameters."""
    from geoborder.records.open import records_for

    records = records_for(indicators_db).revision() if indicators_db is not None else ""
    return (
        id(store),
        store.version,
        indicators_db.revision() if indicators_db is not None else "",
        records,
        reports_db.revision() if reports_db is not None else "",
        dt.date.today().isoformat(),
    )


def cached_report(key: tuple, make: Callable[[], tuple]) -> tuple:
    """(area, review) of `key` (data_key + the request's parameters), made by `make` when not held.
    The caller must not change it."""
    return _REPORTS.get_or_make(key, make)


def cached_document(key: tuple, make: Callable[[], bytes | str]) -> bytes | str:
    """A review's document (PDF, XLSX, HTML) of `key` (the review's key + format + language)."""
    return _DOCUMENTS.get_or_make(key, make)


def clear_cache() -> None:
    _REPORTS.clear()
    _DOCUMENTS.clear()
