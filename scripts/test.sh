#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests, the store contract and the black-box
# protocol suite against a real `podplane serve`. Installs what it needs; CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust >= 1.87 with rustup (https://rustup.rs) and re-run" >&2
    exit 1
fi
# The C compiler builds the bundled SQLite; Debian's build-essential brings it.
if ! command -v cc >/dev/null 2>&1; then
    echo "installing a C toolchain (build-essential)" >&2
    apt-get update -qq && apt-get install -y -qq build-essential pkg-config >/dev/null
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# The interop test runs the Community Solid Server and Inrupt's libraries (Node.js >= 20).
if ! command -v npm >/dev/null 2>&1; then
    echo "installing Node.js and npm" >&2
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi

# The Kafka TLS test terminates TLS with socat and makes its certificates with openssl.
if ! command -v socat >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
    echo "installing socat and openssl" >&2
    apt-get update -qq && apt-get install -y -qq socat openssl >/dev/null
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== services (scripts/dev-services.sh)"
# PostgreSQL, S3 and Kafka on loopback for the engine contracts and distributed mode.
# (An assignment, so a service that cannot start stops the run here, not in some test.)
services=$(scripts/dev-services.sh up postgres kafka s3)
eval "$services"

echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"
echo "== the black-box protocol suite again, against distributed mode"
PODPLANE_TEST_MODE=distributed cargo test --locked -p podplane --test protocol 2>&1 | tee -a "$log"
echo "== fuzz: every parser and evaluator that reads client input, about 90 s (scripts/fuzz.sh)"
# Its targets print "ok - ..." / "not ok - ..." too; a crash fails the run.
bash scripts/fuzz.sh 2>&1 | tee -a "$log"
echo "== interop: CSS as identity provider, Inrupt's libraries against podplane"
# Its checks print "ok - ..." / "not ok - ..."; they count in the closing line below.
PODPLANE_BIN=target/debug/podplane bash scripts/interop.sh 2>&1 | tee -a "$log"
echo "== deployment manifests, validated offline (scripts/validate-manifests.sh)"
bash scripts/validate-manifests.sh 2>&1 | tee -a "$log"
echo "== the compose stack: images built here, two storage replicas behind HAProxy (scripts/stack.sh)"
# Installs and starts Docker Engine if needed, builds every image from this run's binary
# (nothing is pulled), brings the stack up, checks it through the load balancer, takes it
# down and stops the daemon it started.
trap 'bash scripts/stack.sh down >/dev/null 2>&1 || true; rm -f "$log"' EXIT
# (An assignment, so a failed `up` stops the run.)
stack_env=$(PODPLANE_STACK_TEST=1 PODPLANE_BIN=target/debug/podplane bash scripts/stack.sh up)
eval "$stack_env"
bash scripts/stack.sh smoke 2>&1 | tee -a "$log"
# Through the load balancer with a DPoP client: writes while a storage replica is killed,
# notifications of writes made while the broker was stopped for 30 s (tests/protocol/stack.rs).
PODPLANE_STACK_REQUIRED=1 cargo test --locked -p podplane --test protocol stack:: 2>&1 | tee -a "$log"
# Inrupt's libraries with CSS logins against the load balancer (tests/interop, INTEROP_STACK).
INTEROP_STACK=1 bash scripts/interop.sh 2>&1 | tee -a "$log"
bash scripts/stack.sh down
# One closing line for the whole run (cargo's own last line is the doc-test summary of the
# last crate, which usually counts zero).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^ok - / { p++ } /^not ok - / { f++ }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
