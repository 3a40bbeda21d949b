# Two entry points, each doing all the set-up on a fresh machine (see README):
#   make serve   install, then run the service on the embedded defaults
#   make test    install with the dev tools, then lint, type-check and run the tests
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-dev serve test lint typecheck pytest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip

# torch is pinned to the CPU build first so that nothing resolves to a multi-GB CUDA build.
install: $(BIN)/python
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e .

# The ray extra too: tests/test_batch_ray.py runs the Ray engine on a local Ray (about 45 s).
install-dev: $(BIN)/python
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[dev,ray]"

serve: install
	$(BIN)/intercoder serve

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

# pytest exits 5 when it collects nothing; that must fail the build, never pass quietly.
pytest:
	$(BIN)/pytest -q -p no:cacheprovider; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; \
	exit $$status

test: install-dev lint typecheck pytest
