# Two commands do everything on a fresh machine (Python 3.11+):
#   make chat   install into .venv and talk to the bot in this terminal (SQLite, no chat tool)
#   make test   install into .venv (with test tools) and run the linter and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: chat serve test lint install browser strace clean

$(BIN)/wolbot: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/wolbot

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

test: install browser strace
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2

clean:
	rm -rf $(VENV) *.egg-info
