"""Issue 13: a legend that says what the map has. Classes that collapse or stay empty are not
shown as if they were there, each class's bounds are those of its members, natural breaks on
many values are computed on a fixed sample (so every legend and tile of a page agree), and
concurrent requests of one new map compute it once."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from geoborder.maps import choropleth as C
from geoborder.maps import classes as K


def _members_bounds(values, yb, n):
    return [(float(values[yb == i].min()), float(values[yb == i].max())) for i in range(n)]


def test_collapsed_quantiles_say_the_k_they_have_and_their_members_bounds():
    # 187 zeros and 17 lengths above 2 km (Sơn La's pre-2025 communes and their border length)
    values = np.concatenate([np.zeros(187), np.linspace(2.174, 49.734, 17)])
    cls, yb = C.classify(values, "quantiles", 5)
    assert cls.k == 5 and cls.n_classes == 2
    legend = C.legend(cls, C.indicator("border_length_km"), "vi")
    classes = [e for e in legend if e["class"] >= 0]
    assert len(classes) == 2
    assert [(e["lower"], e["upper"]) for e in classes] == _members_bounds(values, yb, 2)
    assert [e["label"] for e in classes] == ["0,00", "2,17 – 49,7"]
    en = [e["label"] for e in C.legend(cls, C.indicator("border_length_km"), "en") if e["class"] >= 0]
    assert en == ["0.00", "2.17 – 49.7"]


def test_empty_equal_intervals_are_not_shown_and_colours_follow_the_classes_shown():
    values = np.array([0.0, 1.0, 2.0, 3.0, 100.0])
    cls, yb = C.classify(values, "equal_interval", 5)
    assert cls.n_classes == 2 and all(n > 0 for n in cls.counts)
    assert sorted(set(yb.tolist())) == [0, 1] and len(cls.colors) == 2
    assert cls.colors == C.classify(np.array([0.0, 1.0]), "quantiles", 2)[0].colors
    legend = [e for e in C.legend(cls, C.indicator("density"), "en") if e["class"] >= 0]
    assert [(e["lower"], e["upper"], e["count"]) for e in legend] == [(0.0, 3.0, 4), (100.0, 100.0, 1)]
    assert cls.bins[-1] == 100.0


@pytest.mark.parametrize("method", C.METHODS)
def test_every_class_bound_is_a_member_value(method):
    values = np.round(np.random.default_rng(7).lognormal(3, 1.2, 500), 2)
    values[::17] = np.nan
    cls, yb = C.classify(values, method, 7)
    ok = np.isfinite(values)
    assert set(np.unique(yb[ok]).tolist()) == set(range(cls.n_classes))
    legend = [e for e in C.legend(cls, C.indicator("density"), "en") if e["class"] >= 0]
    assert [(e["lower"], e["upper"]) for e in legend] == _members_bounds(values, yb, cls.n_classes)
    assert [e["count"] for e in legend] == [int((yb == i).sum()) for i in range(cls.n_classes)]


def test_natural_breaks_on_many_values_use_a_fixed_sample_with_the_exact_ends(monkeypatch):
    values = np.random.default_rng(3).lognormal(5, 1, 11_163)
    seen = []
    real = K.fisher_jenks_bins

    def spy(y, k):
        seen.append(np.asarray(y, dtype=float).copy())
        return real(y, k)

    monkeypatch.setattr(K, "fisher_jenks_bins", spy)
    a, yb_a = C.classify(values, "natural_breaks", 5)
    b, yb_b = C.classify(values[::-1].copy(), "natural_breaks", 5)  # same values, other order
    assert len(seen) == 2 and all(len(s) <= K.NATURAL_BREAKS_SAMPLE for s in seen)
    assert seen[0].min() == values.min() and seen[0].max() == values.max()
    assert np.array_equal(seen[0], seen[1])  # a fixed sample: the same breaks every time
    assert a == b and a.n_classes == 5 and a.bins[-1] == values.max()
    # every value is classified with the breaks (not only the sample)
    assert sum(a.counts) == len(values) and np.array_equal(yb_a, yb_b[::-1])


def test_natural_breaks_on_few_values_stay_exact(monkeypatch):
    values = np.random.default_rng(4).lognormal(5, 1, 3_321)  # every 2025 commune
    seen = []
    real = K.fisher_jenks_bins
    monkeypatch.setattr(K, "fisher_jenks_bins", lambda y, k: seen.append(len(y)) or real(y, k))
    C.classify(values, "natural_breaks", 5)
    assert seen == [3_321]


def test_a_new_map_asked_four_times_at_once_is_computed_once(monkeypatch):
    from geoborder.maps import choropleth as mod

    calls = []
    started = threading.Event()
    release = threading.Event()

    def slow_make(store, db, spec, info, version):
        calls.append(spec)
        started.set()
        release.wait(5)
        return ("map", spec)

    class Store:
        version = "v-once"

    monkeypatch.setattr(mod, "_make", slow_make)
    mod.clear_cache()
    spec = C.MapSpec("density", vintage=2025, area="all", method="natural_breaks", k=5)
    store = Store()
    out = []
    threads = [threading.Thread(target=lambda: out.append(C.choropleth(store, None, spec))) for _ in range(4)]
    threads[0].start()
    started.wait(5)
    for t in threads[1:]:
        t.start()
    time.sleep(0.3)  # the other three are asking too (before the fix each made its own map)
    release.set()
    for t in threads:
        t.join(5)
    mod.clear_cache()
    assert len(calls) == 1 and out == [("map", spec)] * 4
