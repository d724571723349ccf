"""The layer catalog (layers/catalog.toml) as immutable, typed objects, loaded once."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from geoborder.core.errors import CatalogError

CATALOG_PATH = Path(__file__).resolve().parents[2] / "layers" / "catalog.toml"
FIELD_TYPES = {"code", "name", "text", "int", "float", "bool"}
GEOMETRY_TYPES = {"Point", "MultiLineString", "MultiPolygon"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    source: str  # column in the source file
    vi: str = ""
    en: str = ""
    unit: str | None = None
    width: int | None = None
    required: bool = False
    expected: bool = False
    computed: bool = False

    def title(self, lang: str = "vi") -> str:
        return (self.en if lang == "en" else self.vi) or self.name


@dataclass(frozen=True)
class Source:
    id: str
    file: str
    licence: str
    attribution: str
    vintage: str = ""


@dataclass(frozen=True)
class Layer:
    id: str
    vi: str
    en: str
    kind: str  # "source" | "derived"
    geometry: str
    fields: tuple[Field, ...]
    key: str | None = None
    vintage: int | None = None
    source: Source | None = None
    transform: str | None = None
    derive: str | None = None
    optional: bool = False
    select: Mapping | None = None
    labels: Mapping | None = None
    unplaced_table: str | None = None

    def title(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class Catalog:
    layers: tuple[Layer, ...]
    sources: Mapping[str, Source]
    build: Mapping
    checksum: str
    path: Path = field(compare=False)

    def layer(self, layer_id: str) -> Layer:
        for lyr in self.layers:
            if lyr.id == layer_id:
                return lyr
        raise KeyError(layer_id)

    @property
    def ids(self) -> list[str]:
        return [lyr.id for lyr in self.layers]

    def unplaced_tables(self) -> list[str]:
        """The tables of the records a layer could not place (gates_unplaced, markers_unplaced)."""
        return [lyr.unplaced_table for lyr in self.layers if lyr.unplaced_table]


def _freeze(d):
    if isinstance(d, dict):
        return MappingProxyType({k: _freeze(v) for k, v in d.items()})
    if isinstance(d, list):
        return tuple(_freeze(v) for v in d)
    return d


def parse_catalog(raw: bytes, path: Path) -> Catalog:
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from exc
    sources = {
        sid: Source(
            id=sid, file=s["file"], licence=s["licence"], attribution=s["attribution"], vintage=s.get("vintage", "")
        )
        for sid, s in doc.get("source", {}).items()
    }
    layers = []
    seen = set()
    for i, raw_layer in enumerate(doc.get("layer", [])):
        lid = raw_layer.get("id")
        where = f"{path}: layer #{i + 1} ({lid})"
        if not lid or lid in seen:
            raise CatalogError(f"{where}: missing or duplicate id")
        seen.add(lid)
        if raw_layer.get("geometry") not in GEOMETRY_TYPES:
            raise CatalogError(f"{where}: geometry must be one of {sorted(GEOMETRY_TYPES)}")
        fields = []
        for f in raw_layer.get("fields", []):
            if f.get("type") not in FIELD_TYPES:
                raise CatalogError(f"{where}: field {f.get('name')}: type must be one of {sorted(FIELD_TYPES)}")
            if f["type"] == "code" and not f.get("width"):
                raise CatalogError(f"{where}: field {f['name']}: a code needs a width")
            fields.append(
                Field(
                    name=f["name"],
                    type=f["type"],
                    source=f.get("from", f["name"]),
                    vi=f.get("vi", ""),
                    en=f.get("en", ""),
                    unit=f.get("unit"),
                    width=f.get("width"),
                    required=f.get("required", False),
                    expected=f.get("expected", False),
                    computed=f.get("computed", False),
                )
            )
        kind = raw_layer.get("kind")
        src = None
        if kind == "source":
            sid = raw_layer.get("source")
            if sid not in sources:
                raise CatalogError(f"{where}: unknown source {sid!r}")
            src = sources[sid]
        elif kind != "derived":
            raise CatalogError(f"{where}: kind must be 'source' or 'derived'")
        key = raw_layer.get("key")
        if key and key not in [f.name for f in fields]:
            raise CatalogError(f"{where}: key {key!r} is not one of its fields")
        layers.append(
            Layer(
                id=lid,
                vi=raw_layer.get("vi", lid),
                en=raw_layer.get("en", lid),
                kind=kind,
                geometry=raw_layer["geometry"],
                fields=tuple(fields),
                key=key,
                vintage=raw_layer.get("vintage"),
                source=src,
                transform=raw_layer.get("transform"),
                derive=raw_layer.get("derive"),
                optional=raw_layer.get("optional", False),
                select=_freeze(raw_layer.get("select")),
                labels=_freeze(raw_layer.get("labels")),
                unplaced_table=raw_layer.get("unplaced_table"),
            )
        )
    return Catalog(
        layers=tuple(layers),
        sources=MappingProxyType(sources),
        build=_freeze(doc.get("build", {})),
        checksum=hashlib.sha256(raw).hexdigest(),
        path=path,
    )


def read_catalog_file(path: Path, what: str) -> bytes:
    """The bytes of a catalog file (layers, indicators ...), or a CatalogError saying which."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read the {what} {path}: {exc}") from exc


@lru_cache(maxsize=4)
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """The catalog at `path`, parsed once per process."""
    return parse_catalog(read_catalog_file(path, "layer catalog"), Path(path))
