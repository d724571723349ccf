"""Mapbox Vector Tiles rendered by PostGIS (`ST_AsMVT`), for a SQL store (`PostgisStore`).

`geoborder.tiles.render.layer_mvt` sends a PostGIS store here; it gives the same tile as the in-memory
encoder (mapbox-vector-tile) on the same data:

- one MVT layer named after the layer, extent `tiles.MVT_EXTENT` (4096), clipped with a buffer of
  `tiles.MVT_BUFFER` (64) tile units around the tile, as the in-memory encoder clips;
- the features whose geometry intersects the tile itself (not only its buffer);
- the feature id is the GeoPackage `fid` (the id the in-memory encoder writes), and the properties
  are every column of the layer as `tiles._props` gives them: integers, floats, booleans and text,
  nulls left out (ST_AsMVT omits NULL values, and the publish stored NaN as NULL);
- `None` for an empty tile (the route answers 204).

One statement per tile, against the version's own schema (`gb_<version>`) of ONE snapshot:

    SELECT ST_AsMVT(t, <layer>, 4096, '__mvt_geom', 'fid') FROM (
      SELECT fid, <columns...>,
             ST_AsMVTGeom(ST_Transform(geometry, 3857), ST_TileEnvelope(z, x, y), 4096, 64, true)
      FROM gb_<version>.<layer>
      WHERE geometry && <tile in 4326> AND ST_Intersects(geometry, <tile in 4326>)) t
    WHERE t.__mvt_geom IS NOT NULL

The filter is in EPSG:4326, the storage CRS, so the GiST index on `geometry` is used; a
WebMercatorQuad tile is a lon/lat rectangle there too (`ST_Transform` of its envelope is exact).
Schema, table and column names come from the snapshot (checked against the catalog and the
identifier pattern when it was read) and are quoted with `sql.Identifier`; z, x, y and the layer
name are bound parameters. A tile outside the layer's extent is answered without a query.
"""

from __future__ import annotations

from geoborder.core.errors import NotFound
from geoborder.core.tilegrid import MVT_BUFFER, MVT_EXTENT, tile_lonlat_bounds
from geoborder.store.postgis.naming import FID_COLUMN, GEOMETRY_COLUMN, SRID

_GEOM = "__mvt_geom"  # the geometry column of the tile's rows (no catalog field starts with __)
_WEB_MERCATOR = 3857


def _tile_sql(
    schema: str, table: str, columns: tuple[str, ...], fid: str, geometry: str, srid: int, extent: int, buffer: int
):
    from psycopg import sql

    props = sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(c)) for c in columns)
    return sql.SQL("""
        WITH env AS (SELECT e.merc, ST_Transform(e.merc, {srid}) AS ll,
                            (ST_XMax(e.merc) - ST_XMin(e.merc)) / {extent} AS unit
                     FROM (SELECT ST_TileEnvelope(%s::integer, %s::integer, %s::integer) AS merc) AS e)
        SELECT ST_AsMVT(t, %s::text, {extent}, {geom_name}, {fid_name}) FROM (
            SELECT s.{fid}{props},
                   ST_AsMVTGeom(ST_SimplifyPreserveTopology(
                                    ST_ClipByBox2D(ST_Transform(s.{geometry}, {merc_srid}),
                                                   ST_Expand(env.merc, env.unit * {buffer})),
                                    env.unit / 2),
                                env.merc, {extent}, {buffer}, true) AS {geom}
            FROM {schema}.{table} AS s, env
            WHERE s.{geometry} && env.ll AND ST_Intersects(s.{geometry}, env.ll)
        ) AS t
        WHERE t.{geom} IS NOT NULL
    """).format(
        extent=sql.Literal(int(extent)),
        buffer=sql.Literal(int(buffer)),
        merc_srid=sql.Literal(_WEB_MERCATOR),
        srid=sql.Literal(int(srid)),
        geom_name=sql.Literal(_GEOM),
        fid_name=sql.Literal(fid),
        fid=sql.Identifier(fid),
        props=props,
        geometry=sql.Identifier(geometry),
        geom=sql.Identifier(_GEOM),
        schema=sql.Identifier(schema),
        table=sql.Identifier(table),
    )


def layer_mvt(store, layer_id: str, z: int, x: int, y: int, *, extent: int, buffer: int) -> bytes | None:
    """The layer's MVT tile z/x/y rendered by ST_AsMVT, or None when no feature reaches it.

    z/x/y must already be checked (`tiles.check_tile`); an unknown layer or a table that is not a
    layer is a NotFound before any query."""

    snap = store.snapshot()  # one version for the whole tile
    table = snap.tables.get(layer_id) if isinstance(layer_id, str) else None
    info = snap.infos.get(layer_id) if table is not None else None
    if table is None or info is None or table.kind != "layer":
        raise NotFound(f"no layer {layer_id!r}")
    b = info.bbox
    w, s, e, n = tile_lonlat_bounds(z, x, y)
    if b is None or b[2] < w or b[0] > e or b[3] < s or b[1] > n:
        return None
    columns = tuple(c for c, _ in table.columns)
    query = _tile_sql(snap.schema, table.name, columns, FID_COLUMN, GEOMETRY_COLUMN, SRID, extent, buffer)
    rows = store.fetch(query, (int(z), int(x), int(y), layer_id), binary=True)
    body = rows[0][0] if rows else None
    return bytes(body) if body else None


class PostgisTiles:
    """The `TileEngine` of a PostgisStore: tiles rendered by ST_AsMVT."""

    def __init__(self, store):
        self.store = store

    def layer_mvt(self, layer_id: str, z: int, x: int, y: int) -> bytes | None:
        return layer_mvt(self.store, layer_id, z, x, y, extent=MVT_EXTENT, buffer=MVT_BUFFER)
