#!/usr/bin/env bash
# podplane benchmark: starts a trivial axum handler and the embedded server (fresh data dir)
# on this machine and prints each figure beside its ratio to the trivial handler, all from one
# run (these machines are noisy; only ratios within a run mean anything).
#
# Usage: scripts/bench.sh [seconds-per-load-test]   (default 10)
# Needs wrk (installed from Debian's packages if missing), curl and python3; the distributed
# column starts PostgreSQL, Garage and Nisshi with scripts/dev-services.sh (BENCH_DISTRIBUTED=0
# skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNS=32
THREADS=2

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -p podplane --bin podplane --example trivial_axum --example bench_idp --example bench_notify >&2
cargo build --release --locked -p podplane-auth --example proof_cost >&2
BIN=target/release/podplane
TRIVIAL=target/release/examples/trivial_axum
IDP=http://127.0.0.1:3954

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

wait_ready() { for _ in $(seq 1 500); do curl -sf -o /dev/null "$1" && return 0; sleep 0.01; done; echo "not ready: $1" >&2; exit 1; }
# rps and p50 (ms) from wrk --latency output
wrk_run() { wrk --latency -t"$THREADS" -c"$1" -d"${DURATION}s" "${@:2}"; }
rps_of() { awk '/Requests\/sec/ {print $2}'; }
p50_of() { awk '$1=="50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}'; }
peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
# Server CPU (user + system) a process has used, in clock ticks (/proc/<pid>/stat fields 14, 15).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
requests_of() { awk '/requests in/ {print $1}'; }
# Server CPU per request in µs: $1 ticks before, $2 ticks after, $3 requests served.
cpu_us() { python3 -c "print(f'{($2 - $1) / $(getconf CLK_TCK) * 1e6 / max($3, 1):.0f}')"; }
# One load phase against $SERVER: sets OUT (wrk's output), R (req/s) and CPU (µs/request).
measured() {
  local t0; t0=$(cpu_ticks "$SERVER")
  OUT=$(wrk_run "$@")
  CPU=$(cpu_us "$t0" "$(cpu_ticks "$SERVER")" "$(echo "$OUT" | requests_of)")
  R=$(echo "$OUT" | rps_of)
}

NOTIFY=target/release/examples/bench_notify
# Notification latency (write acknowledged -> WebSocket message, 500 writes/s for the run's
# duration) and idle WebSocket subscribers held, with the RSS of the process holding them.
# $1 notifications base, $2 an open container, $3 the pid holding the sockets, $4 row label.
bench_notifications() {
  local out
  out=$("$NOTIFY" latency "$1" "$2" "$IDP" 500 "$DURATION")
  row "$4: notification p50 at 500 writes/s (ms)" "$(echo "$out" | awk '$1=="p50_ms"{print $2}')" "-"
  row "$4: notification p99 at 500 writes/s (ms)" "$(echo "$out" | awk '$1=="p99_ms"{print $2}')" "-"
  row "$4: notifications received / writes" "$(echo "$out" | awk '$1=="notifications_received"{r=$2} $1=="writes_acknowledged"{w=$2} END{print r "/" w}')" "-"
  "$NOTIFY" idle "$1" "$2" "$IDP" 10000 8 > "$WORK/idle.out" & local holder=$!
  for _ in $(seq 1 600); do grep -q idle_sockets "$WORK/idle.out" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  row "$4: idle WebSocket subscribers held" "$(awk '{print $2}' "$WORK/idle.out")" "-"
  row "$4: RSS holding them (MiB)" "$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$3/status")" "-"
  wait "$holder" 2>/dev/null || true
}

declare -a ROWS
row() { ROWS+=("$(printf '%-44s %14s %10s' "$1" "$2" "$3")"); }

