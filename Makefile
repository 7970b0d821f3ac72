# stet's build and test entry points. `make test` is what CI runs.
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
REGISTRY  := $(GOBIN)/registry
DISTRIBUTION_VERSION := v3.1.2

.PHONY: test unit fuzz lint docs man build registry dist

## test: the whole suite, including end-to-end tests against the Distribution registry
test: registry
	STET_DISTRIBUTION=$(REGISTRY) $(GO) test -count=1 ./...

## unit: the suite without installing anything (Distribution tests skip and say so)
unit:
	$(GO) test ./...

## registry: install the CNCF Distribution registry used by end-to-end tests
registry: $(REGISTRY)
$(REGISTRY):
	GOBIN=$(GOBIN) $(GO) install github.com/distribution/distribution/v3/cmd/registry@$(DISTRIBUTION_VERSION)

## fuzz: run every fuzz target briefly (FUZZTIME=10s by default)
fuzz:
	FUZZTIME=$(or $(FUZZTIME),10s) ./scripts/fuzz

## lint: gofmt and go vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...

## docs: regenerate docs/cli, docs/man and docs/rules.md
docs:
	$(GO) test ./internal/cli ./rules -run Docs -update

## man: regenerate the man pages in docs/man
man:
	$(GO) test ./internal/cli -run DocsManPages -update

## build: build ./stet
build:
	$(GO) build -trimpath -o stet ./cmd/stet

## dist: reproducible release binaries for linux and darwin, amd64 and arm64, in dist/ with SHA256SUMS
## (VERSION=v1.2.3 to name the version; REPRODUCE=1 to rebuild elsewhere and compare)
dist:
	./scripts/dist $(if $(REPRODUCE),--reproduce) $(VERSION)
