#!/usr/bin/env bash
# The distributed stack of compose.yaml, built and run on this machine with no registry:
# every image, the Debian base included, is built locally.
#
# Usage: scripts/stack.sh up      install Docker Engine, Compose and debootstrap from Debian's
#                                 packages if missing; start dockerd if none runs; build the
#                                 base image, the stand-ins for the third-party images and the
#                                 podplane images (from a host binary); `compose up`; wait
#                                 until everything is healthy. Prints `export` lines.
#        scripts/stack.sh smoke   curl checks through the load balancer, and a pod created
#                                 with `podplane pod create` in the `migrate` container
#        scripts/stack.sh status  containers and their health
#        scripts/stack.sh down    `compose down -v`; stop dockerd if `up` started it
#        scripts/stack.sh config  `compose config -q`: compose.yaml is valid (no daemon needed)
#
#   eval "$(scripts/stack.sh up)" && scripts/stack.sh smoke && scripts/stack.sh down
#
# Environment:
#   PODPLANE_BIN          host binary for the images (default target/release/podplane, else
#                         target/debug/podplane); debug info is stripped from the copy
#   PODPLANE_HTTP_PORT    load balancer port on 127.0.0.1 (default 8080)
#   COMPOSE_PROJECT_NAME  (default podplane)
#   PODPLANE_CACHE_DIR    base image tarball, dockerd data root, logs (default ~/.cache/podplane)
#   PODPLANE_STACK_TIMEOUT seconds `up` waits for health (default 180)
#   PODPLANE_RUNTIME      distroless (default) or debian (a shell in the podplane images)
#   COMPOSE_FILE          default compose.yaml; add override files with `:`
#   POSTGRES_IMAGE S3_IMAGE KAFKA_IMAGE LB_IMAGE PODPLANE_REGISTRY PODPLANE_VERSION: image
#                         names, as in compose.yaml. An image that exists and is not one of our
#                         stand-ins (e.g. a real upstream image you pulled) is used as it is.
#
# Choices (see also docker/Dockerfile, compose.yaml):
#   - Docker Engine: Debian's docker.io (20.10). Its own client, /usr/bin/docker, builds with
#     BuildKit without the buildx plugin (a newer client without buildx cannot), and BuildKit
#     skips the Dockerfile's `builder` stage, so no Rust image is needed.
#   - Compose: `docker compose` (v2) when the client has it, else Debian's docker-compose 1.29
#     (v1; bookworm has no v2 package, and v2 is not on any registry reachable here as an
#     official artifact). compose.yaml is written for both. Images are built by this script,
#     never by compose (`--no-build`), so compose's builder does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CACHE="${PODPLANE_CACHE_DIR:-$HOME/.cache/podplane}"
STATE="$CACHE/stack"
mkdir -p "$STATE"
export PATH="$HOME/.cargo/bin:$PATH"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-podplane}"
export COMPOSE_FILE="${COMPOSE_FILE:-$ROOT/compose.yaml}"
# PODPLANE_STACK_TEST=1: the stack the tests use, with a test identity provider
# (docker/compose/test.yaml) serving what the test writes into PODPLANE_STACK_IDP_DIR.
if [ "${PODPLANE_STACK_TEST:-}" = 1 ]; then
    export PODPLANE_STACK_IDP_DIR="${PODPLANE_STACK_IDP_DIR:-$STATE/idp}"
    export COMPOSE_FILE="$ROOT/compose.yaml:$ROOT/docker/compose/test.yaml"
fi
export PODPLANE_HTTP_PORT="${PODPLANE_HTTP_PORT:-8080}"
CRATE_VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
export PODPLANE_VERSION="${PODPLANE_VERSION:-$CRATE_VERSION}"
export PODPLANE_REGISTRY="${PODPLANE_REGISTRY:-localhost/podplane}"
export POSTGRES_IMAGE="${POSTGRES_IMAGE:-postgres:16-bookworm}"
export S3_IMAGE="${S3_IMAGE:-dxflrs/garage:v2.5.0}"
export KAFKA_IMAGE="${KAFKA_IMAGE:-ghcr.io/nisshi-io/nisshi:0.8.1}"
export LB_IMAGE="${LB_IMAGE:-haproxy:2.8}"
BASE_IMAGE=debian:bookworm-slim
STORAGE_IMAGE="$PODPLANE_REGISTRY/podplane-storage:$PODPLANE_VERSION"
NOTIFICATIONS_IMAGE="$PODPLANE_REGISTRY/podplane-notifications:$PODPLANE_VERSION"
PROVISION_IMAGE="$PODPLANE_REGISTRY/podplane-provision:$PODPLANE_VERSION"
AUDIT_IMAGE="$PODPLANE_REGISTRY/podplane-audit:$PODPLANE_VERSION"
URL="http://127.0.0.1:$PODPLANE_HTTP_PORT"
TIMEOUT="${PODPLANE_STACK_TIMEOUT:-180}"

