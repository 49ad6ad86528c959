# daprshop: the two commands are `make run` and `make test`.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Every Go module of the workspace (go.work). The tool modules (tools/<name>,
# built by tools/build.sh) and the deployment test modules (test/deploy,
# test/kube: Dapr's and Helm's dependency graphs) stay outside it.
PKGS := github.com/daprshop/...
DEPLOY_MODULES := test/deploy test/kube
GO_TEST_FLAGS ?= -count=1 -timeout 20m
# The pinned tools: the Dapr runtime, a Kubernetes API server (with etcd) for
# the chart test, and the stand-ins some profiles use (Kafka, SMTP, Consul).
TOOLS := dapr kube kfake mailpit consul otelcol

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: dapr
dapr: ## build the pinned Dapr runtime into .bin/dapr (cached; minutes only the first time)
	@tools/build.sh dapr

.PHONY: tools
tools: ## build every pinned tool into .bin (cached in ~/.cache/daprshop; minutes only the first time)
	@for t in $(TOOLS); do tools/build.sh $$t; done

.PHONY: standins
standins: ## build the stand-ins some profiles start: kfake, Mailpit, Consul (cached)
	@for t in kfake mailpit consul; do tools/build.sh $$t; done

.PHONY: infra
infra: dapr ## sentry, placement and the scheduler only, with mTLS, on dapr init's ports (for the Dapr CLI)
	@go run ./tools/devrun -f dapr.yaml infra

.PHONY: secrets
secrets: ## create the development JWT keys in secrets/ if missing (make run does this too)
	@go run ./tools/devrun secrets

.PHONY: build
build: ## compile every module
	go build $(PKGS)

PROFILE ?=
.PHONY: run
run: dapr ## run the control plane and every service beside its sidecar (PROFILE=name: a component profile; PUBLIC=1: gateway open to the network; TRACING=1: spans to a local OpenTelemetry Collector, TRACING=host:port: to yours); Ctrl-C stops all
	@go build -o .bin/devrun ./tools/devrun
	@exec .bin/devrun -f dapr.yaml $(if $(PROFILE),-profile $(PROFILE)) $(if $(PUBLIC),-public) $(if $(TRACING),-trace $(if $(filter 1,$(TRACING)),collector,$(TRACING))) $(ARGS)

# make test runs two halves side by side (each builds what it needs first,
# so on a cold machine one half's build overlaps the other's tests): the
# workspace's tests (unit, integration through real sidecars, end-to-end on
# every component profile) and the deployment tests (strict Dapr YAML, the
# chart and Dockerfile, the chart installed into a real kube-apiserver).
# Beside them, the modules every later build needs are downloaded while the
# first builds compile (a cold machine spends minutes on each), and the
# Node.js service's own tests run (seconds).
.PHONY: test
test: ## unit, integration (real daprd + Redis/PostgreSQL/brokers), end-to-end on every profile and in a browser, chart and Kubernetes tests, the Node.js service's tests
	@$(MAKE) --no-print-directory -j3 --output-sync=target prefetch test-go test-deploy test-node

# The module graphs of the tools and of the deployment test modules.
PREFETCH := tools/kube tools/consul tools/mailpit tools/kfake $(DEPLOY_MODULES)
.PHONY: prefetch
prefetch: ## download the modules of every tool and test module (network only; make test runs it alongside the builds)
	@for m in $(PREFETCH); do (cd $$m && GOWORK=off go mod download) || exit 1; done

.PHONY: test-go
test-go: dapr lint standins ## the workspace's tests only (make test runs them)
	go test $(GO_TEST_FLAGS) $(PKGS)

PROFILES ?=
.PHONY: test-profiles
test-profiles: dapr standins ## the end-to-end suite on every component profile, one set of binaries (PROFILES=a,b to choose)
	DAPRSHOP_PROFILES=$(PROFILES) go test $(GO_TEST_FLAGS) -v -run TestComponentProfiles ./test/e2e

