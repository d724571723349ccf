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

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf var build *.egg-info
