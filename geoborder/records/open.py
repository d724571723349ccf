"""`records_for`: the records database of an indicator database (the same file or schema, the
same API keys, the same connection pool)."""

from __future__ import annotations

import threading
import weakref

from geoborder.indicators.db import IndicatorDB
from geoborder.records.db import RecordsDB, RecordsStore

_OPENED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def records_for(indicators) -> RecordsStore:
    """The records of `indicators` (an IndicatorDB or a PostgisIndicatorDB), opened once per
    indicator database object (the tables are created on first use)."""
    with _LOCK:
        got = _OPENED.get(indicators)
        if got is None:
            if isinstance(indicators, IndicatorDB):
                got = RecordsDB(indicators.path)
            else:
                from geoborder.records.db_postgis import PostgisRecordsDB

                got = PostgisRecordsDB(indicators)
            _OPENED[indicators] = got
    return got