# 1. Baseline
"$TRIVIAL" 127.0.0.1:3951 & PIDS+=($!)
wait_ready http://127.0.0.1:3951/x
BASE_RPS=$(wrk_run $CONNS http://127.0.0.1:3951/x | rps_of)
row "trivial axum handler, GET (req/s)" "$BASE_RPS" "1.00"

# The identity provider of the bench pod's owner (the test suite's, on loopback).
target/release/examples/bench_idp 127.0.0.1:3954 & PIDS+=($!)
wait_ready "$IDP/webid"
OWNER=$(curl -sf "$IDP/webid")
TOKEN=$(curl -sf "$IDP/token")
export PODPLANE_ALLOW_PRIVATE_FETCH=true
# The owner opens a pod to the public (public figures are measured with access control
# evaluated on every request, as always).
open_pod() {
  curl -sf -X PUT -H "authorization: DPoP $TOKEN" -H "dpop: $(curl -sf "$IDP/proofs?n=1&method=PUT&url=$1.acl")" \
    -H 'content-type: text/turtle' --data-binary @scripts/bench/open-acr.ttl "$1.acl" >/dev/null
}

# 2. Embedded podplane on a fresh data dir
export PODPLANE_DATA_DIR="$WORK/data" PODPLANE_BASE_URL=http://127.0.0.1:3952 PODPLANE_LOG=warn
"$BIN" pod create bench --owner "$OWNER" >/dev/null
START=$(date +%s%N)
"$BIN" serve --listen 127.0.0.1:3952 & SERVER=$!; PIDS+=($SERVER)
wait_ready http://127.0.0.1:3952/health/ready
STARTUP_EMPTY_MS=$(( ($(date +%s%N) - START) / 1000000 ))
U=http://127.0.0.1:3952/bench
open_pod "$U/"

curl -sf -X PUT -H 'content-type: text/turtle' --data-binary \
  '<#it> <http://xmlns.com/foaf/0.1/name> "A small document"; <http://ex.org/count> 1 .' "$U/small.ttl" >/dev/null
measured $CONNS "$U/small.ttl"; row "GET small Turtle (req/s)" "$R" "$(ratio "$R" "$BASE_RPS")"
SMALL_GET=$R GET_CPU=$CPU
row "  ... server CPU per request (us)" "$CPU" "-"
# Authenticated: the same GET with a DPoP-bound token and a fresh proof each time.
curl -sf "$IDP/proofs?n=$((DURATION * 25000))&method=GET&url=$U/small.ttl" > "$WORK/proofs"
TOKEN=$TOKEN PROOFS="$WORK/proofs" THREADS=$THREADS measured $CONNS -s scripts/bench/dpop_get.lua "$U/small.ttl"
row "GET small Turtle, DPoP-authenticated (req/s)" "$R" "$(ratio "$R" "$BASE_RPS")"
DPOP_CPU=$CPU
row "  ... server CPU per request (us)" "$CPU" "-"
if echo "$OUT" | grep -q "Non-2xx"; then echo "warning: some DPoP requests failed: $(echo "$OUT" | grep Non-2xx)" >&2; fi
DPOP_GET=$R
read -r PROOF_US ECDSA_US < <(target/release/examples/proof_cost)
row "  ... one proof's verification alone (us, one core)" "$PROOF_US" "-"
row "  ... of which the P-256 ECDSA verify (us)" "$ECDSA_US" "-"
R=$(wrk_run $CONNS -H 'Accept: application/ld+json' "$U/small.ttl" | rps_of); row "GET small as JSON-LD (req/s)" "$R" "$(ratio "$R" "$BASE_RPS")"
JSONLD_GET=$R
measured 8 -s scripts/bench/put_new.lua "$U/"; row "PUT small Turtle to new URLs (req/s)" "$R" "$(ratio "$R" "$BASE_RPS")"
PUT_NEW=$R PUT_CPU=$CPU
row "  ... server CPU per request (us)" "$CPU" "-"
curl -sf -X PUT -H 'content-type: text/turtle' --data-binary '<#it> <http://ex.org/count> 0 .' "$U/patched.ttl" >/dev/null
R=$(wrk_run 8 -s scripts/bench/patch_n3.lua "$U/patched.ttl" | rps_of); row "PATCH N3 (req/s)" "$R" "$(ratio "$R" "$BASE_RPS")"
PATCH_N3=$R

# Container with 10 000 members, filled over keep-alive connections.
python3 - "$U" <<'PY'
import http.client, sys, threading, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
def fill(start):
    c = http.client.HTTPConnection(u.hostname, u.port)
    for i in range(start, 10000, 4):
        c.request("PUT", f"{u.path}/big/{i}.ttl", body=f"<#it> <http://ex.org/n> {i} .", headers={"Content-Type": "text/turtle"})
        r = c.getresponse(); r.read()
        assert r.status == 201, r.status
ts = [threading.Thread(target=fill, args=(s,)) for s in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
LIST=$(wrk --latency -t1 -c1 -d"${DURATION}s" "$U/big/")
row "GET container of 10 000 members, p50 (ms)" "$(echo "$LIST" | p50_of)" "-"
row "GET container of 10 000 members (req/s)" "$(echo "$LIST" | rps_of)" "-"
# The same listing right after a change (nothing cached): add a member, then GET; median of 9.
FRESH=$(for i in $(seq 1 9); do
  curl -sf -X PUT -H 'content-type: text/turtle' --data-binary '' "$U/big/extra-$i.ttl" >/dev/null
  curl -sf -o /dev/null -w '%{time_total}\n' "$U/big/"
done | sort -n | sed -n 5p)
row "  ... first GET after a change, median (ms)" "$(python3 -c "print(f'{$FRESH*1000:.1f}')")" "-"

row "server peak RSS after the tests above (MiB)" "$(peak_rss_mib $SERVER)" "-"

# 1 GiB up and down, streamed, on a freshly started server so its peak RSS is the streaming's.
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
"$BIN" serve --listen 127.0.0.1:3952 & SERVER=$!; PIDS+=($SERVER)
wait_ready http://127.0.0.1:3952/health/ready
head -c $((1024*1024*1024)) /dev/zero > "$WORK/1g.bin"
T0=$(date +%s%N)
curl -sf -X PUT -H 'content-type: application/octet-stream' -T "$WORK/1g.bin" "$U/1g.bin" >/dev/null
T1=$(date +%s%N)
curl -sf -o /dev/null "$U/1g.bin"
T2=$(date +%s%N)
rm -f "$WORK/1g.bin"
row "1 GiB upload (MiB/s)" "$(python3 -c "print(f'{1024/(($T1-$T0)/1e9):.0f}')")" "-"
row "1 GiB download (MiB/s)" "$(python3 -c "print(f'{1024/(($T2-$T1)/1e9):.0f}')")" "-"
row "server peak RSS over the 1 GiB upload + download (MiB)" "$(peak_rss_mib $SERVER)" "-"

# Start-up on the populated data dir (10 000+ resources).
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
START=$(date +%s%N)
"$BIN" serve --listen 127.0.0.1:3952 & SERVER=$!; PIDS+=($SERVER)
wait_ready http://127.0.0.1:3952/health/ready
row "start-up, empty data dir (ms)" "$STARTUP_EMPTY_MS" "-"
row "start-up, populated data dir (ms)" "$(( ($(date +%s%N) - START) / 1000000 ))" "-"

# 2a. Pod archives: the bench pod (the 1 GiB blob and 10 000+ documents) exported from the live
#     data dir and imported into a fresh one, each CLI's time and peak RSS measured.
timed_peak() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.time()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{time.time() - t:.3f} {peak:.1f} {code}")
PY
}
read -r EXPORT_S EXPORT_RSS EXPORT_RC < <(timed_peak "$BIN" pod export bench --output "$WORK/pod.tar")
ARCHIVE_MIB=$(python3 -c "import os; print(f'{os.path.getsize(\"$WORK/pod.tar\")/2**20:.0f}')")
read -r IMPORT_S IMPORT_RSS IMPORT_RC < <(timed_peak "$BIN" pod import "$WORK/pod.tar" --name moved \
  --data-dir "$WORK/imported" --base-url http://127.0.0.1:3957)
rm -rf "$WORK/pod.tar" "$WORK/imported"
[ "$EXPORT_RC$IMPORT_RC" = "00" ] || { echo "pod export/import failed ($EXPORT_RC/$IMPORT_RC)" >&2; exit 1; }
row "pod export, ${ARCHIVE_MIB} MiB archive (MiB/s)" "$(python3 -c "print(f'{$ARCHIVE_MIB/$EXPORT_S:.0f}')")" "-"
row "  ... export CLI peak RSS (MiB)" "$EXPORT_RSS" "-"
row "pod import of it (MiB/s)" "$(python3 -c "print(f'{$ARCHIVE_MIB/$IMPORT_S:.0f}')")" "-"
row "  ... import CLI peak RSS (MiB)" "$IMPORT_RSS" "-"

# Notifications, embedded: a server of their own (10 000 sockets need a higher connection cap).
"$BIN" pod create notify --owner "$OWNER" --data-dir "$WORK/notify" --base-url http://127.0.0.1:3955 >/dev/null
"$BIN" serve --listen 127.0.0.1:3955 --data-dir "$WORK/notify" --base-url http://127.0.0.1:3955 \
  --max-connections 15000 & NSERVER=$!; PIDS+=($NSERVER)
wait_ready http://127.0.0.1:3955/health/ready
open_pod http://127.0.0.1:3955/notify/
bench_notifications http://127.0.0.1:3955 http://127.0.0.1:3955/notify/ "$NSERVER" "embedded"
kill "$NSERVER"; wait "$NSERVER" 2>/dev/null || true

# 2b. Audit: the small GET and PUT on three servers that audit reads and refusals not at all,
#     only the refusals, or everything (changes are always audited, in their own transaction).
#     The three run side by side and are measured in turn, five rounds of 5 s, so drift over
#     the run falls on each alike; each figure is the median of its rounds, each ratio is to
#     audit off (server CPU per GET too: steadier than req/s on a noisy machine). The dropped
#     count is what the tap gave up (queue full, or past its --audit-read-share) rather than
#     take the cores that serve requests.
declare -A AUDIT_PORT=([off]=3957 [denials]=3958 [all]=3959)
declare -A AUDIT_PID
for mode in off denials all; do
  base="http://127.0.0.1:${AUDIT_PORT[$mode]}"
  PODPLANE_DATA_DIR="$WORK/audit-$mode" PODPLANE_BASE_URL="$base" "$BIN" pod create bench --owner "$OWNER" >/dev/null
  PODPLANE_DATA_DIR="$WORK/audit-$mode" PODPLANE_BASE_URL="$base" "$BIN" serve --listen "127.0.0.1:${AUDIT_PORT[$mode]}" --audit "$mode" & AUDIT_PID[$mode]=$!; PIDS+=(${AUDIT_PID[$mode]})
  wait_ready "$base/health/ready"
  open_pod "$base/bench/"
  curl -sf -X PUT -H 'content-type: text/turtle' --data-binary \
    '<#it> <http://xmlns.com/foaf/0.1/name> "A small document"; <http://ex.org/count> 1 .' "$base/bench/small.ttl" >/dev/null
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -A AUDIT_GETS AUDIT_PUTS AUDIT_CPUS
for round in 1 2 3 4 5; do
  for mode in off denials all; do
    base="http://127.0.0.1:${AUDIT_PORT[$mode]}"
    SERVER=${AUDIT_PID[$mode]} DURATION=5 measured $CONNS "$base/bench/small.ttl"
    AUDIT_GETS[$mode]+=" $R" AUDIT_CPUS[$mode]+=" $CPU"
    AUDIT_PUTS[$mode]+=" $(DURATION=5 wrk_run 8 -s scripts/bench/put_new.lua "$base/bench/" | rps_of)"
    # What the server still has queued (at most --audit-queue events) is stored before the
    # next server is measured, so no server pays for another's backlog.
    sleep 2
  done
done
for mode in off denials all; do
  # shellcheck disable=SC2086
  G=$(median ${AUDIT_GETS[$mode]}) P=$(median ${AUDIT_PUTS[$mode]}) C=$(median ${AUDIT_CPUS[$mode]})
  if [ "$mode" = off ]; then OFF_GET=$G OFF_PUT=$P OFF_CPU=$C; fi
  row "audit $mode: GET small (req/s; ratio to off)" "$G" "$(ratio "$G" "$OFF_GET")"
  row "  ... server CPU per GET (us; off / this)" "$C" "$(ratio "$OFF_CPU" "$C")"
  row "audit $mode: PUT small (req/s; ratio to off)" "$P" "$(ratio "$P" "$OFF_PUT")"
  case $mode in denials) DEN_GET=$G DEN_PUT=$P ;; all) ALL_GET=$G ALL_PUT=$P ;; esac
