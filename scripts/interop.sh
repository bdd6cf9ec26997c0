#!/usr/bin/env bash
# Interoperability test: the Community Solid Server as Solid-OIDC identity provider and Inrupt's
# JS libraries (@inrupt/solid-client, @inrupt/solid-client-authn-node) against podplane, all on
# loopback. See tests/interop/README.md. Needs Node.js 20 or 22 and npm.
# PODPLANE_BIN: podplane binary to test (default: build target/debug/podplane).
# INTEROP_STACK=1: test the compose stack instead (after `PODPLANE_STACK_TEST=1
# scripts/stack.sh up`, with the variables it prints); no binary is needed.
# PODPLANE_LOG=debug shows why podplane refused requests; INTEROP_TRACE=1 logs every request.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [[ "${INTEROP_STACK:-}" != 1 ]]; then
    if [[ -z "${PODPLANE_BIN:-}" ]]; then
        cargo build -p podplane
        PODPLANE_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/podplane"
    fi
    PODPLANE_BIN=$(realpath "$PODPLANE_BIN")
    [[ -x "$PODPLANE_BIN" ]] || { echo "interop: $PODPLANE_BIN is not an executable" >&2; exit 1; }
    export PODPLANE_BIN
fi

(cd tests/interop && npm ci --no-audit --no-fund)

# The test runs in its own process group (setsid), so the trap can end it and everything it
# started (CSS, podplane) even if it dies without cleaning up; its temp dirs live under $work.
work=$(mktemp -d "${TMPDIR:-/tmp}/podplane-interop.XXXXXX")
pid=
cleanup() {
    if [[ -n "$pid" ]]; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMPDIR=$work setsid node tests/interop/interop.mjs &
pid=$!
status=0
wait "$pid" || status=$?
exit "$status"
