# inferchip: every target bootstraps .venv itself (Python 3.11+ on PATH as python3).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint fuzz validate-splits validate-table catalog-table readme-examples plan-examples docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## compare every accelerator on the bundled default workload
	$(BIN)/inferchip compare --format table

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest

bench: $(STAMP)  ## wall times: compare, --help, sweep, uncertainty
	$(BIN)/python bench/bench.py

validate-splits: $(STAMP)  ## refit per held-out split (LOO, time): data/heldout.csv (a few minutes)
	$(BIN)/python scripts/validate_splits.py

validate-table: $(STAMP)  ## regenerate the accuracy table in docs/accuracy.md from `inferchip validate`
	$(BIN)/python scripts/validate_table.py

catalog-table: $(STAMP)  ## regenerate the catalog table in docs/catalog.md from data/catalog.csv
	$(BIN)/python scripts/readme_catalog.py

readme-examples: $(STAMP)  ## regenerate the sample outputs in README.md (100 columns, no colour)
	$(BIN)/python scripts/readme_examples.py

plan-examples: $(STAMP)  ## regenerate the sample outputs of the worked example in docs/plan.md
	$(BIN)/python scripts/plan_examples.py

docs: validate-splits validate-table catalog-table readme-examples plan-examples  ## regenerate data/heldout.csv, every generated table and sample output

lint: $(STAMP)
	$(BIN)/ruff check inferchip tests bench scripts

fuzz: $(STAMP)  ## longer property-based fuzzing run
	INFERCHIP_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest tests -k fuzz -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
