# oauthtrio: the conformance suite and the reference trio.
# "make setup check" runs the suite against the reference; "make setup test"
# runs every test.

GO ?= go
REPORT ?= reports

.PHONY: setup check serve test vet lint bench newman openid-client build test-iris peer-node

setup:
	scripts/setup.sh

build:
	$(GO) build -o oauthtrio ./cmd/oauthtrio

check:
	$(GO) run ./cmd/oauthtrio check --report $(REPORT)

serve:
	$(GO) run ./cmd/oauthtrio serve

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

test: vet
	$(GO) test -count=1 ./...

# The whole suite against node-oidc-provider (fixtures/peers/node-oidc-provider),
# a certified OpenID provider, on free loopback ports. "make test" runs it
# too but skips it when Node.js or the npm registry is missing; here that is
# a failure.
peer-node:
	OAUTHTRIO_REQUIRE_PEERS=1 $(GO) test -run '^TestNodeOIDCProvider$$' -count=1 -v ./steps/

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./reference/authserver/

newman:
	scripts/newman/run.sh

openid-client:
	scripts/openid-client/run.sh

# The whole suite against a real IRIS and its web gateway in Docker
# (README "Testing a real IRIS"); skips when no Docker engine answers.
# OAUTHTRIO_IRIS_IMAGE and OAUTHTRIO_WEBGATEWAY_IMAGE pick the images.
test-iris:
	OAUTHTRIO_REPORT_DIR=$(CURDIR)/$(REPORT)/iris $(GO) test -run TestIRISContainer -count=1 -v -timeout 40m ./steps/target/iriscontainer/
