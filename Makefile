# Everything a fresh machine needs: `make demo`, `make test`, `make typecheck`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck bench clean opensearch opensearch-stop

# editable_mode=compat: a plain path entry, not setuptools' import hook, which
# costs every `newsearch` start about 30 ms.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]' \
		--config-settings editable_mode=compat
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/newsearch index seeds
	$(BIN)/newsearch query "Kim Poutine"

lint: install
	$(BIN)/ruff check searchengine tests benchmarks scripts/opensearch-cluster
	$(BIN)/python -W error -c "import searchengine, searchengine.cli"

test: lint typecheck
	$(BIN)/python -m pytest

# mypy --strict on searchengine/ (settings in pyproject.toml); part of `test`.
typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/analysis.py
	$(BIN)/python benchmarks/relevance.py
	$(BIN)/python benchmarks/indexing.py
	$(BIN)/python benchmarks/queries.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/hostile.py
	$(BIN)/python benchmarks/updates.py
	$(BIN)/python benchmarks/serve.py
	$(BIN)/python benchmarks/scale.py

# A local 2-node OpenSearch cluster in .opensearch/ (needs Java 17 and Maven):
# prints the URLs to put in NEWSEARCH_OPENSEARCH. See scripts/opensearch-cluster.
opensearch:
	$(PYTHON) scripts/opensearch-cluster start

opensearch-stop:
	$(PYTHON) scripts/opensearch-cluster stop

clean:
	rm -rf $(VENV) build *.egg-info
