# Two commands do everything on a fresh Debian machine: `make` builds the book, `make test` tests it.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BOOK := $(PY) -m book
CONFIG ?= book.yaml
OUT ?= build
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: all epub pdf test lint format check clean setup sysdeps manifest tools

all: setup
	$(BOOK) build --format all --config $(CONFIG) --out $(OUT)

epub: setup
	$(BOOK) build --format epub --config $(CONFIG) --out $(OUT)

pdf: setup
	$(BOOK) build --format pdf --config $(CONFIG) --out $(OUT)

.PHONY: pdf-screen pdf-review
pdf-screen: setup
	$(BOOK) build --format pdf --profile screen --config $(CONFIG) --out $(OUT)

pdf-review: setup
	$(BOOK) build --format pdf --profile review --config $(CONFIG) --out $(OUT)

manifest: setup
	$(BOOK) manifest --config $(CONFIG)

# Every validator on the built files, one line per check; non-zero exit on any failure.
check: setup
	@$(BOOK) check --config $(CONFIG) --out $(OUT)

test: setup
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check book tests
	$(PY) -m ruff format --check book tests
	$(BOOK) lint --config $(CONFIG)

format: setup
	$(PY) -m ruff format book tests
	$(PY) -m ruff check --fix book tests

clean:
	rm -rf $(OUT)

setup: sysdeps $(STAMP) tools

# DAISY Ace (npm) into the ignored .tools/, from the committed lock file; it drives Debian's chromium.
ACE_STAMP := .tools/.installed
tools: $(ACE_STAMP)
$(ACE_STAMP): scripts/ace/package.json scripts/ace/package-lock.json
	mkdir -p .tools && cp scripts/ace/package.json scripts/ace/package-lock.json .tools/
	cd .tools && PUPPETEER_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund --loglevel=error
	touch $@

sysdeps:
	@bash scripts/sysdeps.sh

# Reinstalls only when the pinned requirements or the project's metadata change.
$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@
