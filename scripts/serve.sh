#!/usr/bin/env bash
# Runs podplane in embedded mode (one process, data in ./podplane-data) on
# http://127.0.0.1:3000. With PODPLANE_OWNER set to your WebID, creates a pod "demo" owned by
# it on first start (access control is on: only you, logged in with a Solid-OIDC app, can
# use it until you grant others access).
# Any extra arguments go to `podplane serve` (see `podplane serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PODPLANE_DATA_DIR:=./podplane-data}"
export PODPLANE_DATA_DIR
# The pod is made under the base URL the server then serves: the one --base-url names, or
# http://<--listen> (as `podplane serve` derives it), or the environment's.
listen="${PODPLANE_LISTEN:-127.0.0.1:3000}"
base="${PODPLANE_BASE_URL:-}"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
        --listen) listen="${args[$((i + 1))]:-$listen}" ;;
        --listen=*) listen="${args[$i]#--listen=}" ;;
        --base-url) base="${args[$((i + 1))]:-$base}" ;;
        --base-url=*) base="${args[$i]#--base-url=}" ;;
    esac
done
export PODPLANE_BASE_URL="${base:-http://$listen}"
cargo build --release --locked -p podplane
bin=target/release/podplane
if ! "$bin" pod list | grep -q '^demo'; then
    if [[ -n "${PODPLANE_OWNER:-}" ]]; then
        "$bin" pod create demo --owner "$PODPLANE_OWNER"
    else
        echo "no pod yet: PODPLANE_OWNER=<your WebID> scripts/serve.sh creates pod 'demo' for you," >&2
        echo "or run: $bin pod create NAME --owner <WebID> [--access acp|wac]" >&2
    fi
fi
exec "$bin" serve "$@"
