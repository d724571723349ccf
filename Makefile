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

# Formatting, lint and the stage order of the house (import-linter contracts in pyproject.toml)
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The API tests (tests/api/, marked `parity` by tests/api/conftest.py) once more with the store
# behind them on PostGIS (the real store published into the test cluster): the same tests pass
# against both implementations (issue 8's parity suite)
test: install lint
	$(BIN)/python -m pytest -q
	GEOBORDER_TEST_STORE=postgis $(BIN)/python -m pytest -q -m parity

clean:
	rm -rf var build *.egg-info
