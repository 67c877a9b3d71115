# Two commands do everything on a fresh Debian machine: `make` builds the book, `make test` tests it.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BOOK := $(PY) -m book
CONFIG ?= book.yaml
OUT ?= build
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: all epub pdf test lint format check clean setup sysdeps manifest tools fuzz preview screenshots editor

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

# The printer's cover spread for the built interior (built first when missing): build/<slug>-cover.pdf.
.PHONY: cover
cover: setup
	$(BOOK) cover --config $(CONFIG) --out $(OUT)

manifest: setup
	$(BOOK) manifest --config $(CONFIG)

# Every validator on the built files, one line per check; non-zero exit on any failure.
check: setup
	@$(BOOK) check --config $(CONFIG) --out $(OUT)

test: setup preview/node_modules
	$(PY) -m pytest -q

# A longer fuzz campaign over Markdown → EPUB than the one `make test` runs.
fuzz: setup
	BOOK_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} BOOK_FUZZ_EPUBCHECK=$${FUZZ_EPUBCHECK:-10} $(PY) -m pytest -q -s tests/test_fuzz.py

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

# The reader page's npm packages (epub.js, JSZip), installed from the lock file and served locally.
preview/node_modules: preview/package.json preview/package-lock.json
	cd preview && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# `make preview` reads the book in a local e-reader page; `make preview READER=calibre` in calibre.
preview: setup preview/node_modules
	$(BOOK) preview --config $(CONFIG) --out $(OUT) $(if $(PORT),--port $(PORT)) $(if $(READER),--reader $(READER))

screenshots: setup preview/node_modules
	$(BOOK) screenshots --config $(CONFIG) --out $(OUT)

editor: setup
	$(BOOK) editor --config $(CONFIG) --out $(OUT)

# Our builds against plain pandoc → WeasyPrint (BENCH_RUNS=3, BENCH_QUICK=1): build/bench.json, build/bench.png.
.PHONY: bench
bench: setup
	$(BOOK) bench --out $(OUT)
