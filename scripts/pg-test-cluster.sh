#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for the tests (the CTest fixture in tests/CMakeLists.txt).
#
#   bash scripts/pg-test-cluster.sh start DIR     makes a cluster in DIR, starts it, prints its URL
#   bash scripts/pg-test-cluster.sh restart DIR   restarts it (same port, same data)
#   bash scripts/pg-test-cluster.sh stop DIR      stops it and removes DIR
#
# start installs Debian's postgresql (15) and postgresql-plpython3-15 when they are missing
# (scripts/install-deps.sh: apt-get as root, sudo otherwise), runs initdb in DIR (as the postgres
# OS user when run as root, since initdb and postgres refuse root; DIR then belongs to postgres),
# starts the server with pg_ctl on 127.0.0.1 on a free port, its Unix socket in DIR and fsync off
# (test data only), creates a role with a random password that may create databases (tests make
# a fresh one per case) and a database it owns, and prints
# postgresql://USER:PASSWORD@127.0.0.1:PORT/DB on stdout (also written to DIR/url). A superuser
# role for what only a superuser may do (plpython3u: sql/postgresql/install.sql) is written to
# DIR/admin_url the same way. Over TCP the password is checked (scram-sha-256); over the socket
# the superuser `postgres` needs none. A cluster left in DIR by an earlier run is stopped and
# replaced; on failure nothing is left behind and the server's log goes to stderr.
#
# When the postgres user cannot reach DIR (a clone under /root) or DIR is too long for a socket
# path, the cluster itself lives in a temporary directory named in DIR/home.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
PG_LIB=/usr/lib/postgresql/15/lib
PG_USER=switchboard_test   # role and database the URL names
PG_ADMIN=switchboard_admin # superuser role of DIR/admin_url
export LC_ALL=C.UTF-8    # built into Debian 12's glibc: no locale package needed

