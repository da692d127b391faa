# Everything runs in a virtual environment inside the clone; `make` creates it on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE ?= examples/06_platform_reviewing_low_value.yaml
AS_OF ?= 2025-04-17T15:00:00+08:00

.PHONY: example test test-fast lint typecheck check wheel-check bench clean

# durable-rules 2.0.28 calls PyEval_CallObject, which Python 3.13 removed; PyObject_CallObject
# has the same signature, so a define makes it build and import there (a no-op on 3.11/3.12).
# It is built from source first, without pip's cache: cached wheels are keyed by interpreter,
# not by compiler flags, so one built without the define could otherwise be reused.
DURABLE_CPPFLAGS := -DPyEval_CallObject=PyObject_CallObject
DURABLE_RULES := $(shell grep -o 'durable-rules==[0-9.]*' pyproject.toml)
install_durable = CPPFLAGS="$(DURABLE_CPPFLAGS) $$CPPFLAGS" $(1)/python -m pip install --quiet \
	--no-cache-dir --no-binary durable-rules '$(DURABLE_RULES)'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(call install_durable,$(BIN))
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

example: $(STAMP)  ## predict the bundled example case
	$(BIN)/refundrules predict $(EXAMPLE) --as-of $(AS_OF)

# Hypothesis runs few examples by default and the thorough profile under CI (CI=true, as .ci/run
# is started) or HYPOTHESIS_PROFILE=ci; pytest-xdist spreads the suite over the machine's cores.
HYPOTHESIS_PROFILE ?= $(if $(CI),ci,dev)
WORKERS ?= auto

# Coverage stays serial: under xdist the workers import refundrules (our pytest plugin) before
# pytest-cov starts, so module-level lines would be missed (66% reported instead of 90%).
test: $(STAMP)  ## the test suite (unit, pack tests, hazard regressions, properties)
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m coverage run -m pytest
	$(BIN)/python -m coverage report --skip-covered

test-fast: $(STAMP)  ## the suite on every core (pytest-xdist), no coverage
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest -q -n $(WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test  ## what CI runs (plus wheel-check)

wheel-check: $(STAMP)  ## build the wheel, install it elsewhere, predict from another directory
	rm -rf dist .venv-wheel
	$(BIN)/python -m build --wheel --outdir dist . > /dev/null
	$(PYTHON) -m venv .venv-wheel
	$(call install_durable,.venv-wheel/bin)
	.venv-wheel/bin/python -m pip install --quiet dist/*.whl
	cd /tmp && $(CURDIR)/.venv-wheel/bin/refundrules validate pinduoduo
	cd /tmp && $(CURDIR)/.venv-wheel/bin/refundrules predict $(CURDIR)/$(EXAMPLE) --as-of $(AS_OF) --format json > /dev/null
	cd /tmp && $(CURDIR)/.venv-wheel/bin/python -c "import refundrules, sys; p = refundrules.load_rule_pack('pinduoduo'); assert 'site-packages' in str(p.root), p.root; print('wheel ok:', p)"

bench: $(STAMP)  ## predictions per second vs the raw durable-rules cost
	$(BIN)/python benchmarks/bench_predict.py

clean:
	rm -rf $(VENV) .venv-wheel .venv312 .venv313 dist build .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage
