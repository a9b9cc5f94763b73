# Two commands: `make run` starts the whole platform, `make test` runs the whole suite.
# Both set up what they need first: a virtualenv with pinned packages, and a running RabbitMQ.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench clean rabbitmq vendor

setup: $(STAMP) rabbitmq vendor
	@deploy/ensure-postgresql-client.sh

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "pip==26.3"
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

rabbitmq:
	@deploy/ensure-rabbitmq.sh

# The site's front-end libraries, pinned in package-lock.json (skipped with a message when npm is absent).
vendor:
	@deploy/vendor-assets.sh

run: setup
	$(BIN)/dsi run

test: setup
	@deploy/ensure-chromium.sh
	@deploy/ensure-promtool.sh $(VENV)
	@if [ -n "$(PYTEST_ARGS)" ]; then $(BIN)/python -m pytest $(PYTEST_ARGS); else PYTHON=$(BIN)/python deploy/test-halves.sh; fi

bench: setup
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y wrk; } || { echo "bench/load.py needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/load.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/newsletter.py
	$(BIN)/python bench/moderation.py
	$(BIN)/python bench/dataviz.py

clean:
	rm -rf $(VENV) var node_modules gateway/static/vendor
