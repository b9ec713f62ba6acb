# The project's front door. `make help` lists every target.
# Two commands matter to a new user: `make demo` (everything, from nothing) and `make test`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3.13
PORT        ?= 4566
E2E_PORT    ?= 4599
STACK       ?= shop-saga
E2E_STACK   ?= shop-saga-e2e

VENV        := .venv
SAM_VENV    := .venvs/sam
MS_VENV     := .venvs/ministack
PY          := $(VENV)/bin/python
SAM         := $(SAM_VENV)/bin/sam
LOCAL_ENV    = AWS_ENDPOINT_URL=http://127.0.0.1:$(1) AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
               AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH"

.PHONY: check lock local-invoke local-invoke-only local-invoke-test help setup up down demo test lint logic unit simulate e2e chaos fuzz bench bench-smoke contracts example-test openapi docs build deploy seed status reset env-vars redrive clean

help: ## List every target
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# The product's packages are installed (editable, pyproject.toml) from the folders Lambda has them in (the
# layers and each service's CodeUri), so `import order` means the same in Lambda, pytest and a shell; no
# path of the project's is put on sys.path. The workshop (tools/) and tests/ are run from the root.
$(VENV)/.installed: requirements/dev.txt pyproject.toml ops/shopctl/pyproject.toml
	@tools/dev/ensure-venv $(PYTHON) $(VENV) requirements/dev.txt
	@rm -f "$$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/shop-saga.pth"  # an older setup's
	@$(VENV)/bin/pip install --disable-pip-version-check --quiet --no-deps -e . 2>&1 | grep -v "^WARNING: Location" || true
	@$(VENV)/bin/python -c 'import order, payment, inventory, saga, shared, shop_contracts' || { echo "error: the product's packages were not installed (pip install -e .)" >&2; exit 1; }
	@# shopctl is a package of its own (ops/shopctl); its dependencies are pinned in requirements/dev.txt.
	@$(VENV)/bin/pip install --disable-pip-version-check --quiet --no-deps -e ops/shopctl 2>&1 | grep -v "^WARNING: Location" || true
	@test -x $(VENV)/bin/shopctl || { echo "error: the shopctl entry point was not installed" >&2; exit 1; }
	@touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	@tools/dev/ensure-venv $(PYTHON) $(SAM_VENV) requirements/sam.txt
	@touch $@

$(MS_VENV)/.installed: requirements/ministack.txt
	@tools/dev/ensure-venv $(PYTHON) $(MS_VENV) requirements/ministack.txt
	@touch $@

lock: setup ## Re-pin every environment the project installs, with hashes, from its .in file (then make setup)
	@tools/dev/lock $(VENV)/bin/uv
	@echo "re-pinned requirements/{dev,sam,ministack}.txt and layers/dependencies/requirements.txt; review: git diff"

setup: $(VENV)/.installed $(SAM_VENV)/.installed $(MS_VENV)/.installed ## Create the three Python environments (project with shopctl, SAM CLI, local cloud)

build: setup ## sam build (cached, parallel)
	@$(call LOCAL_ENV,$(PORT)) tools/dev/quiet "sam build" $(SAM) build --config-env local

deploy: build ## Deploy the stack to the local cloud on PORT (starts it if needed, IAM enforced as on AWS)
	@$(PY) -m tools.dev.localcloud start --port $(PORT) --auth
	@$(call LOCAL_ENV,$(PORT)) tools/dev/quiet "sam deploy" $(SAM) deploy --config-env local --stack-name $(STACK)

seed: ## Load the sample products into the local stack
	@$(call LOCAL_ENV,$(PORT)) $(PY) -m tools.dev.seed --stack $(STACK)

up: deploy seed ## Start the local cloud, deploy and seed; prints the API URL and curl lines
	@$(call LOCAL_ENV,$(PORT)) $(PY) -m tools.dev.stackinfo --stack $(STACK) --port $(PORT)

