# Every target bootstraps what it needs from python3 alone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test lint typecheck pytest bench bench-server clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e . 'uvicorn[standard]>=0.30'
	touch $@

serve: $(VENV)/.installed-run
	$(BIN)/uvicorn examples.app:app --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check framework tests examples benchmarks
	$(BIN)/ruff format --check framework tests examples benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy framework

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.run

# wrk is a Debian package, installed when missing (with sudo unless root). The package lists are
# refreshed only when the first attempt fails, as it does on a machine that never fetched them.
bench-server: $(VENV)/.installed-dev
	@command -v wrk >/dev/null || { \
		apt="$$([ "$$(id -u)" -eq 0 ] || echo sudo) env DEBIAN_FRONTEND=noninteractive apt-get"; \
		$$apt install -y wrk || { $$apt update && $$apt install -y wrk; }; \
	}
	$(BIN)/python -m benchmarks.server

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist .bench
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
