# Two entry points, each doing all the set-up on a fresh machine (see README):
#   make serve   install, then run the service on the embedded defaults
#   make test    install with the dev tools, then lint, type-check and run the quick tests
# and make test-slow for the slow ones (real model, datasets, subprocess kills; CI runs both).
# make reliability runs the long reliability suite (tens of minutes) and appends its figures to
# eval/RESULTS.md; its short versions are slow tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_VERSION ?= 2.13.0
# Where a CPU-only torch comes from when this machine has no local build of it.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
PYPI_INDEX ?= https://pypi.org/simple

.PHONY: install install-dev serve test test-slow test-all test-docker lint typecheck pytest pytest-slow \
	reliability

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip

# torch first, and a CPU build: a wheel this machine already has (find-links or a local
# index), else the PyTorch CPU index. A plain `pip install torch` would take PyPI's CUDA build,
# several GB. Its dependencies come with the next step, which resolves torch's own.
$(VENV)/.torch: | $(BIN)/python
	$(BIN)/pip install --quiet --no-deps --no-index "torch==$(TORCH_VERSION)" 2>/dev/null || \
	  $(BIN)/pip install --quiet "torch==$(TORCH_VERSION)" \
	    --index-url $(TORCH_CPU_INDEX) --extra-index-url $(PYPI_INDEX)
	touch $@

# Stamps: nothing is installed again until pyproject.toml changes (make serve starts at once).
$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install --quiet -e .
	touch $@

# The ray extra too: tests/test_batch_ray.py runs the Ray engine on a local Ray (about 45 s).
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install --quiet -e ".[dev,ray]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

serve: install
	$(BIN)/intercoder serve

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy keeps its cache in .mypy_cache: a second run checks only what changed.
typecheck:
	$(BIN)/mypy

# pytest exits 5 when it collects nothing; that must fail the build, never pass quietly.
# Two workers (pytest-xdist), one test file each at a time: files share module fixtures.
define run_pytest
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile -m "$(1)"; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; \
	exit $$status
endef

pytest:
	$(call run_pytest,not slow and not container)

pytest-slow:
	$(call run_pytest,slow and not container)

# The image built and run with podman (minutes, and a registry or local base image: README,
# Docker); not part of CI's steps.
test-docker: install-dev
	$(BIN)/pytest -q -p no:cacheprovider -m container tests/test_docker.py

test: install-dev lint typecheck pytest
test-slow: install-dev pytest-slow
test-all: test test-slow

# Every long part of tests/reliability in turn; RELIABILITY_ARGS passes options through, e.g.
# make reliability RELIABILITY_ARGS='--parts crash --part-args crash="--cycles 5"'
reliability: install-dev
	$(BIN)/python -m tests.reliability $(RELIABILITY_ARGS)

# The review page's browser tests (tests/test_page_browser.py, slow) drive Debian's chromium;
# Playwright's own browser download is never used. Installs it where it is missing (root, apt).
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; }