usage() {
    sed -n '2,21s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

say() { echo "pg-test-cluster: $*" >&2; }

# Runs a PostgreSQL program as the user that owns the cluster, from / (the caller's working
# directory may be unreadable for postgres).
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# Where the cluster of DIR lives: the directory named in DIR/home, DIR itself by default.
cluster_home() {
    local dir=$1
    if [[ -f "$dir/home" ]]; then
        cat "$dir/home"
    else
        echo "$dir"
    fi
}

ensure_postgresql() {
    if [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" && -x "$PG_BIN/psql" \
        && -f "$PG_LIB/plpython3.so" ]]; then
        return
    fi
    say "PostgreSQL 15 or its PL/Python is not installed; installing them"
    SWITCHBOARD_EXTRA_PACKAGES="postgresql postgresql-plpython3-15 ${SWITCHBOARD_EXTRA_PACKAGES:-}" \
        bash "$root/scripts/install-deps.sh" >&2
    if [[ ! -x "$PG_BIN/initdb" ]]; then
        say "$PG_BIN/initdb is still missing after installing postgresql"
        exit 1
    fi
}

# A TCP port on 127.0.0.1 that nothing listens on (pg_ctl start is retried should another
# process take it first).
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    say "no free TCP port found"
    return 1
}

# Stops the server of DIR (if one runs) and removes DIR and the cluster's home. Quiet when
# there is nothing to do.
stop_cluster() {
    local dir=$1
    [[ -e "$dir" ]] || return 0
    local home
    home=$(cluster_home "$dir")
    if [[ -n "$(ls -A "$dir")" && ! -f "$dir/home" ]]; then
        say "$dir is not a cluster made by this script; not touching it"
        return 1
    fi
    if [[ -f "$home/data/postmaster.pid" ]]; then
        if ! as_owner "$PG_BIN/pg_ctl" -D "$home/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
            say "fast shutdown failed; stopping $home/data immediately"
            as_owner "$PG_BIN/pg_ctl" -D "$home/data" -m immediate -w -t 10 stop >/dev/null 2>&1 \
                || true
        fi
        # Whatever still runs (pg_ctl could not stop it) must not outlive its files.
        local pid
        pid=$(head -n 1 "$home/data/postmaster.pid" 2>/dev/null || true)
        if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    if [[ "$home" != "$dir" ]]; then
        rm -rf -- "$home"
    fi
    rm -rf -- "$dir"
}

start_cluster() {
    local dir=$1

    # An earlier run's cluster (ctest interrupted before its cleanup) is replaced.
    if [[ -e "$dir" ]]; then
        say "replacing the cluster left in $dir"
        stop_cluster "$dir"
    fi
    ensure_postgresql

    # From here on a failure removes what was made.
    local home=$dir started=0
    failing_dir=$dir
    trap start_failed EXIT

    mkdir -p "$dir"
    chmod 700 "$dir"
    if [[ "$(id -u)" -eq 0 ]]; then
        if ! id postgres >/dev/null 2>&1; then
            say "there is no postgres OS user (is the postgresql package installed?)"
            exit 1
        fi
        chown postgres:postgres "$dir"
    fi
    # The socket path ($home/.s.PGSQL.PORT) must fit in 107 bytes.
    if [[ ${#dir} -gt 80 ]] || { [[ "$(id -u)" -eq 0 ]] && ! as_owner test -w "$dir"; }; then
        home=$(mktemp -d "${TMPDIR:-/tmp}/sb-pg.XXXXXX")
        [[ "$(id -u)" -ne 0 ]] || chown postgres:postgres "$home"
    fi
    echo "$home" >"$dir/home"

    local password admin_password
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    admin_password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

    if ! as_owner "$PG_BIN/initdb" -D "$home/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-instructions \
        >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        say "initdb failed"
        exit 1
    fi
    cat >>"$home/data/postgresql.conf" <<EOF

# pg-test-cluster.sh: a throw-away server for the tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$home'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    # A port can be taken between the check and the server's bind: then try another.
    local port attempt
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        echo "port = $port" >>"$home/data/postgresql.conf" # the last setting wins
        if as_owner "$PG_BIN/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 start \
            >/dev/null; then
            started=1
            break
        fi
        if ! grep -q 'could not bind\|Address already in use' "$home/server.log" 2>/dev/null; then
            break
        fi
        say "port $port was taken (attempt $attempt); trying another"
    done
    if [[ $started -ne 1 ]]; then
        say "the server did not start"
        exit 1
    fi

    as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$home" -p "$port" -U postgres \
        -d postgres \
        -c "CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$password'" \
        -c "CREATE ROLE $PG_ADMIN LOGIN SUPERUSER PASSWORD '$admin_password'" \
        -c "CREATE DATABASE $PG_USER OWNER $PG_USER" >&2
    # PL/Python must be there for sql/postgresql/install.sql (a superuser creates it per
    # database): say so now rather than in the middle of a test.
    if ! as_owner "$PG_BIN/psql" -X -q -t -A -h "$home" -p "$port" -U postgres -d postgres \
        -c "SELECT name FROM pg_available_extensions WHERE name = 'plpython3u'" \
        | grep -q plpython3u; then
        say "warning: the plpython3u extension is not available (postgresql-plpython3-15)"
    fi

    local url="postgresql://$PG_USER:$password@127.0.0.1:$port/$PG_USER"
    echo "$url" >"$dir/url"
    echo "postgresql://$PG_ADMIN:$admin_password@127.0.0.1:$port/$PG_USER" >"$dir/admin_url"
    trap - EXIT
    say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') in $home/data on" \
        "127.0.0.1:$port"
    echo "$url"
}

# EXIT trap of start: the server's log for the reader, then nothing left behind.
start_failed() {
    local rc=$?
    local dir=$failing_dir home
    home=$(cluster_home "$dir")
    if [[ -s "$home/server.log" ]]; then
        say "server log ($home/server.log):"
        tail -n 40 "$home/server.log" >&2
    fi
    if stop_cluster "$dir"; then
        say "start failed; removed $dir"
    else
        say "start failed"
    fi
    exit $((rc == 0 ? 1 : rc))
}

restart_cluster() {
    local dir=$1 home
    home=$(cluster_home "$dir")
    if [[ ! -f "$dir/url" || ! -f "$home/data/PG_VERSION" ]]; then
        say "no cluster in $dir (run start first)"
        exit 1
    fi
    if ! as_owner "$PG_BIN/pg_ctl" -D "$home/data" -l "$home/server.log" -m fast -w -t 60 \
        restart >/dev/null; then
        tail -n 40 "$home/server.log" >&2
        say "restart failed"
        exit 1
    fi
    cat "$dir/url"
}

[[ $# -eq 2 ]] || usage
command=$1
[[ -n "$2" ]] || usage
dir=$(realpath -m -- "$2")
if [[ "$dir" == / ]]; then
    say "refusing to use / as the cluster directory"
    exit 2
fi

case "$command" in
    start) start_cluster "$dir" ;;
    restart) restart_cluster "$dir" ;;
    stop) stop_cluster "$dir" ;;
    *) usage ;;
esac
