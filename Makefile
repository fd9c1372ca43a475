# Two commands do all the set-up on a fresh machine:
#   make demo    run the three DAGs against include/scenarios/demo (or SCENARIO=DIR) through the local sandbox
#   make test    the whole test suite
# Both create .venv and install the pinned requirements first.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SCENARIO ?= include/scenarios/demo
# One Airflow home (metadata DB, ledger, archive) per scenario folder, so scenarios never share a ledger:
# the folder's name and a hash of its absolute path (two folders named alike are two scenarios), as
# community_devtools.demo.scenario_home derives it.
# (Never the caller's own AIRFLOW_HOME: the demo writes sandbox connections into it.)
# The path goes to the shell single-quoted (a quote in it escaped) and is made absolute there, as
# os.path.abspath does (relative to this folder, "." and ".." folded, symlinks kept): make's own
# abspath and notdir cut a path at its spaces.
quoted = '$(subst ','\'',$(1))'
SCENARIO_PATH := $(shell realpath -sm -- $(call quoted,$(SCENARIO)))
DEMO_AIRFLOW_HOME ?= $(CURDIR)/airflow_home/$(shell p=$(call quoted,$(SCENARIO_PATH)); \
  printf '%s-%s' "$$(basename -- "$$p")" "$$(printf '%s' "$$p" | sha1sum | cut -c1-8)")

export AIRFLOW_HOME := $(DEMO_AIRFLOW_HOME)
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export PYTHONPATH := $(CURDIR)/plugins:$(CURDIR)
export NO_PROXY := 127.0.0.1,localhost
export no_proxy := 127.0.0.1,localhost

.PHONY: venv demo airflow test test-cluster lint format bench eval-triage clean distclean

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) -m community_devtools.demo --scenario "$(SCENARIO)" --output demo-output

# The local Airflow UI (api-server, scheduler, dag-processor, triggerer) with the sandbox on $(SCENARIO),
# in its own home airflow_home/ui-<scenario> (never the demo's; another folder of the same name gets
# ui-<scenario>-<hash>); Ctrl-C stops everything.
# Ports: AIRFLOW_PORT (8080), SANDBOX_PORT (8765); AIRFLOW__DATABASE__SQL_ALCHEMY_CONN for Postgres.
airflow: venv
	$(PY) -m community_devtools.local_airflow --scenario "$(SCENARIO)"

# Test files run in PYTEST_WORKERS processes (pytest-xdist; a file's tests stay in one): most of the
# suite waits on live Airflow processes; two workers take about 22 minutes on 2 cores. Files go
# out in collection order (tests/airflow, the slow ones, first; the quick unit files fill the gaps at
# the end) rather than xdist's default of the files with the most tests first.
PYTEST_WORKERS ?= 2
# The slowest tests are listed at the end of each run: the suite's time budget is 20 minutes on CI.
PYTEST_DURATIONS ?= 15

test: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=$(PYTEST_DURATIONS) $(PYTEST_ARGS)

# The distributed configuration (SPEC §11; README "Running on a distributed Airflow"), started on this
# machine: Postgres, Redis and an S3 emulator (apt-get installs postgresql and redis-server if missing;
# requirements-cluster.txt adds moto), then Airflow on CeleryExecutor with two workers; runs tests/cluster
# and the ledger's tests on Postgres, stops everything and prints how each component started and stopped.
# PYTEST_ARGS go to pytest (e.g. PYTEST_ARGS="-k backfill").
$(VENV)/.cluster-installed: $(VENV)/.installed requirements-cluster.txt
	$(VENV)/bin/pip install --quiet -r requirements.txt -r requirements-cluster.txt
	touch $@

test-cluster: $(VENV)/.cluster-installed
	$(PY) -m community_devtools.cluster -- $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Speed and scale figures (SPEC §9) at 1k, 10k and 100k posts a day; BENCH_ARGS=--quick (1k, no
# Perceval) or e.g. BENCH_ARGS="--sizes 1000,10000". Installs Perceval into .bench-perceval/ (dev only).
bench: venv
	$(PY) -m community_devtools.bench $(BENCH_ARGS)

# Post-type agreement on the labelled set (include/eval/): rules alone, and rules + model.
# EVAL_ARGS=--errors lists the misses.
eval-triage: venv
	$(PY) -m community_devtools.eval_triage $(EVAL_ARGS)

# Start over: forget what was sent (the ledger), the Airflow metadata DB and the demo output.
clean:
	rm -rf $(CURDIR)/airflow_home demo-output

distclean: clean
	rm -rf $(VENV) .pytest_cache .ruff_cache
