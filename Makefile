# Everyday commands. `make help` lists them; each is one plain command you can also type yourself.
# The active virtual environment, else .venv.
VENV ?= $(or $(VIRTUAL_ENV),.venv)
PYTHON ?= python3
BIN := $(VENV)/bin
CAP ?= rag
FORMAT ?= pretty
WORKERS ?= 5

.PHONY: help venv install lint unit test progress parallel capability rerun coverage durations report report-deps external platform containers images ci clean-reports
.PHONY: warm cold

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

venv: $(BIN)/activate  ## create the virtual environment (.venv unless one is active)
$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

install: venv  ## install the suite and its dev tools into .venv
	$(BIN)/pip install -e ".[dev]"

lint:  ## ruff check . and lint-imports (the suite sees the platform only through ai_contract)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

unit:  ## pytest: the project's own fast tests
	$(BIN)/pytest

test:  ## the whole suite, with JUnit and the rerun list (FORMAT=progress for the compact view)
	$(BIN)/behave --junit --junit-directory reports/junit -f rerun -o reports/rerun.txt -f $(FORMAT) features/

progress:  ## the whole suite, one line per feature
	$(MAKE) test FORMAT=progress

parallel:  ## the suite over WORKERS behave processes (default 5), one set of reports as make test writes; BEHAVE_ARGS for behave (tags, -D, paths)
	$(BIN)/python -m harness.parallel --workers $(WORKERS) -- $(BEHAVE_ARGS)

capability:  ## one capability: make capability CAP=rag (BEHAVE_ARGS for behave: -D keep=yes, a path:line)
	$(BIN)/behave -f rerun -o reports/rerun.txt -f $(FORMAT) $(BEHAVE_ARGS) features/$(CAP)

warm:  ## a run that leaves the platform running for the next one (-D keep=yes): CAP and BEHAVE_ARGS as for capability
	$(MAKE) capability BEHAVE_ARGS="-D keep=yes $(BEHAVE_ARGS)"

cold:  ## stop the warm platform make warm left running
	$(BIN)/python -m harness.platform down

rerun:  ## only the scenarios that failed in the last run (reports/rerun.txt)
	@if [ -s reports/rerun.txt ]; then $(BIN)/behave -f rerun -o reports/rerun.txt -f $(FORMAT) @reports/rerun.txt; \
	else echo "no reports/rerun.txt: the last run had no failed scenario"; fi

coverage:  ## after a whole run: every OpenAPI operation and NATS subject no scenario exercised (reports/coverage.json); fails on any
	$(BIN)/python -m harness.reporting.coverage reports/coverage.json

durations:  ## after a whole run: each feature's measured seconds (reports/profile.json) into .ci/durations.json, which CI's shards balance by
	$(BIN)/python -m harness.parallel --save-durations

report-deps: report/node_modules/.package-lock.json
report/node_modules/.package-lock.json: report/package-lock.json
	npm ci --prefix report --no-audit --no-fund

report: report-deps  ## reports/allure-report/index.html, one file, from the last run's results
	npm --prefix report run --silent build
	@echo "report: reports/allure-report/index.html"

external:  ## the suite against the platform command as an external deployment (BEHAVE_ARGS for behave)
	$(BIN)/python -m harness.platform external -- $(BEHAVE_ARGS)

images:  ## the look-alike images of NATS and pgvector PostgreSQL (docker/build-images; seconds when they exist)
	$(BIN)/python docker/build-images base nats postgres

containers: images  ## the suite with its servers in Docker containers (-D infra=containers); BEHAVE_ARGS for behave (tags, paths)
	$(BIN)/behave -D infra=containers -f $(FORMAT) $(BEHAVE_ARGS)

platform:  ## the whole platform by hand (servers, scripted model, services); Ctrl-C stops it
	$(BIN)/python -m harness.platform up

ci:  ## what CI runs (.ci/run, about 13 min here; a "ci time:" line per part): install ~46 s; lint ~1 s; pytest ~86 s; behave, embedded platform ~99 s (parallel); coverage check ~1 s; allure report ~4 s; behave, external platform ~152 s (parallel); containers ~323 s (engine, images, four capabilities in containers mode and against the compose platform); local profile ~78 s with a warm cache (its first build of llama-cpp-python takes ~15 min more)
	.ci/run

clean-reports:  ## remove reports/ (results, JUnit, rerun list, HTML report)
	rm -rf reports
