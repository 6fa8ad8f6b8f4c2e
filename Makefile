# Two commands do all set-up:  `make book`  and  `make test`.
# Both create (or reuse) .venv and install this project from pyproject.toml into it.
# Point the data at a local copy with  DATA_DIR=/path/to/data  (or export RESBOOK_DATA_DIR);
# local ImageNet weights with  WEIGHTS_DIR=/path/to/weights  (or RESBOOK_WEIGHTS_DIR).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# tf-cpu: CPU-only TensorFlow wheels (Linux/Windows x86-64); use EXTRAS=tf,jax,book,test elsewhere.
# jax: Keras's JAX backend (CPU build here), tested because the GPU cells run through it.
EXTRAS ?= tf-cpu,jax,book,test

DATA_DIR    ?= $(RESBOOK_DATA_DIR)
WEIGHTS_DIR ?= $(RESBOOK_WEIGHTS_DIR)
export RESBOOK_DATA_DIR    := $(DATA_DIR)
export RESBOOK_WEIGHTS_DIR := $(WEIGHTS_DIR)
export RESBOOK_CACHE_DIR   ?= $(CURDIR)/.cache/resbook
export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 2

BOOK_CONFIG ?= configs/book.yaml
# Your own images: make book DATASET=folder FOLDER=/path/to/photos POSITIVE=acne [REGIME=full]
# runs the data chapter, a sweep and the results chapter on FOLDER into results/own/<name>/.
DATASET  ?=
FOLDER   ?=
POSITIVE ?=
REGIME   ?= frozen
OWN_OPTS ?=
# The values reach the recipe as environment variables ("$$FOLDER"), never pasted into the
# shell line, so a path with spaces, quotes, backticks or $(...) is passed as it is and never
# runs; `$(value ...)` keeps make itself from expanding a `$` in them.
override DATASET  := $(value DATASET)
override FOLDER   := $(value FOLDER)
override POSITIVE := $(value POSITIVE)
override REGIME   := $(value REGIME)
export DATASET FOLDER POSITIVE REGIME
# Where `jupyter-book build .` writes the HTML (the one place that names it).
HTML_DIR := _build/html
SWEEP       ?= configs/paper.yaml

.PHONY: help venv book book-args notebooks html screenshots test test-fast toc lint sweep bench clean

help:
	@echo "make book    - execute the chapters with papermill and build the HTML book (book/_build/html)"
	@echo "make book DATASET=folder FOLDER=/path/to/photos POSITIVE=acne - the book on your own images"
	@echo "make test    - lint, unit tests, smoke sweep and nbval on the executed chapters"
	@echo "make test-fast - lint and the quick tests (under a minute): the inner loop"
	@echo "make html    - build the HTML from the committed executed chapters only"
	@echo "make toc     - regenerate _toc.yml from the chapter registry $(BOOK_CONFIG)"
	@echo "make sweep   - run the sweep in SWEEP=$(SWEEP) (resumable)"
	@echo "make bench   - print the pipeline and sweep benchmarks"

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

venv: $(BIN)/.installed

# Re-executes only chapters whose inputs changed; FORCE=1 re-executes all.
notebooks: venv
	$(BIN)/python -m helpers notebooks $(BOOK_CONFIG) $(if $(FORCE),--force,)

html: venv
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@test -f $(HTML_DIR)/index.html && echo "Open $(CURDIR)/$(HTML_DIR)/index.html"

# DATASET is either empty (the book's own data) or `folder`; FOLDER and POSITIVE only go with
# DATASET=folder. Anything else is a typo that would otherwise build the ISIC book silently.
book-args:
	@case "$$DATASET" in \
	  ""|folder) ;; \
	  *) echo "make book: DATASET='$$DATASET' is not known: use DATASET=folder (your own images) or leave DATASET unset (the book's data)" >&2; exit 2;; \
	esac
	@if [ "$$DATASET" = folder ]; then \
	  [ -n "$$FOLDER" ] && [ -n "$$POSITIVE" ] || { echo "make book DATASET=folder needs FOLDER=/path/to/photos POSITIVE=<class folder name>" >&2; exit 2; }; \
	else \
	  for v in FOLDER POSITIVE; do \
	    eval "val=\$$$$v"; [ -z "$$val" ] || { echo "make book: $$v is set but DATASET is not 'folder': add DATASET=folder to run the book on your own images" >&2; exit 2; }; \
	  done; \
	fi

ifeq ($(DATASET),folder)
book: book-args venv
	$(BIN)/python -m helpers own-folder --folder "$$FOLDER" --positive "$$POSITIVE" --regime "$$REGIME" $(OWN_OPTS)
else
book: book-args toc notebooks html
endif

screenshots: venv
	$(BIN)/python -m helpers screenshot $(HTML_DIR) --out _build/screenshots

# nbval modes come from the registry (configs/book.yaml): `strict` chapters have every output
# checked; `lax` ones only their nbval-check-output cells (training logs and timings vary).
NBVAL_OPTS := --sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider
CHAPTERS   = $(BIN)/python -m helpers chapters $(BOOK_CONFIG)

test: venv
	$(BIN)/ruff check src tests notebooks scripts
	$(BIN)/python -m helpers toc $(BOOK_CONFIG) --check
	$(BIN)/python -m pytest --durations=10
	$(BIN)/python -m pytest --nbval $(NBVAL_OPTS) $$($(CHAPTERS) --nbval strict)
	$(BIN)/python -m pytest --nbval-lax $(NBVAL_OPTS) $$($(CHAPTERS) --nbval lax)

# The inner loop: lint and the tests of pure functions (no Keras model, kernel, book build or
# browser; tests/conftest.py says which tests are heavy). Under a minute; `make test` is the gate.
test-fast: venv
	$(BIN)/ruff check src tests notebooks scripts
	$(BIN)/python -m pytest -q -m "not heavy and not slow and not browser" --ignore=tests/test_book.py

toc: venv
	$(BIN)/python -m helpers toc $(BOOK_CONFIG)

sweep: venv
	$(BIN)/python -m helpers sweep $(SWEEP)

bench: venv
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf _build .pytest_cache .ruff_cache
