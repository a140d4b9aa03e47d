# `make demo` and `make test` make (or refresh) the virtual environment in .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

BENCH_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo test run bench

$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/nvqbot demo

# The end-to-end tests mostly wait on bot processes and the emulator: four workers keep the suite under ten minutes on two cores.
test: $(INSTALLED)
	$(BIN)/python -m pytest -q -n 4

run: $(INSTALLED)
	$(BIN)/nvqbot run

# Benchmarks at full size (see README for the figures); CI runs them tiny, as smoke tests.
bench: $(INSTALLED)
	$(BIN)/python bench/answers.py --database both --postgres-url $(BENCH_POSTGRES_URL)
	$(BIN)/python bench/exports.py
	$(BIN)/python bench/reminders.py --database both --postgres-url $(BENCH_POSTGRES_URL)
