# Two commands do everything on a fresh machine (Python 3.11+):
#   make chat   install into .venv and talk to the bot in this terminal (SQLite, no chat tool)
#   make test   install into .venv (with test tools), run the linter, the type checker and the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: chat serve test lint typecheck format install browser strace clean lock

# Installs exactly the versions (and files: --require-hashes) of requirements.lock, which
# holds the runtime, both extras (postgres, use) and the test tools; then wolbot itself.
$(BIN)/wolbot: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@$(BIN)/python -m pip check || { echo "requirements.lock lacks what pyproject.toml asks for: run make lock"; exit 1; }
	touch $(BIN)/wolbot

# Re-resolve the lock files after a change of pyproject.toml's dependencies (needs pip-tools).
lock:
	pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --extra dev \
		-o requirements.lock pyproject.toml
	pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --extra postgres \
		-o requirements-runtime.lock pyproject.toml

install: $(BIN)/wolbot

# Debian's chromium for the dashboard's browser test (installed when root; CI runs as root).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get install -y -qq chromium; } || \
		echo "chromium is not installed (needs root): the browser test is skipped locally"

# Debian's strace for the test that watches `wolbot serve` connect to nothing unconfigured.
strace:
	@command -v strace >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get install -y -qq strace; } || \
		echo "strace is not installed (needs root): the no-outbound test checks proxies only"

# The dashboard screenshots in docs/ (desktop and phone, English and Dutch).
screenshots: install browser
	$(BIN)/python scripts/dashboard_screenshots.py

chat: install
	$(BIN)/wolbot chat

serve: install
	$(BIN)/wolbot serve

lint: install
	$(BIN)/ruff check .

# mypy: strict on bot/, mypy's defaults on adapters/ ([tool.mypy] in pyproject.toml).
typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .

test: install browser strace
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2

clean:
	rm -rf $(VENV) *.egg-info
