# Thin aliases for what CI runs. `make run` and `make test` are the two commands of the README.
GO      ?= go
TIMEOUT ?= 15m

.PHONY: run test unit lint arm64 bench golden fuzz

run: ## a headless simulation on built-in defaults
	$(GO) run ./cmd/shardsim sim

test: lint unit arm64 ## everything CI checks

unit:
	$(GO) test -race -shuffle=on -timeout $(TIMEOUT) ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) mod tidy -diff

arm64: ## the determinism and golden tests on arm64 under qemu (mandatory when CI=true)
	bash scripts/arm64-check

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

golden: ## regenerate the golden replays on purpose (review the diff)
	$(GO) test ./golden -update

fuzz: ## a short run of every fuzz target
	bash scripts/fuzz-all 20s
