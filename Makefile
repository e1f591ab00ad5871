# The two commands of the quick start:
#   make demo   - a local cluster (gateway + Redis) with a simulated demo fleet
#   make test   - lint, type-check, build, and every test (unit, integration, e2e) with coverage
PNPM_VERSION := 12.4.2

.PHONY: setup demo test bench

setup:
	@./scripts/setup.sh $(PNPM_VERSION)

demo: setup
	pnpm demo

test: setup
	pnpm test

bench: setup
	pnpm bench connect