down: ## Stop the local cloud this project started on PORT
	@$(PY) -m tools.dev.localcloud stop --port $(PORT)

status: ## Is the local cloud on PORT healthy?
	@$(PY) -m tools.dev.localcloud health --port $(PORT)

reset: ## Wipe every resource in the local cloud on PORT
	@$(PY) -m tools.dev.localcloud reset --port $(PORT)

SHOPCTL = $(VENV)/bin/shopctl --endpoint http://127.0.0.1:$(PORT) --stack $(STACK)

demo: up ## From nothing: set up, start the local cloud, deploy, seed, run orders down every saga path
	@$(call LOCAL_ENV,$(PORT)) $(PY) -m tools.dev.demo --stack $(STACK)
	@echo; echo "what an operator sees (shopctl sagas failed; shopctl dlq list):"
	@$(SHOPCTL) sagas failed
	@$(SHOPCTL) dlq list

env-vars: ## Write .aws-sam/env.json: every function's environment on the local stack, for sam local invoke --env-vars
	@mkdir -p .aws-sam
	@$(call LOCAL_ENV,$(PORT)) $(PY) -m tools.dev.env_vars --stack $(STACK) --endpoint http://host.docker.internal:$(PORT) > .aws-sam/env.json
	@echo "wrote .aws-sam/env.json ($(STACK)); make local-invoke FUNCTION=InventoryApiFunction EVENT=events/api/GetProduct.json runs sam local invoke with it"

LOCAL_INVOKE_PORT ?= 4620

local-invoke: up local-invoke-only ## sam local invoke, in Docker, of every function with its samples against the stack on PORT (one: FUNCTION=... EVENT=...)

local-invoke-only: ## As local-invoke, against the stack already up on PORT (no deploy, no seed)
	@$(call LOCAL_ENV,$(PORT)) $(PY) -m tools.dev.local_invoke --stack $(STACK) --port $(PORT) $(if $(FUNCTION),--function $(FUNCTION) --event $(EVENT))

local-invoke-test: setup ## make local-invoke on a local cloud of its own where Docker can run (part of make test; installs Docker's engine on a root Debian machine)
	@tools/dev/local-invoke-test $(LOCAL_INVOKE_PORT)

redrive: setup ## Move dead-lettered messages back to their queues (CONSUMER=..., SINCE=/UNTIL=<ISO time>, DRY_RUN=1)
	@$(SHOPCTL) dlq redrive $(CONSUMER) $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL)) $(if $(DRY_RUN),--dry-run)

