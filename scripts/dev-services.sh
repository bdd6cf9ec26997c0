#!/usr/bin/env bash
# Loopback services for distributed mode and its tests, from package registries only:
#   postgres  PostgreSQL on 127.0.0.1:5432 (the machine's own; installed with apt if missing)
#   kafka     Nisshi 0.8.1 (formerly Tansu), a Kafka-protocol broker, in-memory, on
#             127.0.0.1:9092
#   s3        Garage 2.5.0, an S3-compatible server, on 127.0.0.1:3900 (bucket "podplane")
# Nisshi and Garage are built once with `cargo install --debug` into ~/.cargo/bin (about 10
# minutes on 2 cores the first time; nothing afterwards).
#
# Usage: scripts/dev-services.sh up [postgres|kafka|s3 ...]   start (all by default); prints
#                                                           `export` lines for the tests
#        scripts/dev-services.sh install [kafka|s3 ...]     only build the binaries (for
#                                                           scripts/stack.sh's images)
#        scripts/dev-services.sh down                       stop what this script started
#        scripts/dev-services.sh status                     what is reachable
# State (logs, pids, Garage data) lives in $PODPLANE_DEV_DIR (default ./.dev-services).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${PODPLANE_DEV_DIR:-$PWD/.dev-services}"
mkdir -p "$DIR"
export PATH="$HOME/.cargo/bin:$PATH"

PG_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
KAFKA="127.0.0.1:9092"
S3_ENDPOINT="http://127.0.0.1:3900"
S3_KEY="GK0123456789abcdef01234567"
S3_SECRET="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
S3_BUCKET="podplane"

log() { echo "dev-services: $*" >&2; }
wait_for() { # description, tries (0.1 s each), command...
    local what=$1 tries=$2; shift 2
    for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    log "$what did not become ready"; return 1
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }
up_postgres() {
    if ! command -v pg_isready >/dev/null || ! pg_ready; then
        if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
            log "installing PostgreSQL from Debian's packages"
            apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        fi
        log "starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start >&2 || true
    fi
    wait_for PostgreSQL 300 pg_ready
    # Password auth works whatever pg_hba.conf says (trust ignores it).
    runuser -u postgres -- psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null 2>&1 || true
    echo "export PODPLANE_TEST_PG_URL=$PG_URL"
}

# Features: dynostore for the tests' in-memory broker (memory://), libsql for the compose
# stack's broker (sqlite:// on a volume; see compose.yaml for why not s3://).
# Why Nisshi 0.8.1 and not Tansu 0.6.0 (its name before): under CPU load, Tansu 0.6.0's group
# coordinator left some partitions of a SIGKILLed consumer assigned to nobody, so webhook
# delivery of their events stopped for good (the kill test in tests/protocol/
# notification_faults.rs failed 2 of 3 runs beside three busy loops; Nisshi passed 4 of 4);
# Nisshi rewrote that coordinator after Kafka's. 0.8.1 declares Rust 1.96 and builds with
# this machine's 1.95, hence --ignore-rust-version.
NISSHI_VERSION=0.8.1
NISSHI_FEATURES=dynostore,libsql
nisshi_installed() {
    nisshi --version 2>/dev/null | grep -q "^nisshi $NISSHI_VERSION\$" || return 1
    python3 - "$NISSHI_VERSION" "$NISSHI_FEATURES" <<'PY2'
import json, os, sys
installs = json.load(open(os.path.expanduser("~/.cargo/.crates2.json")))["installs"]
wanted = set(sys.argv[2].split(","))
sys.exit(0 if any(k.startswith(f"nisshi {sys.argv[1]} ") and wanted <= set(v["features"])
                  for k, v in installs.items()) else 1)
PY2
}
install_nisshi() {
    nisshi_installed 2>/dev/null && return 0
    log "building Nisshi $NISSHI_VERSION (once; about 10 minutes)"
    CARGO_PROFILE_DEV_DEBUG=0 cargo install --locked --debug --ignore-rust-version \
        "nisshi@$NISSHI_VERSION" --no-default-features --features "$NISSHI_FEATURES" >&2
}
kafka_ready() { nisshi topic list --broker "tcp://$KAFKA"; }
# What listens on the Kafka port, by process name (empty when nothing does).
kafka_holder() {
    { ss -Hltnp "sport = :${KAFKA##*:}" 2>/dev/null || true; } | { grep -o '(("[^"]*"' || true; } \
        | head -1 | tr -d '("'
}
up_kafka() {
    install_nisshi
    local holder
    holder=$(kafka_holder)
    if [ -n "$holder" ] && [ "$holder" != nisshi ]; then
        # Another broker (an older Tansu) would answer the tests with its own bugs.
        log "$KAFKA is held by '$holder', not Nisshi $NISSHI_VERSION: stop it first"
        return 1
    fi
    if ! kafka_ready >/dev/null 2>&1; then
        log "starting Nisshi on $KAFKA"
        nohup nisshi broker --storage-engine memory://nisshi/ --listener-url "tcp://$KAFKA" \
            --advertised-listener-url "tcp://$KAFKA" >"$DIR/nisshi.log" 2>&1 &
        echo $! >"$DIR/nisshi.pid"
        wait_for Nisshi 300 kafka_ready
    fi
    echo "export PODPLANE_TEST_KAFKA=$KAFKA"
}

