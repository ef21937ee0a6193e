# EMS: every command a developer or CI needs. `make help` lists them.
# Tools are bootstrapped into .ems/ (git-ignored): uv, the workspace venv, LocalStack's venv,
# DynamoDB Local. Terraform >= 1.6, Java 17+, Node/npm and Python 3 must be on the machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
CHECKOV_VERSION := 3.2.495
TOOLS := .ems/tools
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --locked --no-sync
TF_ROOTS := $(wildcard terraform/environments/*) $(wildcard terraform/modules/*)
export CHECKPOINT_DISABLE := 1

.PHONY: help venv install browser up down status demo chaos test unit e2e lint check bench fmt clean package infra screenshot

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	@echo "[make] bootstrapping uv $(UV_VERSION) into $(TOOLS)"
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

venv: $(UV) ## Install the workspace only (from uv.lock): enough to package and deploy
	$(UV) sync --locked --all-packages

install: venv ## Install the workspace, LocalStack and DynamoDB Local
	$(RUN) ems-stack install

# Playwright's own browser download is not reachable everywhere: the console's browser tests
# drive the distribution's Chromium instead (tests/e2e/test_console.py finds it).
CHROMIUM ?= /usr/bin/chromium
browser: ## Debian's Chromium for the console's browser tests (apt-get, as root or with sudo)
	@if [ -x "$(CHROMIUM)" ]; then echo "[make] $(CHROMIUM) is there"; else \
		echo "[make] installing Debian's chromium (apt-get)"; \
		sudo_=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo_ apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo_ apt-get install -y -qq chromium; \
	fi

up: install ## Start the local stack, apply Terraform, write .ems/local.env (returns when ready)
	$(RUN) ems-stack up

demo: install ## The main job: the stack up, then a campaign and transactional email through the API (DEMO_ARGS='--recipients N')
	$(RUN) python -m demo $(DEMO_ARGS)

down: ## Stop everything `make up` started (leaves no process)
	@if [ -x .venv/bin/ems-stack ]; then $(RUN) ems-stack down; else echo "[make] nothing installed, nothing to stop"; fi

status: ## Show what runs
	$(RUN) ems-stack status

lint: install ## ruff, mypy and terraform fmt
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) mypy --config-file tools/localstack-sesv2/pyproject.toml \
		--python-executable .ems/localstack-venv/bin/python
	terraform fmt -check -recursive terraform

fmt: install ## Format Python and Terraform
	$(RUN) ruff check --fix .
	$(RUN) ruff format .
	terraform fmt -recursive terraform

check: install ## checkov on terraform/ (every skip carries its reason inline)
	$(UV) tool run -p 3.13 --from checkov==$(CHECKOV_VERSION) checkov -d terraform \
		--framework terraform --skip-download --compact --quiet

infra: venv package ## terraform fmt/validate of every root, offline plans of dev, staging and prod checked by terraform-compliance
	$(RUN) ems-stack infra-check

unit: install ## Unit tests (no emulator, no Terraform)
	$(RUN) pytest -m "not e2e and not infra"

e2e: install browser ## Whole-stack tests against LocalStack + DynamoDB Local (starts the stack if down)
	$(RUN) pytest -m e2e

# Test runs write the console's screenshot to build/artifacts/ (git-ignored); only this target
# replaces the README's. Starts the stack if it is down, like `make e2e`.
SCREENSHOT_TEST := tests/e2e/test_console.py::test_a_campaign_page_shows_the_apis_numbers_and_its_chart
screenshot: install browser ## Refresh docs/console-campaign.png (the README's) from the console's browser test
	EMS_CONSOLE_SCREENSHOT=$(CURDIR)/docs/console-campaign.png $(RUN) pytest -m e2e $(SCREENSHOT_TEST)

package: venv ## Build one Lambda zip per service into dist/ (reproducible, from uv.lock)
	$(RUN) ems-stack package

bench: install ## Measure every goal (1M-recipient compile, enqueue) into docs/benchmarks.md
	$(RUN) python -m bench.run

chaos: install ## Fault suite: a campaign sent while services are killed and faulted (CHAOS_ARGS="--small", "--seed N")
	$(RUN) python -m chaos $(CHAOS_ARGS)

test: lint check infra browser ## Everything: lint, checkov, Terraform checks, unit, plan and whole-stack tests, the small fault suite
	@# One stack for the tests and the fault suite (started once, about 2 min saved); stopped
	@# at the end unless it was up before, whatever the outcome.
	@was_up=no; $(RUN) ems-stack is-up && was_up=yes; status=0; \
	EMS_KEEP_STACK=1 $(RUN) pytest --durations=20 || status=$$?; \
	if [ $$status -eq 0 ]; then $(RUN) python -m chaos --small || status=$$?; fi; \
	if [ $$was_up = no ]; then $(RUN) ems-stack down; fi; \
	exit $$status

clean: down ## Remove .ems/ (tools, emulators, state) and the venv
	rm -rf .ems .venv
