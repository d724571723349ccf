"""The items selection of a layer done in PostGIS (PostgisStore): bbox, property equality, CQL2,
sortby, paging and numberMatched in one statement; output CRSs with ST_Transform.

`features.LayerFeatures` keeps serialising (the per-feature GeoJSON of a data version is made
once per worker); on a PostGIS store it asks an `SqlItems` which features a request selects, in
which order, and for the geometries of a page in another CRS. Every statement reads the schema
of the data version the LayerFeatures was made from (`gb_<version>`, immutable), so a switch of
the published version never mixes two versions within one LayerFeatures.

Nothing a client sends becomes SQL text: property names are checked against the published table
and quoted (`sql.Identifier`); values, boxes, geometries, limit and offset are bound parameters;
the CQL2 translation is geoborder.store.postgis.cql2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import shapely
from psycopg import sql

from geoborder.core.crs import SupportedCrs, _swap
from geoborder.core.errors import InvalidParameter
from geoborder.store.postgis.cql2 import SRID, SqlFilter, column_kind, referenced_properties

FID = "fid"
GEOMETRY = "geometry"


class _Database(Protocol):
    """What SqlItems asks of its store (PostgisStore, postgis.connection)."""

    def fetch(
        self, query: sql.Composable, params: dict | None = None, *, binary: bool = False, user_input: bool = False
    ) -> list[tuple]: ...


@dataclass(frozen=True)
class SqlItems:
    """One layer of one published version."""

    store: _Database  # the PostgisStore
    schema: str  # gb_<version>, validated by the store
    layer_id: str  # validated by the store
    columns: Mapping[str, str]  # property name -> pandas dtype (queryable in SQL)
    row_count: int
    srids: frozenset[int]  # the EPSG codes ST_Transform can use in this database

    @classmethod
    def for_layer(cls, store, snapshot, layer_id: str) -> SqlItems:
        table = snapshot.tables[layer_id]
        return cls(
            store=store,
            schema=snapshot.schema,
            layer_id=layer_id,
            columns=dict(table.columns),
            row_count=snapshot.infos[layer_id].feature_count,
            srids=store.transform_srids(),
        )

    def excluding(self, names) -> SqlItems:
        """Without `names` (columns replaced by joined values, e.g. an indicator of the same name)."""
        return replace(self, columns={k: v for k, v in self.columns.items() if k not in set(names)})

    @property
    def _table(self) -> sql.Composable:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.layer_id))

    # ------------------------------------------------------------------ selection
    def handles(self, q) -> bool:
        """True when every property the query names is a column of the published table; other
        names (values joined in memory, or unknown ones) are left to the in-memory path, which
        answers them, or refuses them with the same message as on the GeoPackage store."""
        names = set(q.properties) | {n for n, _ in q.sortby}
        if q.filter is not None:
            names |= referenced_properties(q.filter)
        return names <= set(self.columns)

    def _where(self, q, params: dict) -> list[sql.Composable]:
        conds: list[sql.Composable] = []
        if q.bbox is not None:
            x0, y0, x1, y1 = q.bbox
            # minx > maxx: the box crosses the antimeridian, [minx, 180] and [-180, maxx]
            boxes = [(x0, y0, x1, y1)] if x0 <= x1 else [(x0, y0, 180.0, y1), (-180.0, y0, x1, y1)]
            parts = []
            for j, box in enumerate(boxes):
                params.update({f"bx0_{j}": box[0], f"by0_{j}": box[1], f"bx1_{j}": box[2], f"by1_{j}": box[3]})
                corners = ", ".join(f"%({k}_{j})s::float8" for k in ("bx0", "by0", "bx1", "by1"))  # j: 0 or 1
                parts.append(
                    sql.SQL("ST_Intersects({}, ST_MakeEnvelope(" + corners + ", {}))").format(
                        sql.Identifier(GEOMETRY), sql.Literal(SRID)
                    )
                )
            conds.append(sql.SQL("({})").format(sql.SQL(" OR ").join(parts)))
        for i, (name, value) in enumerate(q.properties.items()):
            conds.append(self._equals(name, value, f"q{i}", params))
        if q.filter is not None:
            f = SqlFilter(self.columns, q.filter_crs, GEOMETRY)
            conds.append(f.where(q.filter))
            params.update(f.params)
        return conds

    def _equals(self, name: str, value: str, key: str, params: dict) -> sql.Composable:
        """`?name=value`: the value read as the column's type, as the in-memory path does."""
        kind = column_kind(self.columns[name])
        if kind == "bool":
            v = value.strip().lower()
            if v not in ("true", "false", "1", "0"):
                raise InvalidParameter(f"{name}: {value!r} is not true or false")
            params[key], cast = v in ("true", "1"), "boolean"
        elif kind == "num":
            try:
                params[key] = float(value)
            except ValueError:
                raise InvalidParameter(f"{name}: {value!r} is not a number") from None
            cast = "double precision"
        else:
            params[key], cast = value, "text"
        return sql.SQL("COALESCE({} = %({})s::{}, false)").format(sql.Identifier(name), sql.SQL(key), sql.SQL(cast))

    def _order(self, q) -> sql.Composable:
        keys: list[sql.Composable] = []
        for name, asc in q.sortby:
            col: sql.Composable = sql.Identifier(name)
            if column_kind(self.columns[name]) == "text":
                col = sql.SQL('{} COLLATE "C"').format(col)  # code-point order, as Python sorts
            keys.append(sql.SQL("{} {} NULLS LAST").format(col, sql.SQL("ASC" if asc else "DESC")))
        keys.append(sql.Identifier(FID))  # ties keep the fid order (a stable sort)
        return sql.SQL(", ").join(keys)

    def select(self, q) -> tuple[np.ndarray, int]:
        """(fids of the page in order, numberMatched) for an ItemQuery."""
        params: dict = {"limit": int(q.limit), "offset": int(q.offset)}
        conds = self._where(q, params)
        where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds) if conds else sql.SQL("")
        if not conds:  # every feature matches: the count is the published row count
            rows = self.store.fetch(
                sql.SQL("SELECT {} FROM {} ORDER BY {} LIMIT %(limit)s OFFSET %(offset)s").format(
                    sql.Identifier(FID), self._table, self._order(q)
                ),
                params,
            )
            return np.asarray([r[0] for r in rows], dtype="int64"), self.row_count
        rows = self.store.fetch(
            sql.SQL("SELECT {}, count(*) OVER () FROM {}{} ORDER BY {} LIMIT %(limit)s OFFSET %(offset)s").format(
                sql.Identifier(FID), self._table, where, self._order(q)
            ),
            params,
            user_input=True,
        )
        if rows:
            return np.asarray([r[0] for r in rows], dtype="int64"), int(rows[0][1])
        if q.offset == 0:
            return np.empty(0, dtype="int64"), 0
        params.pop("limit"), params.pop("offset")
        ((n,),) = self.store.fetch(
            sql.SQL("SELECT count(*) FROM {}{}").format(self._table, where), params, user_input=True
        )
        return np.empty(0, dtype="int64"), int(n)

    # ------------------------------------------------------------------ other CRSs
    def can_transform(self, crs: SupportedCrs) -> bool:
        return crs.epsg is not None and crs.epsg in self.srids and crs.auth != "EPSG:4326"

    def transformed(
        self, fids: np.ndarray, crs: SupportedCrs, *, axis_order: bool = True, rounded: bool = True
    ) -> np.ndarray:
        """The geometries of `fids` (in that order) in `crs`, transformed by ST_Transform; with
        `axis_order`, in the CRS's axis order (lat/lon first where it says so), as
        crs.geoms_to gives them; `rounded` to the CRS's decimals (about 1 cm)."""
        srid = crs.epsg
        assert srid is not None, "transformed() is only asked for a CRS that can_transform()"
        rows = self.store.fetch(
            sql.SQL(
                "SELECT {}, ST_AsBinary(ST_Transform({}, %(srid)s::int)) FROM {} WHERE {} = ANY(%(fids)s::bigint[])"
            ).format(sql.Identifier(FID), sql.Identifier(GEOMETRY), self._table, sql.Identifier(FID)),
            {"srid": int(srid), "fids": [int(f) for f in fids]},
            binary=True,
        )
        by_fid = {int(f): (bytes(w) if w is not None else None) for f, w in rows}
        wkb = np.asarray([by_fid.get(int(f)) for f in fids], dtype=object)
        geoms = shapely.from_wkb(wkb)
        if not (axis_order and crs.swap_xy) and not rounded:
            return geoms
        dec = crs.decimals

        def fn(xy: np.ndarray) -> np.ndarray:
            if axis_order and crs.swap_xy:
                xy = _swap(xy)
            return np.round(xy, dec) if rounded else xy

        return shapely.transform(geoms, fn)
