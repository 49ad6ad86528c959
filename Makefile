# daprshop: the two commands are `make run` and `make test`.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Every Go module of the workspace (go.work); tools/dapr is built apart.
PKGS := github.com/daprshop/...
GO_TEST_FLAGS ?= -count=1 -timeout 15m

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: dapr
dapr: ## build the pinned Dapr runtime into .bin/dapr (cached; minutes only the first time)
	@tools/dapr/build.sh

.PHONY: secrets
secrets: ## create the development JWT keys in secrets/ if missing (make run does this too)
	@go run ./tools/devrun secrets

.PHONY: build
build: ## compile every module
	go build $(PKGS)

.PHONY: run
run: dapr ## run placement, scheduler and every service beside its sidecar; Ctrl-C stops all
	@go build -o .bin/devrun ./tools/devrun
	@exec .bin/devrun -f dapr.yaml $(ARGS)

.PHONY: test
test: dapr lint ## unit, integration (real daprd + Redis/PostgreSQL) and end-to-end tests
	go test $(GO_TEST_FLAGS) $(PKGS)

.PHONY: bench
bench: dapr ## catalog read path through gateway + sidecars vs direct (req/s, p50, p99), and in-process benchmarks
	go test -run '^$$' -bench . -benchtime 1s github.com/daprshop/product/domain
	go run ./tools/devrun/cmd/bench $(BENCH_ARGS)

.PHONY: seed
seed: ## load the demo catalog into a running `make run` (DEMO_CATALOG=n products, default 1000)
	cd services/product && APP_ID=product DAPR_GRPC_PORT=3602 DEMO_CATALOG=$${DEMO_CATALOG:-1000} go run . seed

.PHONY: deadletters
deadletters: ## list the events that reached the dead-letter topic (with make run going)
	@curl -sf localhost:3505/v1.0/invoke/notification/method/admin/deadletters; echo

.PHONY: replay
replay: ## put a dead letter back on its topic: make replay ID=<event id>
	@test -n "$(ID)" || { echo "usage: make replay ID=<event id>"; exit 2; }
	@curl -sf -X POST localhost:3505/v1.0/invoke/notification/method/admin/deadletters/$(ID)/replay; echo

.PHONY: test-unit
test-unit: ## fast tests only: no sidecars, no databases
	go test -short $(GO_TEST_FLAGS) $(PKGS)

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l services tools test); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet $(PKGS)

.PHONY: tidy
tidy: ## go mod tidy in every module
	@for m in services/platform services/user services/gateway services/product services/order services/payment services/notification tools/devrun test/e2e; do (cd $$m && GOWORK=off go mod tidy); done

.PHONY: clean
clean: ## remove build output and run state (keeps the Dapr build and dev secrets)
	rm -rf .run .bin/devrun
