# source-hubspot: the two commands a new user runs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install demo test unit integration sandbox clean

help:
	@echo "make demo   - install, start the HubSpot sandbox, read every stream from it, show what came out"
	@echo "make test   - install and run the whole test suite"
	@echo "make sandbox - run the HubSpot sandbox in the foreground (Ctrl-C to stop)"

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest unit_tests integration_tests -q -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/python -m pytest unit_tests -q -p no:cacheprovider

integration: $(STAMP)
	$(BIN)/python -m pytest integration_tests -q -p no:cacheprovider

sandbox: $(STAMP)
	$(BIN)/python -m sandbox --port 8765

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