lint: setup ## ruff, ruff format --check, mypy (pydantic plugin), sam validate --lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy contracts/python shared/python services ops/shopctl tools tests examples/notifications/src
	@SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint
	$(SAM_VENV)/bin/cfn-lint blocks/*.yaml

check: setup ## The quick loop while changing code: ruff, the logic tier and the contract tests (seconds); make test before you push
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . >/dev/null
	@$(PY) -m pytest -q -n 2 tests/logic tests/contract

logic: setup ## The logic tier alone: every service's logic on in-memory fakes (a second or two)
	$(PY) -m pytest -q tests/logic

unit: setup ## Logic tests (fakes), the simulator's fixed seeds, component tests (handlers on moto), contract tests, tools' tests
	$(PY) -m pytest -q -n 2 tests/logic tests/simulation tests/component tests/contract tests/tools

simulate: setup ## The deterministic simulator over many seeds (SEEDS=2000; one seed with its trace: SEED=42)
	@if [ -n "$(SEED)" ]; then $(PY) -m tests.simulation.run --seed $(SEED) --trace; \
	else $(PY) -m tests.simulation.run --seeds $(or $(SEEDS),2000); fi

e2e: setup ## End-to-end and fault-injection tests, IAM enforced: own local cloud on E2E_PORT, sam deploy, tests, permission report
	@tools/dev/e2e $(E2E_PORT) $(E2E_STACK) quick

chaos: setup ## A larger fault-injection run (CHAOS_ORDERS=120) and its negative control, on its own local cloud
	@tools/dev/e2e $(E2E_PORT) $(E2E_STACK) chaos

fuzz: setup ## Fuzz the API from docs/openapi.json on its own local cloud (FUZZ_EXAMPLES=400 per route and mode)
	@tools/dev/e2e $(E2E_PORT) $(E2E_STACK) fuzz

BENCH_PORT  ?= 4610
# A comma in $(or ...) separates its arguments, so the defaults live here: make bench BENCH_CLIENTS=4,8
BENCH_CLIENTS ?= 8,16,32
BENCH_SECONDS ?= 60
# The commit the client's loop is first run against, for the A/B in docs/benchmarks.md (empty: none).
BENCH_BASELINE ?= 965cca3

bench: setup ## Throughput, latency, view lag, per-order counts and cost on a local cloud of its own, A/B against BENCH_BASELINE (BENCH_CLIENTS=8,16,32 BENCH_SECONDS=60); writes docs/benchmarks.md, docs/bench/
	@$(PY) -m tools.bench --port $(BENCH_PORT) --clients $(BENCH_CLIENTS) --seconds $(BENCH_SECONDS) $(if $(BENCH_BASELINE),--baseline $(BENCH_BASELINE))

bench-smoke: setup ## A tiny run of the benchmark (2 clients, 10 s) that writes only to .localcloud/, so it cannot rot (part of make test)
	@$(PY) -m tools.bench --port $(BENCH_PORT) --clients 2 --seconds 10 --warmup 5 --settle 0 --cold 6 --cold-stock 3 --import-repeats 1 \
		--out-dir .localcloud/$(BENCH_PORT)/result --docs -

contracts: setup ## Build the event contract as a wheel of its own (dist/shop_saga_contracts-<version>-py3-none-any.whl)
	@rm -rf dist/shop_saga_contracts-*.whl
	@$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist contracts/
	@rm -rf contracts/build contracts/python/*.egg-info
	@ls dist/shop_saga_contracts-*.whl

EXAMPLE_VENV := .venvs/notifications

$(EXAMPLE_VENV)/.installed: examples/notifications/requirements-dev.txt examples/notifications/src/requirements.txt
	@$(MAKE) --no-print-directory contracts >/dev/null
	@PIP_FIND_LINKS=$(CURDIR)/dist tools/dev/ensure-venv $(PYTHON) $(EXAMPLE_VENV) examples/notifications/requirements-dev.txt
	@touch $@

example-test: contracts $(EXAMPLE_VENV)/.installed ## The example consumer team's own tests, in its own environment with the contracts wheel installed
	@$(EXAMPLE_VENV)/bin/pip install --disable-pip-version-check --quiet --force-reinstall --no-deps dist/shop_saga_contracts-*.whl 2>&1 | grep -v "^WARNING: Location" || true
	cd examples/notifications && ../../$(EXAMPLE_VENV)/bin/python -m pytest -q

openapi: setup ## Regenerate docs/openapi.json from the routes and their models
	@$(PY) -m tools.codegen.openapi

docs: setup ## Regenerate everything generated: events/ samples, docs/schemas (compatibility-gated), docs/openapi.json, docs/events.md and README's event section
	@$(PY) -m tools.codegen.sample_events
	@$(PY) -m tools.codegen.schemas
	@$(PY) -m tools.codegen.openapi
	@$(PY) -m tools.codegen.catalogue

test: lint unit example-test e2e local-invoke-test bench-smoke ## Everything CI runs: lint, unit and contract tests, the example team's tests, end-to-end tests, sam local invoke of every sample, a tiny benchmark

clean: ## Remove build output and local cloud state (keeps the environments)
	rm -rf .aws-sam .localcloud .pytest_cache .mypy_cache .ruff_cache
