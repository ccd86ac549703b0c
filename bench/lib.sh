# Shared by the bench scripts (source it): starting a daemon for one run.

# start_daemon DAEMON PORT WORKDIR API_KEY JWT_SECRET [flags...]
# Starts DAEMON pinned to CPU 0 with a fresh data dir in WORKDIR (stderr to WORKDIR/server.log),
# sets server_pid and waits until /api/health answers (at most 10 s).
start_daemon() {
    local daemon=$1 port=$2 workdir=$3 key=$4 secret=$5
    shift 5
    taskset -c 0 "$daemon" --listen "127.0.0.1:$port" --data-dir "$workdir/data" \
        --api-key "$key" --jwt-secret "$secret" "$@" 2>"$workdir/server.log" &
    server_pid=$!
    local _
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$port/api/health" && return 0
        sleep 0.1
    done
    return 1
}
