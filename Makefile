# geoborder: `make install`, then `make run`. `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install run build lint test bench clean

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

# Formatting, lint, types and the stage order of the house (ruff, mypy and the import-linter
# contracts, all configured in pyproject.toml)
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The API tests (tests/api/, marked `parity` by tests/api/conftest.py) once more with the store
# behind them on PostGIS (the real store published into the test cluster): the same tests pass
# against both implementations (issue 8's parity suite)
test: install lint
	$(BIN)/python -m pytest -q
	GEOBORDER_TEST_STORE=postgis $(BIN)/python -m pytest -q -m parity

# What runs with nothing but the store (built first if missing or stale): the spatial queries and
# the national map page (with Debian chromium + chromium-driver, its first render in a headless
# browser too). The comparisons with pygeoapi, MapServer, QGIS Server and tipg need `hey` and the
# peer harness ../shared/tools/run_peers.sh: bench/ogc_items.py and bench/postgis.py, see docs/benchmarks.md.
bench: install
	$(BIN)/geoborder build --if-stale --quiet
	$(BIN)/python bench/queries.py --repeat 5
	$(BIN)/python bench/maps.py

clean:
	rm -rf var build *.egg-info
