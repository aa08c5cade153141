# oauthtrio: the conformance suite and the reference trio.
# "make setup check" runs the suite against the reference; "make setup test"
# runs every test.

GO ?= go
REPORT ?= reports
# deadcode, pinned: "make vet" runs it through the Go module proxy.
DEADCODE ?= golang.org/x/tools/cmd/deadcode@v0.52.0
# A slow machine fails with go test's clear timeout message, not a hang.
TEST_TIMEOUT ?= 20m

.PHONY: setup check serve test vet bench bench-compare fuzz build test-iris peer-node peer-glewlwyd third-party-clients lint-ci roles selftest flakecheck suite-time

# Installs what oauthtrio needs beside Go on a Debian machine: Chromium's headless shell for
# the browser steps, Node.js with npm for the third-party clients and the
# node-oidc-provider peer, and Glewlwyd (with sqlite3 and openssl) for the
# second peer, and shellcheck for the scripts of the GitHub Action. Uses sudo
# when not run as root.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
setup:
	@need=""; \
	command -v chromium-headless-shell >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium-headless-shell ] || need="$$need chromium-headless-shell"; \
	command -v node >/dev/null 2>&1 || need="$$need nodejs"; \
	command -v npm >/dev/null 2>&1 || need="$$need npm"; \
	command -v glewlwyd >/dev/null 2>&1 || need="$$need glewlwyd dbconfig-sqlite3"; \
	command -v sqlite3 >/dev/null 2>&1 || need="$$need sqlite3"; \
	command -v openssl >/dev/null 2>&1 || need="$$need openssl"; \
	command -v shellcheck >/dev/null 2>&1 || need="$$need shellcheck"; \
	[ -f /etc/ssl/certs/ca-certificates.crt ] || need="$$need ca-certificates"; \
	if [ -n "$$need" ]; then \
		echo "installing:$$need"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$(SUDO) apt-get install -y --no-install-recommends $$need || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $$need; }; \
	fi

build:
	$(GO) build -o oauthtrio ./cmd/oauthtrio

check:
	$(GO) run ./cmd/oauthtrio check --report $(REPORT)

