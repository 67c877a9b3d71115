# Two commands do everything on a fresh Debian machine: `make` builds the book, `make test` tests it.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BOOK := $(PY) -m book
CONFIG ?= book.yaml
OUT ?= build
STAMP := $(VENV)/.installed
# Bytecode is cached (in the ignored __pycache__/): compiling the package's ~90 modules from source on
# every run cost 0.3 s of a 0.4 s up-to-date build, and as much in each of the tests' CLI runs.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: all epub pdf test lint lint-code help format check clean setup sysdeps manifest tools fuzz preview screenshots editor

all: setup ## build/<slug>.epub and build/<slug>.pdf from book.yaml
	$(BOOK) build --format all --config $(CONFIG) --out $(OUT)

epub: setup ## the EPUB only (checked by EPUBCheck)
	$(BOOK) build --format epub --config $(CONFIG) --out $(OUT)

pdf: setup ## the print PDF only
	$(BOOK) build --format pdf --config $(CONFIG) --out $(OUT)

.PHONY: pdf-screen pdf-review
pdf-screen: setup ## build/<slug>-screen.pdf: no bleed, live links, tagged PDF/UA-1
	$(BOOK) build --format pdf --profile screen --config $(CONFIG) --out $(OUT)

pdf-review: setup ## build/<slug>-review.pdf: draft watermark and build date on draft parts
	$(BOOK) build --format pdf --profile review --config $(CONFIG) --out $(OUT)

# The printer's cover spread for the built interior (built first when missing): build/<slug>-cover.pdf.
.PHONY: cover
cover: setup ## the printer's cover spread for the built interior: build/<slug>-cover.pdf
	$(BOOK) cover --config $(CONFIG) --out $(OUT)

manifest: setup ## the validated manifest with measured counts
	$(BOOK) manifest --config $(CONFIG)

# Every validator on the built files, one line per check; non-zero exit on any failure.
check: setup ## every validator on the built files, one line each
	@$(BOOK) check --config $(CONFIG) --out $(OUT)

# One worker per core: most tests wait on one single-threaded tool (Pandoc, WeasyPrint, the JVM).
TEST_WORKERS ?= auto
test: setup preview/node_modules ## the unit and integration tests
	$(PY) -m pytest -q -n $(TEST_WORKERS)

# A longer fuzz campaign over Markdown → EPUB than the one `make test` runs.
fuzz: setup ## a longer fuzz campaign over Markdown → EPUB
	BOOK_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} BOOK_FUZZ_EPUBCHECK=$${FUZZ_EPUBCHECK:-10} $(PY) -m pytest -q -s tests/test_fuzz.py

lint: setup ## the manuscript's problems as file:line: message (book lint)
	$(BOOK) lint --config $(CONFIG)

lint-code: setup ## ruff check and ruff format --check over the code and tests
	$(PY) -m ruff check book tests
	$(PY) -m ruff format --check book tests

# Every target with its `## ` line, from this file.
help: ## this list
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z_-]+):.*## (.*)/\1\t\2/' | expand -t 14

format: setup ## ruff format and ruff check --fix over the code
	$(PY) -m ruff format book tests
	$(PY) -m ruff check --fix book tests

clean: ## remove build/
	rm -rf $(OUT)

setup: sysdeps $(STAMP) tools ## the venv, npm tools and Debian packages the build needs
# DAISY Ace (npm) into the ignored .tools/, from the committed lock file; it drives Debian's chromium.
ACE_STAMP := .tools/.installed
tools: $(ACE_STAMP)
$(ACE_STAMP): scripts/ace/package.json scripts/ace/package-lock.json
	mkdir -p .tools && cp scripts/ace/package.json scripts/ace/package-lock.json .tools/
	cd .tools && PUPPETEER_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund --loglevel=error
	touch $@
# Mermaid's CLI (npm) into .tools/mermaid, from its own lock file: ```mermaid fences drawn by Debian's chromium.
MERMAID_STAMP := .tools/mermaid/.installed
tools: $(MERMAID_STAMP)
$(MERMAID_STAMP): scripts/mermaid/package.json scripts/mermaid/package-lock.json
	mkdir -p .tools/mermaid && cp scripts/mermaid/package.json scripts/mermaid/package-lock.json .tools/mermaid/
	cd .tools/mermaid && PUPPETEER_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund --loglevel=error
	touch $@

# EPUBCheck's lazy schemas, Jing without its restriction checks and unsigned Saxon (book.check.jars) in ~/.cache/book/epubcheck-jars and its
# class-data archive (book.check.cds) in ~/.cache/book/cds, once per Java runtime and jar (the archive
# after the jars: it lists their class path), and the small book a first build's EPUBCheck JVM warms up on
# (book.tools.warmup): each EPUBCheck run then starts faster; a missing or stale one only means a slower start.
.PHONY: epubcheck-cds
tools: epubcheck-cds
epubcheck-cds: $(STAMP)
	-$(PY) -m book.check.jars
	-$(PY) -m book.check.cds
	-$(PY) -m book.tools.warmup
# EPUBCheck's server (book.check.daemon), compiled into ~/.cache/book/epubcheck-server when javac is there.
.PHONY: epubcheck-server
tools: epubcheck-server
epubcheck-server: $(STAMP)
	-$(PY) -m book.check.daemon

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
preview: setup preview/node_modules ## the EPUB in an e-reader page on 127.0.0.1, reloaded on every edit
	$(BOOK) preview --config $(CONFIG) --out $(OUT) $(if $(PORT),--port $(PORT)) $(if $(READER),--reader $(READER))

screenshots: setup preview/node_modules ## PNGs of each chapter's first pages per device
	$(BOOK) screenshots --config $(CONFIG) --out $(OUT)

editor: setup ## the editor's package: review PDF, DOCX, EPUB, report
	$(BOOK) editor --config $(CONFIG) --out $(OUT)

# Our builds against plain pandoc → WeasyPrint (BENCH_RUNS=3, BENCH_QUICK=1): build/bench.json, build/bench.png.
.PHONY: bench
bench: setup preview/node_modules ## what authors wait for, measured (build/bench.json)
	$(BOOK) bench --out $(OUT)
