# source-hubspot: the two commands a new user runs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install demo test test-plain unit integration sandbox clean bench bench-heavy bench-caster image-test

help:
	@echo "make demo   - install, start the HubSpot sandbox, read every stream from it, show what came out"
	@echo "make test   - install and run the whole test suite"
	@echo "make test-plain - the unit tests with every patch of another library off (SOURCE_HUBSPOT_SPEEDUPS=0)"
	@echo "make sandbox - run the HubSpot sandbox in the foreground (Ctrl-C to stop)"
	@echo "make bench  - the speed benchmark against the sandbox: rate-limited reads (the usual mix; wide contacts with the C"
	@echo "              caster and without it), unthrottled, memory, analyst tables, discover with 20 custom objects;"
	@echo "              adds its figures to"
	@echo "              benchmarks/results/history.csv (BENCH_SIZE=small for a quick run)"
	@echo "make bench-heavy - the contacts-heavy workloads (180,000 contacts in a typical catalog: 50-150 ms, 200-400 ms,"
	@echo "              300 custom contact properties), measured as the rate workload is (BENCH_SIZE=small for a smoke check)"
	@echo "make bench-caster - the record caster alone on wide records: its C loop against its Python loop"

$(STAMP): setup.py source_hubspot/_casts.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/python -c "import source_hubspot._casts" 2>/dev/null || echo "note: the record caster in C (source_hubspot/_casts.c) was not built (no C compiler or Python headers?): records are cast in Python (a read of wide records takes about 1.5 times the CPU)"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# Integration tests mostly wait on the sandbox's rate limits and latency, so three workers (one test file each at a
# time: module fixtures hold a sandbox) overlap that waiting; TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 3

test: $(STAMP)
	$(BIN)/python -m pytest unit_tests integration_tests -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

# The unit tests again with every patch of another library switched off (source_hubspot/speedups.py): the plain
# libraries must read the same records. The whole suite that way, `SOURCE_HUBSPOT_SPEEDUPS=0 make test`, would double
# CI's time; the unit tests are about 100 s of CPU (4 min 8 s on this 2-core machine at a load average of 10).
test-plain: $(STAMP)
	SOURCE_HUBSPOT_SPEEDUPS=0 $(BIN)/python -m pytest unit_tests -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

unit: $(STAMP)
	$(BIN)/python -m pytest unit_tests -q -p no:cacheprovider

integration: $(STAMP)
	$(BIN)/python -m pytest integration_tests -q -p no:cacheprovider

# The speed benchmark (benchmarks/bench.py): BENCH_SIZE=small for a quick run; writes benchmarks/results/latest.json
# (not committed) and adds one row per workload to benchmarks/results/history.csv (committed).
BENCH_SIZE ?= full

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py --size $(BENCH_SIZE)

bench-heavy: $(STAMP)
	$(BIN)/python benchmarks/bench.py --size $(BENCH_SIZE) --only heavy,heavy-slow,heavy-wide

bench-caster: $(STAMP)
	$(BIN)/python benchmarks/caster.py

sandbox: $(STAMP)
	$(BIN)/python -m sandbox --port 8765

# Builds the Dockerfile with rootful podman and runs the image against the sandbox (root only; skips elsewhere).
image-test: $(STAMP)
	IMAGE_TEST_PYTHON=$(BIN)/python bash scripts/image_test.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

# PyAirbyte (the PyPI package `airbyte`) gets a virtualenv of its own: only examples/pyairbyte_read.py and
# integration_tests/test_pyairbyte.py use it, and it brings its own airbyte-cdk, so it stays out of setup.py.
# The example runs the connector from .venv (`make install`) through PyAirbyte's `local_executable`.
PYAIRBYTE_VENV := .venv-pyairbyte
PYAIRBYTE_STAMP := $(PYAIRBYTE_VENV)/.installed
PYAIRBYTE_REQUIREMENT ?= airbyte==0.71.3

.PHONY: pyairbyte clean-pyairbyte

$(PYAIRBYTE_STAMP):
	$(PYTHON) -m venv $(PYAIRBYTE_VENV)
	$(PYAIRBYTE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYAIRBYTE_VENV)/bin/python -m pip install --quiet '$(PYAIRBYTE_REQUIREMENT)'
	touch $(PYAIRBYTE_STAMP)

pyairbyte: $(PYAIRBYTE_STAMP)

clean-pyairbyte:
	rm -rf $(PYAIRBYTE_VENV)