done
DROPPED=$(curl -sf "http://127.0.0.1:${AUDIT_PORT[all]}/metrics" | awk '/^podplane_audit_events_dropped_total/ {print $2}')
row "audit all: read events dropped, not waited for" "${DROPPED:-0}" "-"
kill "${AUDIT_PID[@]}"; wait "${AUDIT_PID[@]}" 2>/dev/null || true

# 3. Distributed mode: one `podplane storage` replica on PostgreSQL, S3 (Garage) and Kafka
#    (Nisshi) on loopback, from scripts/dev-services.sh. Ratios are to embedded mode's figures.
if [ "${BENCH_DISTRIBUTED:-1}" = 1 ]; then
  eval "$(scripts/dev-services.sh up)"
  DB="podplane_bench_$$"
  psql "$PODPLANE_TEST_PG_URL" -qc "CREATE DATABASE $DB"
  DB_URL="${PODPLANE_TEST_PG_URL%/*}/$DB"
  psql "$PODPLANE_TEST_PG_URL" -qc "CREATE DATABASE ${DB}_p"
  DPODS=(--database-url "$DB_URL" --provision-database-url "${DB_URL}_p" --base-url http://127.0.0.1:3953)
  "$BIN" pod create bench --owner "$OWNER" "${DPODS[@]}" >/dev/null
  PODPLANE_DATA_DIR= "$BIN" storage --listen 127.0.0.1:3953 --base-url http://127.0.0.1:3953 \
    --database-url "$DB_URL" --s3-bucket "$PODPLANE_TEST_S3_BUCKET" --s3-prefix "bench-$$/" \
    --s3-endpoint "$PODPLANE_TEST_S3_ENDPOINT" --s3-path-style \
    --kafka-bootstrap-servers "$PODPLANE_TEST_KAFKA" \
    --notifications-base-url http://127.0.0.1:3956 --internal-secret "bench-$$" & DSERVER=$!; PIDS+=($DSERVER)
  wait_ready http://127.0.0.1:3953/health/ready
  psql "$PODPLANE_TEST_PG_URL" -qc "CREATE DATABASE ${DB}_n"
  PODPLANE_DATA_DIR= "$BIN" notifications --listen 127.0.0.1:3956 --base-url http://127.0.0.1:3956 \
    --database-url "${DB_URL}_n" --storage-base-url http://127.0.0.1:3953 --internal-secret "bench-$$" \
    --kafka-bootstrap-servers "$PODPLANE_TEST_KAFKA" --kafka-consumer-group "bench-$$" \
    --max-connections 15000 & NREPLICA=$!; PIDS+=($NREPLICA)
  wait_ready http://127.0.0.1:3956/health/ready
  D=http://127.0.0.1:3953/bench
  open_pod "$D/"
  curl -sf -X PUT -H 'content-type: text/turtle' --data-binary \
    '<#it> <http://xmlns.com/foaf/0.1/name> "A small document"; <http://ex.org/count> 1 .' "$D/small.ttl" >/dev/null
  R=$(wrk_run $CONNS "$D/small.ttl" | rps_of); row "distributed: GET small Turtle (req/s; ratio to embedded)" "$R" "$(ratio "$R" "$SMALL_GET")"
  R=$(wrk_run $CONNS -H 'Accept: application/ld+json' "$D/small.ttl" | rps_of); row "distributed: GET small as JSON-LD" "$R" "$(ratio "$R" "$JSONLD_GET")"
  R=$(wrk_run 8 -s scripts/bench/put_new.lua "$D/" | rps_of); row "distributed: PUT small Turtle to new URLs" "$R" "$(ratio "$R" "$PUT_NEW")"
  curl -sf -X PUT -H 'content-type: text/turtle' --data-binary '<#it> <http://ex.org/count> 0 .' "$D/patched.ttl" >/dev/null
  R=$(wrk_run 8 -s scripts/bench/patch_n3.lua "$D/patched.ttl" | rps_of); row "distributed: PATCH N3" "$R" "$(ratio "$R" "$PATCH_N3")"
  head -c $((256*1024*1024)) /dev/zero > "$WORK/256m.bin"
  T0=$(date +%s%N)
  curl -sf -X PUT -H 'content-type: application/octet-stream' -T "$WORK/256m.bin" "$D/256m.bin" >/dev/null
  T1=$(date +%s%N)
  curl -sf -o /dev/null "$D/256m.bin"
  T2=$(date +%s%N)
  rm -f "$WORK/256m.bin"
  row "distributed: 256 MiB upload to S3 (MiB/s)" "$(python3 -c "print(f'{256/(($T1-$T0)/1e9):.0f}')")" "-"
  row "distributed: 256 MiB download from S3 (MiB/s)" "$(python3 -c "print(f'{256/(($T2-$T1)/1e9):.0f}')")" "-"
  row "distributed: replica peak RSS (MiB)" "$(peak_rss_mib $DSERVER)" "-"
  bench_notifications http://127.0.0.1:3956 "$D/" "$NREPLICA" "distributed"
  kill "$NREPLICA" "$DSERVER"; wait "$NREPLICA" "$DSERVER" 2>/dev/null || true
  psql "$PODPLANE_TEST_PG_URL" -qc "DROP DATABASE $DB WITH (FORCE)"
  psql "$PODPLANE_TEST_PG_URL" -qc "DROP DATABASE ${DB}_n WITH (FORCE)"
  psql "$PODPLANE_TEST_PG_URL" -qc "DROP DATABASE ${DB}_p WITH (FORCE)"
fi

echo
printf '%-44s %14s %10s\n' "figure (one run, $(nproc) cores, ${DURATION}s each)" "value" "ratio"
printf '%s\n' "${ROWS[@]}"
echo
echo "target: GET small Turtle >= 0.40 of the trivial handler -> $(ratio "$SMALL_GET" "$BASE_RPS")"
echo "target: DPoP-authenticated GET >= 0.60 of the public GET -> $(ratio "$DPOP_GET" "$SMALL_GET")"
echo "target: DPoP GET CPU <= public GET CPU + 1.2 x one proof -> (DPoP - public) / proof = $(python3 -c "print(f'{($DPOP_CPU - $GET_CPU) / $PROOF_US:.2f}')")"
echo "target: durable small PUT >= 0.035 of the trivial handler -> $(ratio "$PUT_NEW" "$BASE_RPS"); CPU <= 500 us per write -> $PUT_CPU"
echo "targets (audit): GET and PUT >= 0.95 of audit off with denials, >= 0.85 with all -> denials $(ratio "$DEN_GET" "$OFF_GET") / $(ratio "$DEN_PUT" "$OFF_PUT"), all $(ratio "$ALL_GET" "$OFF_GET") / $(ratio "$ALL_PUT" "$OFF_PUT")"
echo "targets (distributed): small GET >= 0.40 and PUT >= 0.25 of embedded (rows marked distributed)"
echo "target (pod archives): a pod of 1 GiB exported and imported in < 64 MiB RSS -> export $EXPORT_RSS MiB, import $IMPORT_RSS MiB"
echo "targets (notifications): p99 < 100 ms at 500 writes/s; 10 000 idle sockets in < 256 MiB RSS"
