# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: test lint typecheck unit demo golden bench clean generate checkov

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check operator providers tests benchmarks scripts
	$(BIN)/ruff format --check operator providers tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# checkov has its own venv so its pins never fight ours; installing it takes ~20 s, a scan ~7 s.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp

$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==3.3.30'
	touch $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --directory terraform/aws --framework terraform --skip-download --quiet --compact
	$(CHECKOV_VENV)/bin/checkov --directory terraform/azure --framework terraform --skip-download --quiet --compact
	$(CHECKOV_VENV)/bin/checkov --directory terraform/gcp --framework terraform --skip-download --quiet --compact

test: lint typecheck unit checkov

golden: $(STAMP)
	$(BIN)/pytest tests/golden --update-golden

demo: $(STAMP)
	$(BIN)/portico demo $(ARGS)

generate: $(STAMP)
	$(BIN)/python scripts/generate.py

bench: $(STAMP)
	$(BIN)/python benchmarks/translate.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .mypy_cache .ruff_cache
