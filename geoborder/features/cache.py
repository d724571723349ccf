"""The `LayerFeatures` of one store, made once per layer and data version, with the reported
indicator values joined onto commune layers and the border records onto gates and markers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from geoborder.core.errors import InvalidParameter
from geoborder.features.layer import LayerFeatures
from geoborder.features.query import DatetimeInterval
from geoborder.features.records import (
    GATE_COLUMNS,
    MARKER_COLUMNS,
    RECORD_LAYERS,
    TIMED_LAYERS,
    gate_columns,
    marker_columns,
    records_revision,
    today,
    with_nulls,
)
from geoborder.features.text import SUFFIX, FeatureFile, write_feature_file
from geoborder.store.base import LayerInfo, Store

MAX_TIMED = 16  # `datetime` selections of a layer kept (the most recent ones)

# --------------------------------------------------------------------------- per-store cache


def indicator_columns(store, indicators_db, layer_id: str, year: int | None) -> pd.DataFrame | None:
    """Reported indicator values to join onto a commune layer, indexed by commune_code.

    One column per indicator that has values for the layer's unit vintage: the value of `year`,
    or (year None) each commune's latest value with its year in `<name>_year`. None when the
    layer takes no indicators or there are none; a `year` without any value is refused.
    """
    from geoborder.indicators.catalog import LAYER_VINTAGE, load_indicators

    vintage = LAYER_VINTAGE.get(layer_id)
    if vintage is None:
        if year is not None:
            raise InvalidParameter(
                f"year: {layer_id} carries no indicator values; commune layers do ({', '.join(LAYER_VINTAGE)})"
            )
        return None
    available = indicators_db.available(vintage) if indicators_db is not None else {}
    if year is not None:
        years = sorted({y for ys in available.values() for y in ys})
        if year not in years:
            raise InvalidParameter(
                f"year: no indicator values for {year} on {vintage} units; years "
                f"with values: {', '.join(map(str, years)) or 'none (nothing imported)'}"
            )
        available = {n: ys for n, ys in available.items() if year in ys}
    if not available:
        return None
    types = {i.name: i.type for i in load_indicators().indicators}
    cols = {}
    for name in available:
        cur = indicators_db.current(name, vintage=vintage, year=year).set_index("commune_code")
        cols[name] = _as_int(cur["value"]) if types.get(name) in ("count", "boolean") else cur["value"]
        if year is None:
            cols[f"{name}_year"] = cur["year"].astype("Int64")
    return pd.DataFrame(cols)


def _as_int(values: pd.Series) -> pd.Series:
    """Counts and booleans (0/1) as `Int64` (204, not 204.0; nulls kept), when every value is whole."""
    v = pd.to_numeric(values, errors="coerce")
    whole = v.dropna()
    if len(whole) and not (whole == whole.round()).all():
        return values
    try:
        return v.astype("Int64")
    except (TypeError, ValueError):  # e.g. an infinite value: left as it came
        return values


class FeatureCache:
    """The LayerFeatures of one store, made at first use of each layer (one per process), and
    remade when the store switches to another data version (PostGIS publish / rollback).

    Commune layers also come with the reported indicator values joined on (see
    indicator_columns), cached by indicator-database revision and year. Gates and markers come
    with their records (geoborder.features.records): the gates' class and status of today, or
    of a `datetime` selection (`when`), cached by records revision and day."""

    def __init__(self, store: Store):
        self.store = store
        self._layers: dict[tuple[str, str], LayerFeatures] = {}
        self._joined: dict[tuple, LayerFeatures] = {}
        self._records: dict[tuple, LayerFeatures] = {}
        self._file: tuple[str, FeatureFile | None] | None = None
        self._lock = threading.Lock()

    def get(
        self,
        layer_id: str,
        indicators_db=None,
        year: int | None = None,
        revision: str | None = None,
        when: DatetimeInterval | None = None,
    ) -> LayerFeatures:
        """`revision`: the indicator database's revision if the caller already read it (the
        conditional-GET middleware does, for the ETag), so it is not read twice per request.
        `when`: a query's `datetime`, for the layers that answer it (TIMED_LAYERS; ignored on
        the others)."""
        base = self._base(layer_id)
        if layer_id in RECORD_LAYERS:
            return self._with_records(base, indicators_db, year, when)
        if indicators_db is None and year is None:
            return base
        if indicators_db is None:
            revision = ""
        elif revision is None:
            revision = indicators_db.revision()
        key = (self.store.version, layer_id, revision, year)
        lf = self._joined.get(key)
        if lf is None:
            extra = indicator_columns(self.store, indicators_db, layer_id, year)
            lf = base if extra is None else base.with_columns(extra, on="commune_code")
            with self._lock:  # keep the joins of the current revision only
                self._joined = {k: v for k, v in self._joined.items() if k[:3] == key[:3] or k[1] != layer_id}
                self._joined[key] = lf
        return lf

    def _with_records(self, base: LayerFeatures, indicators_db, year: int | None, when) -> LayerFeatures:
        # the key: (store version, layer, records revision, day, the datetime selection or None)
        layer_id = base.layer_id
        if year is not None:  # refused with the message of the other layers without indicators
            indicator_columns(self.store, indicators_db, layer_id, year)
        timed = when is not None and layer_id in TIMED_LAYERS
        day = today() if layer_id in TIMED_LAYERS else ""  # today's class and status change at midnight
        head = (self.store.version, layer_id, records_revision(indicators_db), day)
        key = (*head, (when.start, when.end) if timed else None)
        lf = self._records.get(key)
        if lf is None:
            if layer_id in TIMED_LAYERS:
                extra, matched = gate_columns(self.store, indicators_db, when if timed else None)
                lf = base.with_columns(
                    with_nulls(extra, GATE_COLUMNS), on=base.key_field, in_time=matched if timed else None
                )
            else:
                lf = base.with_columns(with_nulls(marker_columns(indicators_db), MARKER_COLUMNS), on=base.key_field)
            with self._lock:  # keep the current revision's only, and the latest selections by date
                kept = {k: v for k, v in self._records.items() if k[:4] == head or k[1] != layer_id}
                selections = [k for k in kept if k[1] == layer_id and k[4] is not None]
                for k in selections[: max(0, len(selections) - MAX_TIMED + 1)]:
                    del kept[k]
                kept[key] = lf
                self._records = kept
        return lf

    def _make(self, layer_id: str, info: LayerInfo) -> LayerFeatures:
        frame, engine = self.store.items(layer_id)
        lf = LayerFeatures(layer_id, frame, info.key_field, engine)
        file = self._feature_file()
        text = file.layer(layer_id, lf.property_names, lf.feature_ids) if file is not None else None
        if text is not None:
            lf.read_from(text)
        return lf

    def _feature_file(self) -> FeatureFile | None:
        """The store's features file, opened once per data version (None: it has none for it)."""
        version = self.store.version
        if self._file is None or self._file[0] != version:
            self._file = (version, FeatureFile.open(self.store.sidecar(SUFFIX), version))
        return self._file[1]

    def peek(self, layer_id: str, indicator_revision: str = "", indicators_db=None) -> LayerFeatures | None:
        """The LayerFeatures `get(layer_id, db)` would return (no year), if it is already made
        (for the current store version and indicator revision, "" without a database), else None:
        never joins anything. For the layers with records (gates, markers) it reads the records
        revision of `indicators_db` (one small query), as `get` does."""
        version = self.store.version
        if layer_id in RECORD_LAYERS:
            day = today() if layer_id in TIMED_LAYERS else ""
            return self._records.get((version, layer_id, records_revision(indicators_db), day, None))
        if not indicator_revision:
            return self._layers.get((version, layer_id))
        return self._joined.get((version, layer_id, indicator_revision, None))

    def _base(self, layer_id: str) -> LayerFeatures:
        version = self.store.version
        key = (version, layer_id)
        lf = self._layers.get(key)
        if lf is None:
            info = self.store.layer(layer_id)  # NotFound for an unknown collection
            with self._lock:
                lf = self._layers.get(key)
                if lf is None:
                    lf = self._make(layer_id, info)
                    # keep only the current version's layers
                    self._layers = {k: v for k, v in self._layers.items() if k[0] == version}
                    self._layers[key] = lf
        return lf


# --------------------------------------------------------------------------- the features file


def feature_file_path(store_path: Path) -> Path:
    """Where the features file of the GeoPackage store at `store_path` is written."""
    return store_path.with_name(store_path.stem + SUFFIX)


def ensure_feature_file(store_path: Path, emit: Callable[[str], None] = lambda m: None) -> Path:
    """The features file of the GeoPackage store at `store_path`, written (all its layers, by the
    same LayerFeatures the items routes use) unless the one there is already this build's."""
    from geoborder.store.gpkg import GpkgStore

    store = GpkgStore(Path(store_path))
    path = feature_file_path(store.path)
    file = FeatureFile.open(path if path.is_file() else None, store.version)
    if file is not None:
        held = set(file.layer_ids)
        file.close()
        if held == {info.id for info in store.layers()}:
            return path

    def layers():
        for info in store.layers():
            frame, _ = store.items(info.id)
            lf = LayerFeatures(info.id, frame, info.key_field)
            features, props_at = lf.serialised()
            yield info.id, lf.property_names, lf.feature_ids, features, props_at

    emit(f"writing the features' GeoJSON of every layer to {path.name} ...")
    return write_feature_file(path, store.version, layers(), emit)