log() { echo "stack: $*" >&2; }
die() { log "$*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

apt_install() { # packages...
    log "installing $* from Debian's packages"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# --- Docker client, engine, compose ---------------------------------------------------------

docker_client() {
    # Debian's client first: see "Choices" above.
    if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=$(command -v docker || true); fi
}

install_tools() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    [ -x /usr/bin/docker ] || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v objcopy >/dev/null || missing+=(binutils)
    command -v curl >/dev/null || missing+=(curl)
    docker_client
    if ! { [ -n "$DOCKER" ] && "$DOCKER" compose version >/dev/null 2>&1; } \
        && ! command -v docker-compose >/dev/null; then
        missing+=(docker-compose)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        # docker.io brings containerd, runc, iptables; ca-certificates for builds' apt-get.
        # shellcheck disable=SC2046 # one word per package, on purpose
        apt_install $(printf '%s\n' "${missing[@]}" | sort -u) ca-certificates
    fi
    docker_client
}

compose_cmd() {
    if "$DOCKER" compose version >/dev/null 2>&1; then
        COMPOSE=("$DOCKER" compose) PS_ALL=(ps -a -q)   # v2 lists exited containers with -a
    else
        COMPOSE=(docker-compose) PS_ALL=(ps -q)
    fi
}
compose() { "${COMPOSE[@]}" "$@"; }

daemon_up() { "$DOCKER" info >/dev/null 2>&1; }

start_daemon() {
    if daemon_up; then return 0; fi
    [ -n "${DOCKER_HOST:-}" ] && die "DOCKER_HOST=$DOCKER_HOST does not answer"
    log "starting dockerd (data root $CACHE/docker)"
    mkdir -p "$CACHE/docker"
    # Its own data root (images survive between runs, apart from any system Docker) and exec
    # root; the default socket, so every docker client finds it.
    nohup dockerd --data-root "$CACHE/docker" --exec-root /run/podplane-docker \
        --pidfile /run/podplane-docker.pid -H unix:///var/run/docker.sock \
        >"$STATE/dockerd.log" 2>&1 &
    echo $! >"$STATE/dockerd.pid"
    local t0; t0=$(now)
    for _ in $(seq 1 300); do
        daemon_up && { log "dockerd ready in $(since "$t0") s (pid $(cat "$STATE/dockerd.pid"))"; return 0; }
        kill -0 "$(cat "$STATE/dockerd.pid")" 2>/dev/null || break
        sleep 0.1
    done
    tail -20 "$STATE/dockerd.log" >&2
    die "dockerd did not start (log: $STATE/dockerd.log)"
}

stop_daemon() {
    local pidfile="$STATE/dockerd.pid" pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    # Only the dockerd this script started: the pid must still be that dockerd.
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "dockerd.*$CACHE/docker"; then
        log "stopping dockerd (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && { log "dockerd did not stop in 30 s; killing it"; kill -KILL "$pid"; }
    fi
    rm -f "$pidfile"
}

# Legacy builder or BuildKit: BuildKit when the client can (see "Choices").
build() { # docker build args...
    if [ "$("$DOCKER" version -f '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)" -lt 23 ] 2>/dev/null \
        || "$DOCKER" buildx version >/dev/null 2>&1; then
        DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain "$@"
    else
        # The legacy builder walks every stage before the target: make `builder` a no-op.
        DOCKER_BUILDKIT=0 "$DOCKER" build --build-arg RUST_IMAGE="$BASE_IMAGE" "$@"
    fi
}

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
# An image we may (re)build: missing, or built by us before (a stand-in label).
ours() { ! have_image "$1" || [ -n "$("$DOCKER" image inspect -f '{{index .Config.Labels "io.podplane.standin"}}' "$1" 2>/dev/null)" ]; }

# --- images ----------------------------------------------------------------------------------

# debian:bookworm-slim, made here: debootstrap (minbase) from the machine's Debian mirror,
# trimmed like the official slim image (no docs, man pages, locales, apt lists), imported.
# The tarball is cached, so this costs ~1.5 min once per machine.
base_image() {
    if have_image "$BASE_IMAGE"; then return 0; fi
    local tarball="$CACHE/debian-bookworm-slim.tar.gz"
    if [ ! -s "$tarball" ]; then
        local rootfs="$CACHE/rootfs.$$" mirror t0
        t0=$(now)
        mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
        mirror="${mirror:-http://deb.debian.org/debian}"
        log "building the $BASE_IMAGE base with debootstrap from $mirror (once)"
        rm -rf "$rootfs"
        debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$STATE/debootstrap.log" 2>&1 \
            || { tail -20 "$STATE/debootstrap.log" >&2; die "debootstrap failed"; }
        # apt sources: the machine's (mirror and security), else the standard ones.
        rm -f "$rootfs/etc/apt/sources.list"
        if [ -f /etc/apt/sources.list.d/debian.sources ]; then
            cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
        else
            printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
                >"$rootfs/etc/apt/sources.list.d/debian.sources"
        fi
        # What the official slim image does: dpkg skips docs/man/locales from now on...
        cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
        # ...apt keeps no downloaded packages and no translations...
        cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
        echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
        echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
        # ...and what is already there goes.
        find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
        find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
        rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda}/* "$rootfs"/usr/share/locale/* \
            "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
            "$rootfs"/tmp/* "$rootfs"/var/tmp/* "$rootfs"/var/cache/debconf/*-old
        tar -C "$rootfs" --numeric-owner -czf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
        log "base rootfs ready in $(since "$t0") s ($(du -h "$tarball" | cut -f1) compressed)"
    fi
    "$DOCKER" import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "$tarball" localhost/debian:bookworm-slim >/dev/null
    "$DOCKER" tag localhost/debian:bookworm-slim "$BASE_IMAGE"
    log "imported $BASE_IMAGE"
}

# A stand-in that is one host-built binary (~/.cargo/bin/NAME, stripped) in the image of
# docker/standins/NAME, tagged IMAGE.
binary_standin() { # image name
    local ctx="$STATE/build/$2"
    rm -rf "$ctx" && mkdir -p "$ctx"
    cp "docker/standins/$2/Dockerfile" "$ctx/"
    strip -o "$ctx/$2" "$(command -v "$2")"
    build -q -t "$1" "$ctx" >/dev/null
}

# Stand-ins for the third-party images, tagged with the names compose.yaml uses.
standins() {
    if ours "$POSTGRES_IMAGE"; then
        build -q -t "$POSTGRES_IMAGE" docker/standins/postgres >/dev/null
    fi
    if ours "$LB_IMAGE"; then
        build -q -t "$LB_IMAGE" docker/standins/haproxy >/dev/null
    fi
    if ours "$S3_IMAGE"; then
        bash scripts/dev-services.sh install s3
        binary_standin "$S3_IMAGE" garage
    fi
    if ours "$KAFKA_IMAGE"; then
        bash scripts/dev-services.sh install kafka
        binary_standin "$KAFKA_IMAGE" nisshi
    fi
    log "stand-ins ready: $POSTGRES_IMAGE $S3_IMAGE $KAFKA_IMAGE $LB_IMAGE"
}

podplane_bin() {
    if [ -n "${PODPLANE_BIN:-}" ]; then
        [ -x "$PODPLANE_BIN" ] || die "PODPLANE_BIN=$PODPLANE_BIN is not an executable"
        echo "$PODPLANE_BIN"
    elif [ -x target/release/podplane ]; then
        echo target/release/podplane
    elif [ -x target/debug/podplane ]; then
        echo target/debug/podplane
    else
        die "no podplane binary: run \`cargo build --release -p podplane\` or set PODPLANE_BIN"
    fi
}

podplane_images() {
    local bin t0
    bin=$(podplane_bin)
    t0=$(now)
    mkdir -p docker/bin
    # Debug info is most of a binary's size; symbols stay for readable backtraces.
    objcopy --strip-debug "$bin" docker/bin/podplane.tmp && mv docker/bin/podplane.tmp docker/bin/podplane
    local args=(--build-arg BINARY_FROM=prebuilt --build-arg RUNTIME="${PODPLANE_RUNTIME:-distroless}"
        --build-arg VERSION="$PODPLANE_VERSION"
        --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
        --build-arg CREATED="$(git log -1 --format=%cI 2>/dev/null || echo unknown)" -f docker/Dockerfile)
    build -q "${args[@]}" --target storage -t "$STORAGE_IMAGE" . >/dev/null
    build -q "${args[@]}" --target notifications -t "$NOTIFICATIONS_IMAGE" . >/dev/null
    build -q "${args[@]}" --target provision -t "$PROVISION_IMAGE" . >/dev/null
    build -q "${args[@]}" --target audit -t "$AUDIT_IMAGE" . >/dev/null
    log "podplane images from $bin ($(du -h docker/bin/podplane | cut -f1) stripped) in $(since "$t0") s"
}

image_sizes() {
    local image
    for image in "$STORAGE_IMAGE" "$NOTIFICATIONS_IMAGE" "$PROVISION_IMAGE" "$AUDIT_IMAGE" "$POSTGRES_IMAGE" "$S3_IMAGE" "$KAFKA_IMAGE" "$LB_IMAGE" "$BASE_IMAGE"; do
        printf '  %-55s %6.1f MB\n' "$image" \
            "$("$DOCKER" image inspect -f '{{.Size}}' "$image" | awk '{ print $1 / 1000000 }')" >&2
    done
}

# --- the stack ---------------------------------------------------------------------------

# Until every container is healthy (long-running) or exited 0 (one-shots). Fails fast on a
# one-shot that failed or a container that died.
wait_healthy() { # start-time
    local t0=$1 deadline ids id line bad pending
    deadline=$(( $(date +%s) + TIMEOUT ))
    while :; do
        ids=$(compose "${PS_ALL[@]}" 2>/dev/null | tr '\n' ' ')
        pending=0 bad=""
        for id in $ids; do
            # name status exit-code health restarts
            line=$("$DOCKER" inspect -f '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.RestartCount}}' "$id")
            set -- $line
            case "$2" in
                # Long-running: healthy, or running when it has no healthcheck.
                running) [ "$4" = healthy ] || [ "$4" = none ] || pending=$((pending + 1)) ;;
                # One-shots: done when they exited 0.
                exited) [ "$3" = 0 ] || bad="$bad $1(exit $3)" ;;
                dead) bad="$bad $1(dead)" ;;
                # Crash-looping (restart: unless-stopped) is a failure, not a wait.
                restarting) if [ "$5" -ge 3 ]; then bad="$bad $1(restarting)"; else pending=$((pending + 1)); fi ;;
                *) pending=$((pending + 1)) ;;   # created, restarting
            esac
        done
        if [ -n "$bad" ]; then
            compose ps >&2 || true
            for name in $bad; do
                name=${name%%(*}; log "logs of ${name#/}:"; "$DOCKER" logs --tail 30 "${name#/}" >&2 || true
            done
            die "failed:$bad"
        fi
        # All services present (compose creates them in dependency order).
        if [ -n "$ids" ] && [ "$pending" = 0 ] \
            && [ "$(echo "$ids" | wc -w)" -ge "$(compose config --services | wc -l)" ]; then
            log "stack healthy in $(since "$t0") s"
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            compose ps >&2 || true
            die "not healthy after ${TIMEOUT} s"
        fi
        sleep 0.5
    done
}

gateway_ip() {
    "$DOCKER" network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' "${COMPOSE_PROJECT_NAME}_default" 2>/dev/null || true
}

exports() {
    echo "export PODPLANE_STACK_URL=$URL"
    echo "export COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME COMPOSE_FILE=$COMPOSE_FILE"
    # The host as the containers see it (e.g. for a test identity provider or webhook
    # receiver the services must reach).
    echo "export PODPLANE_STACK_GATEWAY=$(gateway_ip)"
    if [ -n "${PODPLANE_STACK_IDP_DIR:-}" ]; then
        echo "export PODPLANE_STACK_TEST=1 PODPLANE_STACK_IDP_DIR=$PODPLANE_STACK_IDP_DIR"
    fi
}

# The test provider's HAProxy needs a configuration before it starts; the test replaces it
# (and restarts the service) once it has made its keys.
idp_placeholder() {
    [ -n "${PODPLANE_STACK_IDP_DIR:-}" ] || return 0
    mkdir -p "$PODPLANE_STACK_IDP_DIR"
    [ -f "$PODPLANE_STACK_IDP_DIR/haproxy.cfg" ] && return 0
    cat >"$PODPLANE_STACK_IDP_DIR/haproxy.cfg" <<'CFG'
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend idp
    bind :8000
    http-request return status 503
CFG
}

up() {
    local t_all t0
    t_all=$(now)
    install_tools
    compose_cmd
    start_daemon
    t0=$(now)
    base_image
    standins
    podplane_images
    log "images built in $(since "$t0") s:"
    image_sizes
    t0=$(now)
    idp_placeholder
    # --no-build: the images are ours, built above. `up` keeps what runs and is healthy.
    compose up -d --no-build >&2
    wait_healthy "$t0"
    log "up in $(since "$t_all") s in all; $URL"
    exports
}

down() {
    docker_client
    if [ -n "$DOCKER" ] && daemon_up; then
        compose_cmd
        compose down -v --remove-orphans >&2 || true
    fi
    stop_daemon
}

status() {
    docker_client
    [ -n "$DOCKER" ] && daemon_up || { echo "docker: not running"; return 0; }
    compose_cmd
    compose ps
    "$DOCKER" ps --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
        --format 'table {{.Names}}\t{{.Status}}'
}

smoke() {
    docker_client
    compose_cmd
    local fails=0 passes=0 body code out
    check() { # description expected-code url [curl args...]
        local what=$1 want=$2 url=$3; shift 3
        code=$(curl -sS -o "$STATE/smoke.body" -w '%{http_code}' "$@" "$url" || echo 000)
        body=$(head -c 300 "$STATE/smoke.body" 2>/dev/null | tr -d '\r')
        if [[ "$code" =~ ^($want)$ ]]; then
            passes=$((passes + 1)); echo "ok - $what ($code)"
        else
            echo "not ok - $what: HTTP $code, want $want: $body"
            fails=$((fails + 1))
        fi
    }
    check "storage /health/ready through the LB" 200 "$URL/health/ready"
    check "notifications /health/ready through the LB" 200 "$URL/.notifications/health/ready"
    check "provision /health/ready through the LB" 200 "$URL/.provision/health/ready"
    check "anonymous POST to the provisioning endpoint: 401" 401 "$URL/.provision/" -X POST
    check "audit /health/ready through the LB" 200 "$URL/.audit/health/ready"
    check "anonymous GET of the audit events: 401" 401 "$URL/.audit/events"
    check "origin /.well-known/solid" 200 "$URL/.well-known/solid"
    # Each storage replica answers (HAProxy's health checks say so; ask each one directly).
    for s in storage-1 storage-2 notifications provision audit; do
        if compose exec -T "$s" /usr/local/bin/podplane healthcheck >/dev/null 2>&1; then
            passes=$((passes + 1)); echo "ok - $s: podplane healthcheck in the container"
        else
            echo "not ok - $s: podplane healthcheck in the container"; fails=$((fails + 1))
        fi
    done
    local pod
    pod="smoke$(date +%s)"
    check "anonymous GET of a missing pod: 401/404 with a problem body" '401|404' "$URL/$pod/"
    if grep -q '"status"' "$STATE/smoke.body"; then
        passes=$((passes + 1)); echo "ok - problem body: $body"
    else
        echo "not ok - no RFC 9457 problem body: $body"; fails=$((fails + 1))
    fi
    # Administration in the stack: a pod through `podplane pod create` against the stack's
    # storage database, in a one-off container of the migrate service.
    if out=$(compose run --rm -T migrate pod create "$pod" \
        --owner "https://$pod.example/profile/card#me" 2>&1); then
        passes=$((passes + 1)); echo "ok - podplane pod create: $(echo "$out" | tail -n1)"
    else
        echo "not ok - podplane pod create: $out"; fails=$((fails + 1))
    fi
    check "anonymous GET of the new pod: 401" 401 "$URL/$pod/"
    # The services created their topic in the broker (podplane relies on no topic created on demand).
    if compose exec -T kafka /nisshi topic list --broker tcp://127.0.0.1:9092 2>/dev/null \
        | grep -q podplane.resource.v1; then
        passes=$((passes + 1)); echo "ok - topic podplane.resource.v1 exists in the broker"
    else
        echo "not ok - topic podplane.resource.v1 missing in the broker"; fails=$((fails + 1))
    fi
    check "the pod's storage description" '200|401' "$URL/$pod/.well-known/solid"
    echo "smoke: $passes passed, $fails failed"
    [ "$fails" = 0 ] || die "smoke: $fails check(s) failed"
}

cmd="${1:-status}"; shift || true
case "$cmd" in
    up) up ;;
    down) down ;;
    status) status ;;
    smoke) smoke ;;
    # Any compose command against the stack, with the compose program and files `up` used
    # (the stack tests kill, stop and start services through this).
    compose) docker_client; compose_cmd; compose "$@" ;;
    config) install_tools; compose_cmd; compose config -q && log "compose.yaml is valid (${COMPOSE[*]})" ;;
    *) die "usage: $0 up | smoke | status | down | config | compose ARGS..." ;;
esac
