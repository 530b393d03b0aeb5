# Rapport: `make run` starts the product on SQLite, `make test` runs every check. Both set up from nothing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10: take the first python3.10 that really runs (pyenv shims can exist but fail).
PY310 := $(shell for c in python3.10 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10*/bin/python3.10 \
	/root/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	$$c -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo $$c; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NLU_DATA := $(shell find data/nlu training/acts -name "*.yml" 2>/dev/null)
RASA_DATA := $(shell find data -name "*.yml" 2>/dev/null)
SCORER_SRC := $(wildcard benchmarks/coded-replies/*.jsonl bot/evaluation/coded.py bot/scoring/train.py bot/scoring/pipeline.py bot/scoring/linear.py bot/scoring/taxonomy.py bot/scoring/resources/*)
SCORER := models/scorer/rapport_meta.json
RASA_MODEL := models/rapport.tar.gz
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help run test train lint typecheck bench nlu-report browser-deps clean

help:
	@echo "make run        start Rapport on http://localhost:8000 (SQLite)"
	@echo "make test       lint, type-check, validate Rasa data, all tests"
	@echo "make train      train the Rasa model and the scorer (only when their inputs changed)"
	@echo "make bench      latency, throughput and memory figures"
	@echo "make nlu-report NLU cross-validation report (per-intent F1)"

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PY310)" ]; then echo "Python 3.10 is required (Rasa 3.6 does not install on 3.11+)."; \
	  echo "Install it (e.g. 'pyenv install 3.10' or your package manager's python3.10) and run make again."; exit 1; fi
	@test -x $(BIN)/python || $(PY310) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==24.0"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

$(SCORER): $(STAMP) $(NLU_DATA) $(SCORER_SRC)
	$(BIN)/rapport train-scorer

$(RASA_MODEL): $(STAMP) config.yml domain.yml $(RASA_DATA)
	$(BIN)/rasa train --fixed-model-name rapport --out models --quiet

train: $(SCORER) $(RASA_MODEL)

run: train
	$(BIN)/rapport run

lint: $(STAMP)
	$(BIN)/ruff check bot actions tests
	$(BIN)/ruff format --check bot actions tests

typecheck: $(STAMP)
	$(BIN)/mypy bot actions

browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: train lint typecheck browser-deps
	$(BIN)/rasa data validate --fail-on-warnings --quiet
	$(BIN)/rasa test core --model $(RASA_MODEL) --stories tests/stories --fail-on-prediction-errors --out results/core --quiet
	$(BIN)/pytest -q

bench: train
	$(BIN)/rapport bench

nlu-report: $(STAMP)
	$(BIN)/rasa test nlu --cross-validation --folds 5 --out results/nlu --quiet
	$(BIN)/python -m bot.nlu_report results/nlu

clean:
	rm -rf models results var/log
