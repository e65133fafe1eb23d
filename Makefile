# Touchline: `make run` builds the warehouse, `make test` runs the tests. Nothing needs activating.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# Bytecode compiled once at install: with PYTHONDONTWRITEBYTECODE set (as on these machines) every
# process (the pipeline, each dbt command, each test's child) would otherwise compile Dagster, dbt
# and Great Expectations from source again.
export UV_COMPILE_BYTECODE := 1
export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: run test test-spark test-all ui bench setup demo-data codegen clean

run: setup ## Build the warehouse (demo landing zone unless TOUCHLINE_LANDING is set)
	$(VENV)/bin/touchline run

test: setup ## Run the test suite
	$(VENV)/bin/pytest

# The dbt project on Spark, in a venv of its own with the spark extra (dbt-spark, pyspark; Java 17).
SPARK_VENV := .venv-spark
test-spark: $(SPARK_VENV)/.synced ## Build the demo lake with dbt on DuckDB and on Spark; every mart must be the same
	$(SPARK_VENV)/bin/pytest -m spark -n 0 tests/spark

test-all: test test-spark ## Both

ui: setup ## Dagster UI on http://127.0.0.1:3000
	$(VENV)/bin/touchline ui

# Scales in people (each over BENCH_DAYS days, plus one more night); larger: make bench SCALES=100000,1000000
SCALES ?= 3000,30000
BENCH_DAYS ?= 90
BENCH_ARGS ?=
bench: setup ## Time a full rebuild and one more night per scale; reports in bench/results/
	$(VENV)/bin/touchline bench --people $(SCALES) --days $(BENCH_DAYS) $(BENCH_ARGS)

demo-data: setup
	$(VENV)/bin/touchline demo-data

codegen: setup
	$(VENV)/bin/touchline codegen

setup: $(VENV)/.synced

# uv (pinned, from PyPI) in a private tools venv; the project venv is synced from uv.lock.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	$(VENV)/bin/touchline data-docs-assets
	touch $@

$(SPARK_VENV)/.synced: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(SPARK_VENV) $(UV) sync --frozen --extra spark --python $(PYTHON)
	touch $@

clean:
	rm -rf $(VENV) $(SPARK_VENV) $(TOOLS) dbt_project/target dbt_project/logs
