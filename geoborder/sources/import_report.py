"""The report of one `geoborder import` (geoborder.sources.importer): what was read, how its CRS
and its text encoding were found, which columns were taken and what was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from geoborder.sources import legacy_encodings as le


@dataclass
class ImportReport:
    file: str
    layer: str
    output: Path
    rows: int = 0
    crs: str = ""
    crs_how: str = ""
    encoding: le.Detection | None = None
    converted: dict[str, int] = field(default_factory=dict)  # column -> values converted
    columns: dict[str, str] = field(default_factory=dict)  # contract column -> taken from
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"imported {self.rows} rows of {self.file} into {self.output} (layer {self.layer})",
            f"  CRS: {self.crs} ({self.crs_how}); written in EPSG:4326",
        ]
        if self.encoding is not None:
            out.append(f"  text: {self.encoding.describe()}")
            for col, n in self.converted.items():
                out.append(f"    {col}: {n} values converted")
        for k, v in self.columns.items():
            out.append(f"  {k} <- {v}")
        out += [f"  note: {n}" for n in self.notes]
        return out
