#!/usr/bin/env bash
# Entrypoint of the CI PostgreSQL stand-in: the upstream postgres image's behaviour, as far
# as compose.yaml needs it (see the Dockerfile beside this file).
set -Eeuo pipefail

if [ "${1:-}" != postgres ]; then exec "$@"; fi

# As root: fix ownership of the (possibly fresh) volume, then run as postgres.
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
        echo "postgres: POSTGRES_PASSWORD is required (or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        --auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" -E UTF8 --locale=C.UTF-8 \
        -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"

    # A private server on the Unix socket only, for the init scripts.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" \
        -w start >/dev/null
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc -h /var/run/postgresql --username "$POSTGRES_USER")
    if [ "$POSTGRES_DB" != postgres ]; then
        "${psql[@]}" --dbname postgres -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            # The image's init scripts are sourced, as upstream does.
            *.sh) echo "postgres: running $f"
                # shellcheck disable=SC1090
                . "$f" ;;
            *.sql) echo "postgres: running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
            *.sql.gz) echo "postgres: running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
            *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "postgres: init process complete; ready for start up"
fi

exec postgres -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "${@:2}"
