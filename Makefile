# `make demo` and `make test` make (or refresh) the virtual environment in .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

BENCH_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo test lint run bench

# The web console's browser tests drive Debian's Chromium with Playwright: no browser download is possible here.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y --no-install-recommends chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/nvqbot demo

# The end-to-end tests mostly wait on bot processes and the emulator, so four workers share two cores; an idle
# worker takes tests queued for a busy one (worksteal), so a few long tests at the end do not run one by one.
test: $(INSTALLED) $(CHROMIUM)
	$(BIN)/python -m pytest -q -n 4 --dist worksteal

# Ruff with the rules chosen in pyproject.toml, and mypy on bot/ (its settings are there too).
lint: $(INSTALLED)
	$(BIN)/ruff check bot/
	$(BIN)/mypy

run: $(INSTALLED)
	$(BIN)/nvqbot run

# Benchmarks at full size (see README for the figures); CI runs them tiny, as smoke tests.
bench: $(INSTALLED)
	$(BIN)/python bench/answers.py --database both --postgres-url $(BENCH_POSTGRES_URL)
	$(BIN)/python bench/exports.py
	$(BIN)/python bench/reminders.py --database both --postgres-url $(BENCH_POSTGRES_URL)
