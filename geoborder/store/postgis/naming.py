"""Names shared by the writer (`geoborder publish`) and the readers (PostgisStore, the SQL of
items, tiles and queries, the PostgreSQL indicator database) of a PostGIS database: schema and
table names, the identifier and version checks, the metric column, connecting.

Nothing here writes; every module on either side imports its names from here.
"""

from __future__ import annotations

import re

from geoborder.core.catalog import Catalog
from geoborder.core.errors import GeoborderError, StoreError
from geoborder.core.tables import META_TABLE_COLUMNS

CONTROL_SCHEMA = "geoborder"
CURRENT_SCHEMA = "geoborder_current"
TABLES_META = "_gb_tables"
COLUMNS_META = "_gb_columns"
GEOMETRY_COLUMN = "geometry"
FID_COLUMN = "fid"
SRID = 4326

#: layers the spatial queries (geoborder.store.postgis.queries) measure in the catalog's metric CRS: each gets
#: a column METRIC_COLUMN, `geometry(<type>, <metric SRID>)`, filled at publish with
#: ST_Transform(geometry, <metric SRID>), repaired with ST_MakeValid(method=structure) where that is
#: invalid (as the in-memory path repairs it with shapely.make_valid), and a GiST index on it (KNN
#: `<->`, `&&`, ST_DWithin). Not a property: frames, items and tiles read the described columns only.
METRIC_LAYERS = (
    "communes_2025",
    "communes_2009",
    "places",
    "villages",
    "roads",
    "gates",
    "countries",
    "commune_seats_2025",
    "border_lines",
    "border_segments_2025",
    "border_segments_2009",
)
METRIC_COLUMN = "geometry_m"

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_VERSION = re.compile(r"^[0-9a-f]{16}$")


class PublishError(GeoborderError):
    """A store cannot be published, or a version cannot be switched to."""


# --------------------------------------------------------------------------- identifiers


def check_identifier(name: str, what: str) -> str:
    """`name` if it is a plain lower-case SQL identifier, else PublishError (before any SQL)."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise PublishError(f"refused {what} {name!r}: not a plain identifier [a-z_][a-z0-9_]*")
    return name


def schema_for(version: str) -> str:
    if not isinstance(version, str) or not _VERSION.match(version):
        raise PublishError(f"refused version {version!r}: a data version is 16 hex digits")
    return f"gb_{version}"


def allowed_columns(name: str, catalog: Catalog) -> tuple[str, ...] | None:
    """The columns table `name` may have (catalog fields, or the fixed meta columns); None if
    the catalog knows no such table."""
    if name in META_TABLE_COLUMNS:
        return META_TABLE_COLUMNS[name]
    for lyr in catalog.layers:
        if lyr.id == name or lyr.unplaced_table == name:
            return tuple(lyr.field_names)
    return None


def metric_srid(catalog: Catalog) -> int | None:
    """The SRID of the catalog's metric CRS ("EPSG:3405" -> 3405); None when it is not an EPSG code."""
    m = re.fullmatch(r"EPSG:(\d{4,6})", str(catalog.build.get("metric_crs", "")).strip().upper())
    return int(m.group(1)) if m else None


def redact(url: str) -> str:
    """A connection URL without its password, for messages."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        d = conninfo_to_dict(url)
    except Exception:
        return "postgresql://…"
    d.pop("password", None)
    user = d.get("user")
    host = d.get("host", "")
    port = d.get("port", "")
    return f"postgresql://{f'{user}@' if user else ''}{host}{f':{port}' if port else ''}/{d.get('dbname', '')}"


def connect(url: str, **kw):
    import psycopg

    try:
        return psycopg.connect(url, **kw)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to {redact(url)}: {exc}".strip()) from exc
