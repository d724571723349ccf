"""What the SQL of the spatial questions shares: the snapshot a statement reads (`_Q`), the
metric geometry column, per-version caching of request-independent results, fid -> row, WKB, and
the border line cut into pieces (see geoborder.store.postgis.queries for the whole picture)."""

from __future__ import annotations

import numpy as np
import shapely

from geoborder.core.cache import LRU
from geoborder.core.errors import NotFound, StoreError
from geoborder.store.postgis.naming import METRIC_COLUMN, METRIC_LAYERS
from geoborder.store.postgis.naming import metric_srid as srid

#: the border line is cut into pieces of at most this many vertices (ST_Subdivide)
PIECE_VERTICES = 128
#: how many request-independent results (_per_version) are kept, over all stores and versions
_CACHE_SIZE = 64


def _sql():
    from psycopg import sql

    return sql


def metric_srid(store) -> int | None:
    return srid(store.catalog)


def answers_in_sql(store) -> bool:
    """True when the spatial work of a query goes to the database: the store's current version
    holds the metric geometry column (a version published before it existed is answered by the
    in-memory engine; `geoborder publish --reload` adds the column)."""
    if metric_srid(store) is None:
        return False
    snap = store.snapshot()
    return _per_version(store, snap, "metric_column", lambda: _has_metric_column(store, snap))


def _has_metric_column(store, snap) -> bool:

    wanted = sorted(t for t in METRIC_LAYERS if t in snap.tables)
    rows = store.fetch(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = ANY (%s::regclass[]) "
        "AND attname = %s AND attnum > 0 AND NOT attisdropped",
        ([f'"{snap.schema}"."{t}"' for t in wanted], METRIC_COLUMN),
    )
    return int(rows[0][0]) == len(wanted)


# --------------------------------------------------------------------------- statements


def fetch(store, query, params=None) -> list[tuple]:
    """Rows of one statement (binary results; the store's connections run with JIT off)."""
    return store.fetch(query, params, binary=True)


_CACHE = LRU(_CACHE_SIZE)


def _per_version(store, snap, key, make):
    """`make()` once per (store, data version, key): published versions are immutable, and the
    key holds the version, so a switch never serves a value of another version. Two first
    requests may both compute it (the same value)."""
    return _CACHE.get_or_make((store.url, snap.version, snap.schema, key), make)


class _Q:
    """SQL fragments on one snapshot: tables and metric (repaired) geometries."""

    def __init__(self, store):
        self.store = store
        self.snap = store.snapshot()
        self.srid = metric_srid(store)
        self.sql = _sql()

    def table(self, layer: str):
        if layer not in self.snap.tables:
            raise NotFound(f"no layer {layer!r} in the store")
        return self.sql.Identifier(self.snap.schema, layer)

    def m(self, alias: str, layer: str):
        """The metric geometry of `alias` (a row of `layer`, one of publish.METRIC_LAYERS): the
        stored column, repaired where invalid and GiST-indexed."""

        if layer not in METRIC_LAYERS:
            raise StoreError(f"{layer} has no metric geometry column (publish.METRIC_LAYERS)")
        return self.sql.Identifier(alias, METRIC_COLUMN)

    def fetch(self, query, params=None):
        return fetch(self.store, query, params)


def rows_of(store, layer: str, fids) -> np.ndarray:
    """Rows of the layer frame holding these fids (frames are in fid order)."""
    fids = np.asarray(list(fids), dtype=np.int64)
    pos = store.frame(layer).index.get_indexer(fids)
    if len(pos) and (pos < 0).any():
        raise StoreError(f"{layer}: the database and the frame disagree (a version switch?)")
    return pos.astype(np.int64)


def _wkb(g) -> bytes:
    return shapely.to_wkb(g)


def _geom(v):
    return None if v is None else shapely.from_wkb(bytes(v))


# --------------------------------------------------------------------------- the border line


def _segment_field(kind: str) -> str:
    return {"country": "partner_iso3", "partner_province": "partner_unit_code"}.get(kind, "partner_district_code")


def _pieces(q: _Q, partner, vintage: int):
    """CTE `pieces (id, g)`: the border line (all of it, one country's, or one partner unit's part
    of border_segments_{vintage}) in the metric CRS, cut into pieces of <= PIECE_VERTICES vertices.

    Cutting the line costs tens of ms and depends only on the version and the partner: the pieces
    are cut in SQL once per version (ST_Subdivide) and then sent with each request."""
    s = q.sql
    if partner is None:
        layer, where, params = "border_lines", s.SQL("true"), {}
    elif partner.kind == "country":
        layer, where, params = "border_lines", s.SQL("partner_iso3 = %(partner)s"), {"partner": partner.code}
    else:
        layer = f"border_segments_{vintage}"
        where = s.SQL("{} = %(partner)s").format(s.Identifier(_segment_field(partner.kind)))
        params = {"partner": partner.code}

    def cut() -> list[bytes]:
        rows = q.fetch(
            s.SQL("""SELECT ST_AsBinary(g) FROM (
            SELECT ST_Subdivide({bm}, {nv}) AS g FROM {src} b WHERE b.geometry IS NOT NULL AND {where}) x""").format(
                bm=q.m("b", layer), nv=s.Literal(PIECE_VERTICES), src=q.table(layer), where=where
            ),
            params,
        )
        return [bytes(r[0]) for r in rows if r[0] is not None]

    key = ("pieces", layer, partner.kind if partner else None, partner.code if partner else None)
    pieces = _per_version(q.store, q.snap, key, cut)
    cte = s.SQL("""pieces AS MATERIALIZED (
        SELECT u.id, ST_SetSRID(ST_GeomFromWKB(u.w), {srid}) AS g
        FROM unnest(%(pieces)b::bytea[]) WITH ORDINALITY AS u(w, id))""").format(srid=s.Literal(q.srid))
    return cte, {"pieces": pieces}


def border_exists(store, partner, vintage: int) -> bool:
    q = _Q(store)
    s = q.sql
    if partner is None or partner.kind == "country":
        where = s.SQL("true") if partner is None else s.SQL("partner_iso3 = %(partner)s")
        src = q.table("border_lines")
    else:
        where = s.SQL("{} = %(partner)s").format(s.Identifier(_segment_field(partner.kind)))
        src = q.table(f"border_segments_{vintage}")
    rows = q.fetch(
        s.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE geometry IS NOT NULL AND NOT ST_IsEmpty(geometry) AND {})").format(
            src, where
        ),
        {"partner": partner.code if partner else None},
    )
    return bool(rows[0][0])
