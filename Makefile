# Babelwire: `make run` (live system), `make test` (whole suite), `make demo` (offline demo).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Debian packages: Apertium and every language pair Debian ships (the offline translation
# engine; the router picks routes among them by measured quality), and Apertium-APy.
APERTIUM_PAIRS := apertium-eng-spa apertium-eng-cat apertium-fr-es apertium-es-pt \
	apertium-rus-ukr apertium-spa-ita apertium-cat-ita apertium-spa-cat apertium-por-cat \
	apertium-fra-cat apertium-es-ro apertium-es-gl apertium-en-gl apertium-pt-gl \
	apertium-eu-en apertium-eu-es apertium-hbs-eng apertium-hbs-mkd apertium-hbs-slv \
	apertium-mkd-eng apertium-mkd-bul apertium-isl-eng apertium-isl-swe apertium-swe-dan \
	apertium-swe-nor apertium-dan-nor apertium-nno-nob apertium-bel-rus apertium-afr-nld \
	apertium-ind-zlm apertium-oc-ca apertium-oc-es apertium-oci-fra apertium-arg-cat \
	apertium-spa-arg apertium-spa-ast apertium-br-fr apertium-cat-srd apertium-srd-ita \
	apertium-eo-ca apertium-eo-en apertium-eo-es apertium-eo-fr apertium-fra-frp \
	apertium-pol-szl apertium-urd-hin
SYSTEM_PACKAGES := apertium $(APERTIUM_PAIRS) apertium-apy

# Only for the test suite: a browser for the website's end-to-end tests, wrk for benchmarks,
# Redis for the distributed runner's tests (each starts its own server on a free port).
TEST_SYSTEM_PACKAGES := chromium wrk redis-server

.PHONY: run test demo setup test-deps lint typecheck check bench clean

setup: $(VENV)/.installed $(VENV)/.system-deps

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

$(VENV)/.system-deps: Makefile scripts/system-deps.sh
	@scripts/system-deps.sh $(SYSTEM_PACKAGES)
	@mkdir -p $(VENV) && touch $@

test-deps: $(VENV)/.test-deps

# axe-core (accessibility checks) comes from the npm registry, pinned in the lock file.
$(VENV)/.test-deps: scripts/system-deps.sh tests/browser/package.json tests/browser/package-lock.json
	@scripts/system-deps.sh $(TEST_SYSTEM_PACKAGES)
	@command -v npm >/dev/null 2>&1 || scripts/system-deps.sh npm
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	@mkdir -p $(VENV) && touch $@

run: setup
	$(BIN)/babelwire serve

demo: setup
	$(BIN)/babelwire demo

lint: setup
	$(BIN)/ruff check babelwire tests benchmarks

typecheck: setup
	$(BIN)/mypy

check: lint typecheck

test: setup test-deps check
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: setup
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
