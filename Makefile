# askdoc: `make serve` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DOCS   ?= docs
INDEX  ?= .askdoc/index

.PHONY: install index serve test test-fast bench clean help

help:
	@echo "make serve     set up, build the index when missing or stale, start askdoc"
	@echo "make test      set up, then run the whole test suite"
	@echo "make test-fast the suite without slow tests (browser, load, XQuAD)"
	@echo "make bench     quality and speed benchmarks (tests/benchmarks/)"
	@echo "make index     build or refresh the index of $(DOCS)"
	@echo "make clean     remove the virtualenv and the index"

# Reinstall whenever the dependency list or the pinned versions change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[serve,test]'
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/askdoc index --docs $(DOCS) --index $(INDEX)

serve: install
	$(BIN)/askdoc chat --docs $(DOCS) --index $(INDEX)

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

bench: install
	$(BIN)/python tests/benchmarks/quality.py

clean:
	rm -rf $(VENV) .askdoc
