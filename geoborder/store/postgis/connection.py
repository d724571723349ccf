"""The connections of a worker to the PostGIS database of a `PostgisStore` (store.py): one pool
(psycopg_pool), opened on first use, and `fetch`, the one way a statement is run: a connection
lost in between is replaced once, no free connection in time or any other database error is a
StoreError naming the store (never the SQL), a data error in what a client asked is the client's
InvalidParameter."""

from __future__ import annotations

import threading

from geoborder.core.errors import InvalidParameter, StoreError
from geoborder.store.postgis.naming import redact

DEFAULT_POOL_SIZE = 4
POOL_WAIT_SECONDS = 5.0  # a request waits this long at most for a free connection
POINTER_WAIT_SECONDS = 1.0  # the pointer check gives up sooner: it keeps the snapshot it has


class PooledDatabase:
    """A worker's connections to one database: `pool_size` at most, shared by its threads."""

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE):
        self.url = url
        self.path = redact(url)  # what `geoborder info` and messages show; no password
        self.pool_size = int(pool_size)
        self._lock = threading.RLock()
        self._pool = None
        self._in_use = 0  # connections this worker holds now (see fetch)
        self._in_use_lock = threading.Lock()

    def _get_pool(self):
        """The worker's connection pool (psycopg_pool), opened on first use: `pool_size`
        connections at most, autocommit (every statement sees the latest committed data), JIT off."""
        from psycopg_pool import ConnectionPool

        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    # JIT off: PostGIS functions carry large cost estimates, so PostgreSQL would
                    # spend longer compiling these short plans than running them (~1 s measured)
                    self._pool = ConnectionPool(
                        self.url,
                        min_size=1,
                        max_size=self.pool_size,
                        kwargs={"autocommit": True, "options": "-c jit=off"},
                        open=True,
                        timeout=30,
                        name="geoborder",
                    )
        return self._pool

    def fetch(
        self, query, params=None, *, binary: bool = False, wait: float = POOL_WAIT_SECONDS, user_input: bool = False
    ) -> list[tuple]:
        """Rows of one statement (a `psycopg.sql` composable with `params` bound by the driver;
        never text made from a request). A connection lost in between is replaced once; no free
        connection within `wait` seconds (the database is down, or the pool is too small for the
        load) and any other database error are a StoreError naming the store, without the SQL.

        `user_input`: the statement evaluates what a client asked (a filter): a data exception
        (e.g. an invalid geometry, an out-of-range number) is then the client's InvalidParameter."""
        import psycopg
        import psycopg_pool

        for attempt in (1, 2):
            pool = self._get_pool()
            try:
                with pool.connection(timeout=wait) as con, con.cursor(binary=binary) as cur:
                    self._count_in_use(1)
                    try:
                        cur.execute(query, params)
                        return cur.fetchall() if cur.description is not None else []
                    finally:
                        self._count_in_use(-1)
            except psycopg_pool.PoolTimeout as exc:
                if attempt == 1 and self._in_use == 0:
                    # no connection free although this worker holds none: the pool is
                    # reconnecting, with a backoff that doubles after each failure (1, 2, 4, ...
                    # s), so after an outage it may wait long after the database is back; a new
                    # pool tries at once
                    self._reset_pool(pool)
                    wait = min(wait, POINTER_WAIT_SECONDS * 2)
                    continue
                raise StoreError(
                    f"the database at {self.path} is unavailable (no connection within {wait:g} s)"
                ) from exc
            except psycopg.OperationalError as exc:
                if attempt == 2:
                    raise StoreError(f"the database at {self.path} is unavailable: {exc}") from exc
                pool.check()  # drop the broken connections, then try once more
            except psycopg.Error as exc:
                state = getattr(exc, "sqlstate", None) or ""
                if user_input and (state.startswith("22") or state in ("42883", "42804", "XX000")):
                    msg = " ".join((exc.diag.message_primary or type(exc).__name__).split())[:200]
                    raise InvalidParameter(f"filter: cannot be evaluated on this collection ({msg})") from None
                raise StoreError(f"reading {self.path} failed: {exc}") from exc
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _count_in_use(self, n: int) -> None:
        with self._in_use_lock:
            self._in_use += n

    def _reset_pool(self, broken) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        # its workers may be inside a connection attempt: let them finish in the background
        threading.Thread(target=broken.close, kwargs={"timeout": 10}, daemon=True).start()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
