"""The warm-up: what the first requests of a worker would build, built in the background at start-up.

Every worker keeps caches that are made at first use, once per store version: the metric
geometries and STRtrees of the spatial questions (`queries._common._metric`) and their
per-version inputs (the border line as an edge tree, nearest roads, the commune of each
settlement, the name indexes), the per-feature GeoJSON and gzip segments of the commune layers
(`features.cache.FeatureCache`), the layers projected to EPSG:3857 and simplified per zoom for the
tiles (`tiles.render`), the lookup trees and the default choropleths (`maps`). Without a warm-up
the first request of each kind pays for them (seconds on the real store).

`Warmup(store, indicators_db).start()` builds them in a daemon thread, step by step, for the
store's current version, and never blocks start-up: the service answers at once, the first
requests of a kind only wait for (or share) the work in progress. `status()` is what `/health`
reports: `{"warm": false, "warming": [steps left]}` until every step has run, then `"warm": true`.
A step that fails is logged and listed under `failed`: what it would have built is then made at
first use, as without a warm-up.

The steps call the library's own functions with the defaults a first visitor uses (the questions
with their default parameters, the default map of each vintage), so the caches they fill are
exactly the ones the requests read. No web framework here: `api/main.py` starts it from its
lifespan (setting `GEOBORDER_WARMUP=0` turns it off).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from geoborder.core.errors import NotFound
from geoborder.core.heap import configure, trim
from geoborder.features.cache import FeatureCache
from geoborder.store.base import Store

log = logging.getLogger("geoborder.warmup")

#: the commune layers: items pages, choropleths, lookups, profiles
COMMUNE_LAYERS = ("communes_2025", "communes_2009")
#: layers the spatial questions read, in the metric CRS
METRIC_LAYERS = (
    "communes_2025",
    "communes_2009",
    "places",
    "villages",
    "roads",
    "gates",
    "countries",
    "border_lines",
    "border_segments_2025",
    "border_segments_2009",
    "commune_seats_2025",
)
#: the layers drawn as tiles on the map pages (the choropleth's communes and the context layers)
TILE_LAYERS = ("communes_2025", "communes_2009", "border_lines", "roads", "places", "commune_seats_2025", "gates")
#: zooms at which the choropleth geometries are simplified ahead (the map pages open at 5-9)
TILE_ZOOMS = range(4, 10)
#: the map a first visitor sees (/maps -> /maps/density), per vintage, and its classifications
DEFAULT_INDICATOR = "density"
DEFAULT_AREA = "border"
#: a point in Vietnam near the border (Sơn La), the origin of the default nearest-gates question
DEFAULT_POINT = (103.9, 21.3)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[], object]


class Warmup:
    """The warm-up of one store (at its current version) in one process."""

    def __init__(self, store: Store, indicators_db=None, *, features: FeatureCache | None = None):
        self.store = store
        self.indicators_db = indicators_db
        #: the FeatureCache the items routes use (the API hands it to them: app.state.ogc_features)
        self.features = features if features is not None else FeatureCache(store)
        self.version = store.version
        self.steps = self._steps()
        self._left = [s.name for s in self.steps]
        self._seconds: dict[str, float] = {}
        self._failed: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._started: float | None = None
        self._finished: float | None = None

    # ----------------------------------------------------------------- running

    def start(self) -> Warmup:
        """Run the steps in a daemon thread (returns at once)."""
        if self._thread is None:
            configure()  # large temporaries mapped apart, not left as holes in the heap
            self._thread = threading.Thread(target=self.run, name="geoborder-warmup", daemon=True)
            self._thread.start()
        return self

    def run(self) -> Warmup:
        """Run the steps here, one after the other (the thread's body; tests call it directly)."""
        self._started = time.monotonic()
        for step in self.steps:
            if self._stop.is_set():
                break
            t = time.perf_counter()
            try:
                step.run()
            except Exception as exc:  # a failed step leaves its caches to be made at first use
                log.warning("warm-up step %s failed: %s", step.name, exc, exc_info=True)
                with self._lock:
                    self._failed[step.name] = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self._seconds[step.name] = round(time.perf_counter() - t, 3)
                self._left.remove(step.name)
        trim()  # the heap the steps' temporaries left in holes, back to the system (~40 MB)
        self._finished = time.monotonic()
        log.info("warm-up of version %s done in %.1f s", self.version, self._finished - self._started)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """No further step is started; waits up to `timeout` s for the one running."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the warm-up is over; True if it is."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.warm

    def current(self) -> Warmup:
        """This warm-up, or, when the store has moved on to another data version (PostGIS
        publish or rollback) and this one is over, a new one of that version, started (sharing
        the FeatureCache)."""
        running = self._thread is not None and self._thread.is_alive()
        if self.store.version == self.version or running:
            return self
        return Warmup(self.store, self.indicators_db, features=self.features).start()

    @property
    def warm(self) -> bool:
        return self._finished is not None and not self._left

    def status(self) -> dict:
        """What /health reports: warm, the steps left, and how long each step took."""
        with self._lock:
            out: dict = {"warm": self.warm, "warming": list(self._left) if not self._stop.is_set() else []}
            if self._failed:
                out["failed"] = dict(self._failed)
            out["warmup_seconds"] = dict(self._seconds)
        if self.version != self.store.version:
            out["warm_version"] = self.version  # built for the version at start-up
        return out

    # ----------------------------------------------------------------- what is warmed

    def _steps(self) -> list[Step]:
        # in the order a first visitor needs them: the map page, its tiles and legend, items, then
        # the questions, and the 2009 -> 2025 links (the longest, ~5-10 s)
        return [
            Step("layers", self._layers),
            Step("maps", self._maps),
            Step("tiles", self._tiles),
            Step("features", self._features),
            Step("metric", self._metric),
            Step("queries", self._queries),
            Step("indicators", self._indicators),
        ]

    def _has(self, layer_id: str) -> bool:
        try:
            self.store.layer(layer_id)
        except NotFound:
            return False
        return True

    def _layers(self) -> None:
        """Every layer's frame read from the store (the GeoPackage store reads lazily)."""
        for info in self.store.layers():
            self.store.frame(info.id)

    def _metric(self) -> None:
        """Metric geometries of the layers the questions read, and the STRtrees of the commune
        layers; only when the questions are answered in memory (not on a PostGIS store)."""
        from geoborder.queries._common import _metric, _place_communes, _vn_outline
        from geoborder.queries._local import LocalSpatial, spatial

        if not isinstance(spatial(self.store), LocalSpatial):
            return
        m = _metric(self.store)
        for layer in METRIC_LAYERS:
            if self._has(layer):
                m.geoms(self.store, layer)
        for layer in COMMUNE_LAYERS:
            if self._has(layer):
                m.tree(self.store, layer)
        _vn_outline(self.store)
        if self._has("places"):
            for vintage in (2025, 2009):
                if self._has(f"communes_{vintage}"):
                    _place_communes(self.store, vintage)

    def _queries(self) -> None:
        """Each question once with the defaults a first visitor uses: fills its per-version
        inputs (border line edges, nearest roads, settlement communes, name indexes, unions) and
        holds its answer (`queries.answers`: the default requests are then lookups)."""
        from geoborder import queries as q

        store = self.store
        q.border_zone_answer(store)
        q.roadless_villages_answer(store)
        q.roadless_by_commune_answer(store)
        lon, lat = DEFAULT_POINT
        q.nearest_gates_answer(store, lon=lon, lat=lat)
        for vintage in (2025, 2009):
            layer = f"communes_{vintage}"
            if not self._has(layer):
                continue
            province = str(store.frame(layer)["province_code"].iloc[0])
            q.touching_answer(store, province, vintage=vintage)
        if self._has("border_lines"):
            partners = store.frame("border_lines")["partner_iso3"].dropna().unique()
            for iso3 in partners:
                q.touching_answer(store, str(iso3))
        for vintage in (2025, 2009):
            if self._has(f"border_segments_{vintage}"):
                code = str(store.frame(f"border_segments_{vintage}")["commune_code"].iloc[0])
                q.commune_profile_answer(store, code, indicators_db=self.indicators_db)

    def _indicators(self) -> None:
        """The links of the pre-2025 units to the 2025 communes (the reform: /indicators/links,
        and every reported indicator on 2009 units), made once per data version and crosswalk."""
        from geoborder.indicators.values import reform_links_json

        if self._has("communes_2009") and self._has("communes_2025"):
            reform_links_json(self.store)

    def _features(self) -> None:
        """The per-feature GeoJSON and the gzip segment of every feature of the commune layers,
        as the items routes ask for them (with the indicator values joined on): nothing to make
        for a layer read from the store's features file (geoborder.features.text)."""
        for layer in COMMUNE_LAYERS:
            if self._has(layer):
                self.features.get(layer, self.indicators_db).prepare(gzip=True)

    def _tiles(self) -> None:
        """The tile layers projected to EPSG:3857 (with their STRtrees), and the commune layers
        simplified for the zooms the map pages open at."""
        from geoborder.tiles import render

        render.empty_png()
        for layer in TILE_LAYERS:
            if self._has(layer):
                render.projected(self.store, layer)
        for layer in COMMUNE_LAYERS:
            if self._has(layer):
                for z in TILE_ZOOMS:
                    render.simplified(self.store, layer, z)

    def _maps(self) -> None:
        """The default map of each vintage in each classification (its legend and classes), and
        the trees of the map lookup."""
        from geoborder.maps import choropleth as C
        from geoborder.maps import lookup as L

        lon, lat = DEFAULT_POINT
        for vintage in C.VINTAGES:
            if not self._has(f"communes_{vintage}"):
                continue
            L.commune_at(self.store, vintage, lon, lat)
            for method in C.METHODS:
                spec = C.MapSpec(indicator=DEFAULT_INDICATOR, vintage=vintage, area=DEFAULT_AREA, method=method)
                C.choropleth(self.store, self.indicators_db, spec)
