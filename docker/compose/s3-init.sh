#!/usr/bin/env bash
# compose.yaml's `s3-init` one-shot: prepares the single Garage node through its admin API
# (v2): a cluster layout, the access key podplane and Nisshi use, and their buckets. Safe to
# run again: everything that exists is kept.
#
# Why bash and the admin API, not the `garage` CLI: the upstream Garage image is FROM scratch
# (one binary, no shell), its CLI needs the node id for `layout assign`, and a compose
# one-shot runs only one command. The admin API needs only HTTP, which bash's /dev/tcp speaks
# well enough (HTTP/1.0: the server closes after the response), so no curl is needed.
# compose.yaml runs it in the PostgreSQL image, the one image of the stack with bash.
set -euo pipefail

HOST="${GARAGE_ADMIN_HOST:-s3}"
PORT="${GARAGE_ADMIN_PORT:-3903}"
TOKEN="${GARAGE_ADMIN_TOKEN:?GARAGE_ADMIN_TOKEN is required}"
KEY="${AWS_ACCESS_KEY_ID:?AWS_ACCESS_KEY_ID is required}"
SECRET="${AWS_SECRET_ACCESS_KEY:?AWS_SECRET_ACCESS_KEY is required}"
BUCKETS="${S3_BUCKETS:-podplane}"

T0=$(date +%s%N)
log() { echo "s3-init: [$(( ($(date +%s%N) - T0) / 1000000 )) ms] $*" >&2; }

# api METHOD PATH [JSON] -> sets STATUS and BODY.
api() {
    local method=$1 path=$2 body=${3:-} resp
    resp=$(
        exec 2>/dev/null
        exec 3<>"/dev/tcp/$HOST/$PORT" || exit 1
        printf '%s %s HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
            "$method" "$path" "$HOST:$PORT" "$TOKEN" "${#body}" "$body" >&3
        cat <&3
    ) || { STATUS=000; BODY=""; return 0; }
    STATUS=$(head -n1 <<<"$resp" | cut -d' ' -f2)
    BODY=${resp#*$'\r\n\r\n'}
}
first_id() { grep -o '"id": *"[0-9a-f]*"' <<<"$BODY" | head -n1 | sed 's/.*"\([0-9a-f]*\)"$/\1/'; }
need() { # expected-status what
    [ "$STATUS" = "$1" ] || { log "$2 failed: HTTP $STATUS $BODY"; exit 1; }
}

for _ in $(seq 1 300); do
    api GET /v2/GetClusterStatus
    [ "$STATUS" = 200 ] && break
    sleep 0.2
done
need 200 "reaching the Garage admin API at $HOST:$PORT"
log "admin API answers"
node=$(first_id)
layout=$(grep -o '"layoutVersion": *[0-9]*' <<<"$BODY" | grep -o '[0-9]*$')

if [ "${layout:-0}" = 0 ]; then
    log "assigning node ${node:0:16}… a role and applying layout version 1"
    api POST /v2/UpdateClusterLayout \
        "{\"roles\":[{\"id\":\"$node\",\"zone\":\"dc1\",\"capacity\":10000000000,\"tags\":[]}]}"
    need 200 "UpdateClusterLayout"
    api POST /v2/ApplyClusterLayout '{"version":1}'
    need 200 "ApplyClusterLayout"
fi

# Create first, look up only when that fails (it exists): each admin call costs up to a
# second with a debug build of Garage (the CI stand-in).
api POST /v2/ImportKey \
    "{\"accessKeyId\":\"$KEY\",\"secretAccessKey\":\"$SECRET\",\"name\":\"podplane\"}"
if [ "$STATUS" = 200 ]; then
    log "imported access key $KEY"
else
    api GET "/v2/GetKeyInfo?id=$KEY"
    need 200 "ImportKey / GetKeyInfo $KEY"
fi

for bucket in $BUCKETS; do
    api POST /v2/CreateBucket "{\"globalAlias\":\"$bucket\"}"
    if [ "$STATUS" = 200 ]; then
        log "created bucket $bucket"
    else
        api GET "/v2/GetBucketInfo?globalAlias=$bucket"
        need 200 "CreateBucket / GetBucketInfo $bucket"
    fi
    id=$(first_id)
    api POST /v2/AllowBucketKey \
        "{\"bucketId\":\"$id\",\"accessKeyId\":\"$KEY\",\"permissions\":{\"read\":true,\"write\":true,\"owner\":true}}"
    need 200 "AllowBucketKey $bucket"
done

# Healthy = the layout is live and every partition has its copy: S3 requests will succeed.
for _ in $(seq 1 150); do
    api GET /health
    [ "$STATUS" = 200 ] && { log "ready: buckets $BUCKETS, key $KEY"; exit 0; }
    sleep 0.2
done
need 200 "waiting for Garage to report healthy"
