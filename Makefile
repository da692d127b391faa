# Everything runs in a virtual environment inside the clone; `make` creates it on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE ?= examples/06_platform_reviewing_low_value.yaml
AS_OF ?= 2025-04-17T15:00:00+08:00

.PHONY: FORCE example test test-fast coverage lint typecheck check wheel-check bench clean

# durable-rules 2.0.28 calls PyEval_CallObject, which Python 3.13 removed; PyObject_CallObject
# has the same signature, so a define makes it build and import there (a no-op on 3.11/3.12).
# It is built from source first, without pip's cache: cached wheels are keyed by interpreter,
# not by compiler flags, so one built without the define could otherwise be reused.
DURABLE_CPPFLAGS := -DPyEval_CallObject=PyObject_CallObject
DURABLE_RULES := $(shell grep -o 'durable-rules==[0-9.]*' pyproject.toml)
install_durable = CPPFLAGS="$(DURABLE_CPPFLAGS) $$CPPFLAGS" $(1)/python -m pip install --quiet \
	--no-cache-dir --no-binary durable-rules '$(DURABLE_RULES)'

# The interpreter the environment was built with; rewritten only when $(PYTHON) names another
# one, so the stamps below are rebuilt when the interpreter changes, not on every run. The
# `+` runs it under `make -n` too, so a dry run shows what a real one would do.
PYTHON_ID = $(shell $(PYTHON) -c 'import os, sys; print(os.path.realpath(sys.executable), *sys.version_info[:3])' 2>/dev/null)
INTERPRETER := $(VENV)/.interpreter
RUNTIME := $(VENV)/.runtime

$(INTERPRETER): FORCE
	+@id='$(PYTHON_ID)'; \
	if [ -z "$$id" ]; then echo "make: '$(PYTHON)' is not a working Python interpreter" >&2; exit 1; fi; \
	if [ "$$(cat $@ 2>/dev/null)" != "$$id" ]; then mkdir -p $(VENV) && echo "$$id" > $@; fi

# What predicting needs (`make example`): built from scratch, and removed again if any step
# fails, so an interrupted or failed build never leaves a half-made environment behind.
$(RUNTIME): pyproject.toml $(INTERPRETER)
	@rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip || { rm -rf $(VENV); exit 1; }
	$(call install_durable,$(BIN)) || { rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet -e . || { rm -rf $(VENV); exit 1; }
	@echo '$(PYTHON_ID)' > $(INTERPRETER)
	@touch $(RUNTIME)

# The dev tools on top (tests, lint, type check, wheel build).
$(STAMP): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev]' || { rm -rf $(VENV); exit 1; }
	@touch $(STAMP)

example: $(RUNTIME)  ## predict the bundled example case (runtime dependencies only)
	$(BIN)/refundrules predict $(EXAMPLE) --as-of $(AS_OF) --lang en

# Hypothesis runs few examples by default and the thorough profile under CI (CI=true, as .ci/run
# is started) or HYPOTHESIS_PROFILE=ci; pytest-xdist spreads the suite over the machine's cores,
# each worker taking tests from the others' queues once its own is done (worksteal).
HYPOTHESIS_PROFILE ?= $(if $(CI),ci,dev)
WORKERS ?= auto
SUITE_ENV = PYTHONDONTWRITEBYTECODE= HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE)
PYTEST_ARGS = -n $(WORKERS) --dist worksteal

# Coverage where it is cheap: from Python 3.12 coverage.py measures lines through sys.monitoring
# (COVERAGE_CORE=sysmon), which stops reporting a line once it is seen, so `make test` costs
# about what the suite costs. Python 3.11 has only the C tracer, which slows this suite by about
# 65 % on two cores, so there `make test` runs the suite without it (CI runs 3.12 and 3.13 too)
# unless COVERAGE=yes. `make coverage` measures branches as well, with the C tracer, on any Python.
COVERAGE ?= $(if $(filter 11,$(word 3,$(PYTHON_ID))),no,yes)
COVERAGE_CORE_FOR = $(if $(filter 11,$(word 3,$(PYTHON_ID))),,COVERAGE_CORE=sysmon)

# Coverage over the xdist workers: `coverage run` measures pytest's own process and, with
# `patch = ["subprocess"]` (pyproject.toml), every Python process started below it from its
# interpreter's start-up, so the workers are measured before our pytest plugin imports
# refundrules. Each writes its own data file (`parallel = true`); `coverage combine` merges them.
# PYTHONDONTWRITEBYTECODE is cleared for the run: pytest keeps the modules it rewrites for its
# assertions (the tests, and the packages of every pytest plugin: hypothesis, schemathesis ...)
# only as bytecode files; without them each pytest process rewrites ~500 modules again (~4 s).
define measured
	$(BIN)/python -m coverage erase
	$(strip $(1) $(SUITE_ENV) $(BIN)/python -m coverage run $(2) -m pytest $(PYTEST_ARGS))
	$(BIN)/python -m coverage combine --quiet
	$(BIN)/python -m coverage report --skip-covered
endef

ifeq ($(COVERAGE),yes)
test: $(STAMP)  ## the test suite (unit, pack tests, hazard regressions, properties), line coverage
	$(call measured,$(COVERAGE_CORE_FOR),)
else
test: $(STAMP)  ## the test suite; Python 3.11 without coverage (see above)
	@echo "make test: Python 3.11 runs the suite without coverage (COVERAGE=yes measures it here too)"
	$(SUITE_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS) -q
endif

test-fast: $(STAMP)  ## the suite on every core (pytest-xdist), no coverage
	$(SUITE_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS) -q

coverage: $(STAMP)  ## the suite under branch coverage (C tracer): thorough, slower
	$(call measured,,--branch)

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
	cd /tmp && $(CURDIR)/.venv-wheel/bin/refundrules validate taobao  # includes rules/_shared/china_law
	cd /tmp && $(CURDIR)/.venv-wheel/bin/refundrules predict $(CURDIR)/$(EXAMPLE) --as-of $(AS_OF) --format json > /dev/null
	cd /tmp && $(CURDIR)/.venv-wheel/bin/python -c "import refundrules, sys; p = refundrules.load_rule_pack('pinduoduo'); assert 'site-packages' in str(p.root), p.root; print('wheel ok:', p)"

# The benchmark also needs zen-engine (the `bench` extra), which the tests do not.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]' || { rm -f $(BENCH_STAMP); exit 1; }
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## predictions per second (fast path vs reference path), fire vs zen-engine
	$(BIN)/python benchmarks/bench_predict.py

clean:
	rm -rf $(VENV) .venv-wheel .venv312 .venv313 dist build .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage .coverage.*
