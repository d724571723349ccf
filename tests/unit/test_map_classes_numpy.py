"""The classifiers of geoborder.maps.classes are mapclassify's, computed with numpy (issue 18:
mapclassify imports scikit-learn and SciPy, ~80 MB per worker): the same bins and the same class
of every value as mapclassify.Quantiles, EqualInterval and UserDefined, on the real indicator
values of both vintages and on values with many ties. mapclassify is the reference here only."""

from __future__ import annotations

import subprocess
import sys
import warnings

import mapclassify
import numpy as np
import pytest

from geoborder.maps import classes as K
from geoborder.maps.indicators import indicator_values, indicators


def _same_as_mapclassify(y: np.ndarray) -> None:
    n_unique = len(np.unique(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(K.K_MIN, K.K_MAX + 1):
            q = K.quantile_bins(y, min(k, n_unique))
            assert np.array_equal(q, mapclassify.Quantiles(y, k=min(k, n_unique)).bins)
            if n_unique > 1:
                e = K.equal_interval_bins(y, k)
                assert np.array_equal(e, mapclassify.EqualInterval(y, k=k).bins)
            for bins in (q, K._bins(y, "natural_breaks", k)):
                bins = np.unique(bins)
                bins[-1] = max(bins[-1], y.max())
                want = mapclassify.UserDefined(y, bins=list(bins), lowest=float(y.min())).yb
                assert np.array_equal(K.class_of(y, bins), want)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_numpy_classifiers_equal_mapclassify_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.round(rng.lognormal(3, 1.5, 900)), np.zeros(300), rng.normal(50, 10, 57)])
    _same_as_mapclassify(y)


@pytest.mark.parametrize("vintage", [2025, 2009])
def test_numpy_classifiers_equal_mapclassify_on_real_values(real_store, vintage):
    computed = [i.name for i in indicators() if i.source == "computed"]
    assert computed
    for name in computed:
        values, _ = indicator_values(real_store, None, vintage, name, None)
        y = values.to_numpy()
        y = y[np.isfinite(y)]
        if len(y):
            _same_as_mapclassify(y)


def test_maps_import_neither_mapclassify_nor_sklearn():
    code = (
        "import sys, geoborder.maps.choropleth; print(sorted({'mapclassify', 'sklearn', 'scipy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