.PHONY: test-chaos
test-chaos: dapr ## faults under a steady checkout load (kill -9 of every process, the control plane, Redis stopped and paused...); prints a table, fails on any lost or doubled effect
	DAPRSHOP_CHAOS=$${DAPRSHOP_CHAOS:-1} go test $(GO_TEST_FLAGS) -count=1 -timeout 40m -v -run TestChaos ./test/e2e

FUZZTIME ?= 10s
.PHONY: test-fuzz
test-fuzz: dapr ## fuzz every public route through a running system for FUZZTIME each (default 10s; FUZZ=Replace: only the targets so named): 4xx never 5xx, nothing stored when refused
	FUZZTIME=$(FUZZTIME) FUZZ=$(FUZZ) go test $(GO_TEST_FLAGS) -v -run TestFuzzRoutes ./test/e2e

.PHONY: test-node
test-node: ## the Node.js service's tests (node --test), dependencies from its lockfile
	@go run ./tools/devrun npm-ci services/reviews
	cd services/reviews && node --test --test-reporter=spec

.PHONY: test-deploy
test-deploy: dapr ## the Dapr YAML, chart and Dockerfile checks and the Kubernetes API server test only
	@tools/build.sh kube
	@for m in $(DEPLOY_MODULES); do echo "go vet + go test $$m"; (cd $$m && GOWORK=off go vet ./... && GOWORK=off go test $(GO_TEST_FLAGS) ./...) || exit 1; done

.PHONY: bench
bench: dapr ## catalog reads (direct, gateway, edge cache), sidecar tax per hop, checkout knee; tables and plots in docs/bench
	go test -run '^$$' -bench . -benchtime 1s github.com/daprshop/product/domain
	go run ./tools/devrun/cmd/bench $(BENCH_ARGS)

.PHONY: seed
seed: ## load the demo catalog into a running `make run` (DEMO_CATALOG=n products, default 1000)
	cd services/product && APP_ID=product DAPR_GRPC_PORT=3602 DAPR_API_TOKEN=$$(cd ../.. && go run ./tools/devrun token product) \
		DEMO_CATALOG=$${DEMO_CATALOG:-1000} go run . seed

.PHONY: deadletters
deadletters: ## list the events that reached the dead-letter topic (with make run going)
	@curl -sf -H "dapr-api-token: $$(go run ./tools/devrun token notification)" localhost:3505/v1.0/invoke/notification/method/admin/deadletters; echo

.PHONY: replay
replay: ## put a dead letter back on its topic: make replay ID=<event id>
	@test -n "$(ID)" || { echo "usage: make replay ID=<event id>"; exit 2; }
	@curl -sf -X POST -H "dapr-api-token: $$(go run ./tools/devrun token notification)" localhost:3505/v1.0/invoke/notification/method/admin/deadletters/$(ID)/replay; echo

.PHONY: config
config: ## set a live key in the local configuration store: make config KEY=gateway.rate_limits VALUE=products=300/1m (no VALUE removes it)
	@test -n "$(KEY)" || { echo "usage: make config KEY=<key> VALUE=<value> [PROFILE=...]   (see README, Live configuration)"; exit 2; }
	@go run ./tools/devrun $(if $(PROFILE),-profile $(PROFILE)) config "$(KEY)" "$(VALUE)"

.PHONY: test-unit
test-unit: ## fast tests only: no sidecars, no databases
	go test -short $(GO_TEST_FLAGS) $(PKGS)

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l services tools test); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet $(PKGS)

.PHONY: tidy
tidy: ## go mod tidy in every module
	@for m in services/platform services/user services/gateway services/product services/order services/payment services/notification tools/devrun test/e2e $(DEPLOY_MODULES); do (cd $$m && GOWORK=off go mod tidy); done

.PHONY: clean
clean: ## remove build output and run state (keeps the Dapr build and dev secrets)
	rm -rf .run .bin/devrun
