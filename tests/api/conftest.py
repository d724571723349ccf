"""The API tests on the real store: every test here is marked `parity`.

`make test` runs them once on the GeoPackage store and once more with
GEOBORDER_TEST_STORE=postgis (`pytest -m parity`): the real store published into the test
PostGIS cluster, so the same tests pass against both implementations (issue 8's parity suite).
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    # a conftest hook sees the whole session's items: mark only those collected under tests/api/
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.parity)
