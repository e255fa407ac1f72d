# SynapseNet developer commands. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
INFRA_STAMP := $(VENV)/.infra-$(shell cat requirements-infra.txt | cksum | cut -d' ' -f1)
FUZZ_VENV := .venv-fuzz
FUZZ_STAMP := $(FUZZ_VENV)/.installed-$(shell cat requirements-fuzz.txt | cksum | cut -d' ' -f1)
DEMO_DIR ?= build/demo

.PHONY: install install-infra test lint suite harness-test infra-unit devstack-unit checks verify \
	demo clean infra-up infra-down infra-status test-infra up down status fuzz

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install-infra: $(INFRA_STAMP)

$(INFRA_STAMP): requirements-infra.txt | $(STAMP)
	$(PIP) -r requirements-infra.txt
	rm -f $(VENV)/.infra-* && touch $@

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy shared environment services harness infra devstack benchmarks
	$(VENV)/bin/lint-imports --no-cache

# The scored suite runs on embedded databases even in a shell that exported `python -m infra env`
# (Django reads SYNAPSE_DB_* before any conftest runs; tests/conftest.py pins the other ports).
suite: install
	env $(foreach a,MODELS USERS EXPERIMENTS METRICS,-u SYNAPSE_DB_$(a)_DB_URL) $(PY) -m pytest tests

harness-test: install
	$(PY) -m pytest harness/tests environment/tests -p no:django

infra-unit: install
	$(PY) -m pytest infra/tests/unit

devstack-unit: install
	$(PY) -m pytest devstack/tests

checks: install
	$(PY) -m pytest checks

verify: install
	$(PY) -m harness verify --quick

test: lint suite harness-test infra-unit devstack-unit checks verify

demo: install
	$(PY) -m harness demo --out $(DEMO_DIR)

infra-up: install install-infra
	$(PY) -m infra up

infra-down: install
	$(PY) -m infra down

infra-status: install
	$(PY) -m infra status

test-infra: install
	$(PY) -m pytest infra/tests/live

# The built services as local processes: embedded defaults, or the real stack when
# `eval "$$(.venv/bin/python -m infra env)"` ran first (see README, Run the platform locally).
up: install
	$(PY) -m devstack up

down: install
	$(PY) -m devstack down

status: install
	$(PY) -m devstack status

# Schemathesis (all checks) against every service `make up` runs; exit 1 on any failure.
# Its own virtualenv: schemathesis needs a newer pytest than the suite pins.
fuzz: install $(FUZZ_STAMP)
	$(PY) -m devstack.fuzz

$(FUZZ_STAMP): requirements-fuzz.txt
	test -x $(FUZZ_VENV)/bin/python || $(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-fuzz.txt
	rm -f $(FUZZ_VENV)/.installed-* && touch $@

clean:
	rm -rf build var .pytest_cache .ruff_cache