install_garage() {
    garage --version 2>/dev/null | grep -q 'cargo:2.5.0 .*lmdb' && return 0
    log "building Garage 2.5.0 (once; a few minutes)"
    CARGO_PROFILE_DEV_DEBUG=0 cargo install --locked --debug garage@2.5.0 \
        --no-default-features --features bundled-libs,lmdb >&2
}
s3_ready() { curl -fsS http://127.0.0.1:3903/health; }
up_s3() {
    install_garage
    local g="$DIR/garage" G
    G="garage -c $g/garage.toml"
    if ! s3_ready >/dev/null 2>&1; then
        rm -rf "$g" && mkdir -p "$g"
        cat >"$g/garage.toml" <<TOML
metadata_dir = "$g/meta"
data_dir = "$g/data"
db_engine = "lmdb"
metadata_fsync = false
data_fsync = false
replication_factor = 1
rpc_bind_addr = "127.0.0.1:3901"
rpc_public_addr = "127.0.0.1:3901"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:3900"
root_domain = ".s3.garage.localhost"
[admin]
api_bind_addr = "127.0.0.1:3903"
admin_token = "dev-admin-token"
metrics_token = "dev-metrics-token"
TOML
        log "starting Garage on $S3_ENDPOINT"
        RUST_LOG=warn nohup $G server >"$DIR/garage.log" 2>&1 &
        echo $! >"$DIR/garage.pid"
        wait_for Garage 300 $G status
        $G layout assign -z dc1 -c 1G "$($G node id -q | cut -d@ -f1)" >&2
        $G layout apply --version 1 >&2
        $G key import --yes -n podplane "$S3_KEY" "$S3_SECRET" >&2
        $G bucket create "$S3_BUCKET" >&2
        $G bucket allow --read --write --owner "$S3_BUCKET" --key podplane >&2
        wait_for Garage 300 s3_ready
    fi
    echo "export PODPLANE_TEST_S3_ENDPOINT=$S3_ENDPOINT PODPLANE_TEST_S3_BUCKET=$S3_BUCKET"
    echo "export AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_REGION=garage"
}

down() {
    for name in nisshi garage; do
        if [ -f "$DIR/$name.pid" ]; then
            kill "$(cat "$DIR/$name.pid")" 2>/dev/null || true
            rm -f "$DIR/$name.pid"
            log "stopped $name"
        fi
    done
}

status() {
    pg_ready && echo "postgres: up ($PG_URL)" || echo "postgres: down"
    command -v nisshi >/dev/null && kafka_ready >/dev/null 2>&1 && echo "kafka: up ($KAFKA)" || echo "kafka: down"
    s3_ready >/dev/null 2>&1 && echo "s3: up ($S3_ENDPOINT)" || echo "s3: down"
}

cmd="${1:-status}"; shift || true
case "$cmd" in
    up)
        [ $# -eq 0 ] && set -- postgres kafka s3
        for s in "$@"; do
            case "$s" in
                postgres) up_postgres ;;
                kafka) up_kafka ;;
                s3) up_s3 ;;
                *) log "unknown service $s"; exit 2 ;;
            esac
        done
        ;;
    install)
        [ $# -eq 0 ] && set -- kafka s3
        for s in "$@"; do
            case "$s" in
                kafka) install_nisshi ;;
                s3) install_garage ;;
                *) log "unknown service $s"; exit 2 ;;
            esac
        done
        ;;
    down) down ;;
    status) status ;;
    *) log "usage: $0 up [postgres|kafka|s3 ...] | install [kafka|s3 ...] | down | status"; exit 2 ;;
esac
