# geoborder: `make install`, then `make run`. `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install run build test bench clean

install: $(BIN)/geoborder

$(BIN)/geoborder: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# Builds the store if it is missing or stale, then serves on http://127.0.0.1:8000
run: install
	$(BIN)/geoborder run

build: install
	$(BIN)/geoborder build

# The API tests once more with the store behind them on PostGIS (the real store published into
# the test cluster): the same tests pass against both implementations (issue 8's parity suite)
PARITY_TESTS := tests/test_api_foundation.py tests/test_ogc_api.py tests/test_ogc_clients.py \
	tests/test_ogc_openapi.py tests/test_ogc_indicators.py tests/test_indicators_api.py \
	tests/test_queries_api.py tests/test_queries.py tests/test_queries_units.py tests/test_tiles.py \
	tests/test_maps.py

test: install
	$(BIN)/python -m pytest -q
	GEOBORDER_TEST_STORE=postgis $(BIN)/python -m pytest -q $(PARITY_TESTS)

clean:
	rm -rf var build *.egg-info
