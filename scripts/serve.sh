#!/usr/bin/env bash
# Runs podplane in embedded mode (one process, data in ./podplane-data) on
# http://127.0.0.1:3000, creating a pod named "demo" on first start.
# Any extra arguments go to `podplane serve` (see `podplane serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PODPLANE_DATA_DIR:=./podplane-data}"
export PODPLANE_DATA_DIR
cargo build --release --locked -p podplane
bin=target/release/podplane
if ! "$bin" pod list | grep -q '^demo'; then
    "$bin" pod create demo
fi
exec "$bin" serve "$@"
