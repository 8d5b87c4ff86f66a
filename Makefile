# studybot — two commands do all the set-up on a fresh machine:
#   make run    create .venv, install, start the bot (console + web archive when no token is set)
#   make test   create .venv, install everything incl. Node test peers (and Chromium, faketime on CI), run all tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PEERS := tests/peers
STAMP := $(VENV)/.installed
ifeq ($(CI),true)
export STUDYBOT_TEST_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
endif

.PHONY: run test lint unit venv peers chromium faketime clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,wechat,mp]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/studybot run $(ARGS)

$(PEERS)/node_modules/.installed: $(PEERS)/package.json $(PEERS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(PEERS) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: Node end-to-end tests will skip (they must run on CI)"; \
		test "$(CI)" != "true"; fi

peers: $(PEERS)/node_modules/.installed

# Debian's chromium for the browser tests, and a small CJK font so pages and charts show Chinese
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
			|| { echo "could not install chromium"; test "$(CI)" != "true"; }; \
		else echo "chromium not installed: browser tests will skip"; test "$(CI)" != "true"; fi; \
	fi

# Debian's faketime for the end-to-end run of the CLI across a clock change
faketime:
	@if ! command -v faketime >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null) \
			|| { echo "could not install faketime"; test "$(CI)" != "true"; }; \
		else echo "faketime not installed: the clock-change CLI test will skip"; test "$(CI)" != "true"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) peers chromium faketime lint
	$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

bench: $(STAMP) peers
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(PEERS)/node_modules .pytest_cache .mypy_cache .ruff_cache
