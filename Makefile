# SynapseNet developer commands. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
DEMO_DIR ?= build/demo

.PHONY: install test lint suite harness-test verify demo clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

suite: install
	$(PY) -m pytest tests

harness-test: install
	$(PY) -m pytest harness/tests environment/tests -p no:django

verify: install
	$(PY) -m harness verify --quick

test: lint suite harness-test verify

demo: install
	$(PY) -m harness demo --out $(DEMO_DIR)

clean:
	rm -rf build var .pytest_cache .ruff_cache
