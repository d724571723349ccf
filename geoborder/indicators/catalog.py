"""Commune indicators: the catalog (layers/indicators.toml) and values joined onto a layer.

The pieces live in small modules:
  indicator_db       the writable SQLite file: imports (versions), values, API keys
  indicator_import   reading CSV / XLSX tables, matching rows to communes, validation
  indicator_reform   pre-2025 (2009 census) units linked to GSO 2024 codes and 2025 communes
  indicator_compute  indicators geoborder computes from the store's layers

`values_for` is what the Features API and the maps call.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from geoborder.core.catalog import read_catalog_file
from geoborder.core.errors import CatalogError, InvalidParameter, NotFound

INDICATORS_PATH = Path(__file__).resolve().parents[2] / "layers" / "indicators.toml"
TYPES = {"count", "rate", "boolean", "money", "measure"}
AGGREGATIONS = {"sum", "weighted_mean", "max", "min", "any", "all"}
WEIGHTS = {"population", "area"}
SOURCES = {"reported", "computed"}
DEFAULT_RANGE = {"count": (0, None), "rate": (0, 100), "boolean": (0, 1), "money": (0, None), "measure": (0, None)}

# Layers indicators can be joined onto, and the commune vintage of each.
LAYER_VINTAGE = {
    "communes_2025": 2025,
    "border_communes_2025": 2025,
    "communes_2009": 2009,
    "border_communes_2009": 2009,
}
VINTAGES = (2025, 2009)
# The year of the attributes (population) the commune layers carry.
DATA_YEAR = {2025: 2025, 2009: 2009}


@dataclass(frozen=True)
class Indicator:
    name: str
    vi: str
    en: str
    unit_vi: str
    unit_en: str
    type: str
    aggregation: str
    source: str
    weight: str | None = None
    higher_is_better: bool | None = None
    min: float | None = None
    max: float | None = None
    aliases: tuple[str, ...] = ()
    params: Mapping = field(default_factory=lambda: MappingProxyType({}))

    def title(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi

    def unit(self, lang: str = "vi") -> str:
        return self.unit_en if lang == "en" else self.unit_vi

    def describe(self, lang: str = "vi") -> dict:
        return {
            "name": self.name,
            "title": self.title(lang),
            "title_vi": self.vi,
            "title_en": self.en,
            "unit": self.unit(lang),
            "type": self.type,
            "aggregation": self.aggregation,
            "weight": self.weight,
            "higher_is_better": self.higher_is_better,
            "source": self.source,
            "min": self.min,
            "max": self.max,
        }


@dataclass(frozen=True)
class IndicatorCatalog:
    indicators: tuple[Indicator, ...]
    path: Path

    def get(self, name: str) -> Indicator:
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise NotFound(f"no indicator {name!r}; indicators: {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.indicators]

    @property
    def reported(self) -> list[Indicator]:
        return [i for i in self.indicators if i.source == "reported"]

    @property
    def computed(self) -> list[Indicator]:
        return [i for i in self.indicators if i.source == "computed"]


def parse_indicators(raw: bytes, path: Path) -> IndicatorCatalog:
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from exc
    out, seen = [], set()
    for i, d in enumerate(doc.get("indicator", [])):
        name = d.get("name")
        where = f"{path}: indicator #{i + 1} ({name})"
        if not name or name in seen:
            raise CatalogError(f"{where}: missing or duplicate name")
        seen.add(name)
        for key, allowed in (("type", TYPES), ("aggregation", AGGREGATIONS), ("source", SOURCES)):
            if d.get(key) not in allowed:
                raise CatalogError(f"{where}: {key} must be one of {sorted(allowed)}")
        if d["aggregation"] == "weighted_mean" and d.get("weight") not in WEIGHTS:
            raise CatalogError(f"{where}: a weighted_mean needs weight = one of {sorted(WEIGHTS)}")
        if d["type"] == "boolean" and d["aggregation"] not in ("any", "all", "max", "min"):
            raise CatalogError(f"{where}: a boolean aggregates with any, all, max or min")
        lo, hi = DEFAULT_RANGE[d["type"]]
        unit = d.get("unit", {})
        out.append(
            Indicator(
                name=name,
                vi=d.get("vi", name),
                en=d.get("en", name),
                unit_vi=unit.get("vi", ""),
                unit_en=unit.get("en", unit.get("vi", "")),
                type=d["type"],
                aggregation=d["aggregation"],
                source=d["source"],
                weight=d.get("weight"),
                higher_is_better=d.get("higher_is_better"),
                min=d.get("min", lo),
                max=d.get("max", hi),
                aliases=tuple(d.get("aliases", ())),
                params=MappingProxyType(dict(d.get("params", {}))),
            )
        )
    return IndicatorCatalog(indicators=tuple(out), path=path)


@lru_cache(maxsize=4)
def load_indicators(path: Path = INDICATORS_PATH) -> IndicatorCatalog:
    """The indicator catalog at `path`, parsed once per process."""
    return parse_indicators(read_catalog_file(path, "indicator catalog"), Path(path))


def layer_vintage(layer_id: str) -> int:
    try:
        return LAYER_VINTAGE[layer_id]
    except KeyError:
        raise InvalidParameter(f"indicators join onto {', '.join(LAYER_VINTAGE)}, not {layer_id!r}") from None