serve:
	$(GO) run ./cmd/oauthtrio serve

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	@GOFLAGS=-mod=mod $(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	@dead=$$(GOFLAGS=-mod=mod $(GO) run $(DEADCODE) -test ./... | grep -v 'unreachable func: Example'); \
	test -z "$$dead" || { echo "$$dead"; echo "dead code: use it or delete it"; exit 1; }

test: vet
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./... || { echo 'make test failed; "panic: test timed out" means a package ran past TEST_TIMEOUT=$(TEST_TIMEOUT) (README, Tests)'; exit 1; }

# The self-test: the whole suite against the reference, then once per
# deliberate bug in it (steps/selftest/faults.go), SELFTEST_PARALLEL runs at
# a time. Writes the kill table to $(REPORT)/selftest/kill-table.md and
# .json and prints the kill rate last. Not part of "make test".
# SELFTEST_FAULTS (comma separated) runs only those faults; SELFTEST_CONFIRM=0
# counts a catch without running the catching scenarios a second time.
SELFTEST_PARALLEL ?= 1
SELFTEST_FAULTS ?=
SELFTEST_CONFIRM ?= 1
selftest:
	@rm -rf $(REPORT)/selftest
	OAUTHTRIO_SELFTEST=1 OAUTHTRIO_SELFTEST_PARALLEL=$(SELFTEST_PARALLEL) OAUTHTRIO_SELFTEST_FAULTS=$(SELFTEST_FAULTS) OAUTHTRIO_SELFTEST_CONFIRM=$(SELFTEST_CONFIRM) OAUTHTRIO_SELFTEST_REPORT=$(abspath $(REPORT))/selftest \
		$(GO) test -count=1 -run '^TestSelfTest$$' -v -timeout 90m ./steps/selftest/
	@echo "kill table: $(REPORT)/selftest/kill-table.md"
	@cat $(REPORT)/selftest/kill-rate.txt

# The whole suite 10 times in a row against the reference beside
# stress-ng --cpu 8 (RUNS and STRESS_CPU change them); fails when any run
# failed or warned.
flakecheck:
	FLAKECHECK_REPORT=$(abspath $(REPORT))/flakecheck GO=$(GO) steps/selftest/flakecheck.sh

# The whole suite RUNS times (default 3) against the reference, one run
# after another: wall time, the machine's CPU time and the median.
suite-time:
	SUITETIME_REPORT=$(abspath $(REPORT))/suite-time GO=$(GO) steps/selftest/suitetime.sh

# The whole suite against node-oidc-provider (testdata/peers/node-oidc-provider),
# a certified OpenID provider, on free loopback ports. "make test" runs it
# too but skips it when Node.js or the npm registry is missing; here that is
# a failure.
peer-node:
	OAUTHTRIO_REQUIRE_PEERS=1 $(GO) test -run '^TestNodeOIDCProvider$$' -count=1 -v ./steps/

# The whole suite against Glewlwyd (testdata/peers/glewlwyd), an OpenID
# Certified provider Debian ships, over TLS on free loopback ports. "make
# test" skips it when glewlwyd is not installed; here that is a failure.
peer-glewlwyd:
	OAUTHTRIO_REQUIRE_PEERS=1 $(GO) test -run '^TestGlewlwyd$$' -count=1 -v ./steps/

# The IRIS workshop's Postman collection (newman) and a relying party on
# npm's openid-client against the reference (testdata/clients). "make test"
# runs them too but skips them without Node.js; here that is a failure.
third-party-clients:
	OAUTHTRIO_REQUIRE_PEERS=1 $(GO) test -run '^(TestPostmanCollectionWithNewman|TestOpenIDClientRelyingParty)$$' -count=1 -v ./cmd/oauthtrio/

# The GitHub Action and the README's workflows through actionlint (with
# shellcheck), and the Dockerfile and compose.yaml as far as no container
# engine is needed. "make test" runs them too.
lint-ci:
	OAUTHTRIO_REQUIRE_PEERS=1 $(GO) test -run '^(TestGitHubWorkflowsLint|TestActionMetadata|TestDockerfile|TestComposeFile)$$' -count=1 -v ./cmd/oauthtrio/

# The resource-server and client checks (oauthtrio check --resource,
# --client) against the reference's resource server and web client, with
# their faults, and against the relying party on openid-client
# (testdata/clients/openid-client-rp). "make test" runs them too.
roles:
	OAUTHTRIO_REQUIRE_PEERS=1 $(GO) test -run '^(TestReference(ResourceServer|Client)Passes|Test(Resource|Client)ChecksCatchTheirFaults|TestOpenIDClientRP|TestCheck(Resource|Client))$$' -count=1 -v ./steps/launch/reference/ ./steps/roles/ ./cmd/oauthtrio/

# Token endpoint micro-benchmarks, and whole login flows against a trio on
# disk at concurrency 8 and 32 (flows/s, p99, RSS growth; zero errors).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./reference/authserver/
	$(GO) test -run '^$$' -bench BenchmarkFlows -benchtime 100x ./reference/trio/

# The reference beside node-oidc-provider (the CI peer) under the same
# vegeta load on loopback, interleaved rounds, with the crypto bounds of
# the same run and the ratios (README, Performance).
COMPARE_SECONDS ?= 10
COMPARE_ROUNDS ?= 2
bench-compare:
	OAUTHTRIO_COMPARE_SECONDS=$(COMPARE_SECONDS) OAUTHTRIO_COMPARE_ROUNDS=$(COMPARE_ROUNDS) \
		$(GO) test -run '^$$' -bench '^BenchmarkCompare$$' -benchtime 1x -timeout 30m ./reference/trio/

# Fuzz the login and consent form handlers and the logout endpoint.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzInteractionForms -fuzztime $(FUZZTIME) ./reference/authserver/
	$(GO) test -run '^$$' -fuzz FuzzLogout -fuzztime $(FUZZTIME) ./reference/authserver/

# The whole suite against a real IRIS and its web gateway in Docker
# (README "Testing a real IRIS"); skips when no Docker engine answers.
# OAUTHTRIO_IRIS_IMAGE and OAUTHTRIO_WEBGATEWAY_IMAGE pick the images.
test-iris:
	OAUTHTRIO_REPORT_DIR=$(abspath $(REPORT))/iris $(GO) test -run TestIRISContainer -count=1 -v -timeout 40m ./steps/launch/iris/
