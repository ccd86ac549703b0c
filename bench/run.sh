#!/usr/bin/env bash
# Switchboard side by side with the Node.js servers it replaces, on this machine, in one run.
#
#   bash bench/run.sh [--quick] [--clients N] [--out FILE]
#
# Installs what it needs (Debian packages, the peers' npm packages), builds the release
# `switchboardd` and the load generator `sb-loadgen`, then for every scenario starts each
# server afresh pinned to CPU 0 and the load generator pinned to CPU 1:
#
#   switchboard  build/release/app/daemon/switchboardd (its defaults; stderr to a file)
#   bridge       bench/peers/bridge: the APEX RTM seed's server (express 4 + ws 8)
#   socketio     bench/peers/socketio: Socket.IO 4 with rooms
#
# Scenarios: fan-out as fast as delivered (CPU per delivery), a fixed 20,000 deliveries/s
# (latency; three runs per server, the median counts), REST emits with no clients and with
# idle clients connected, and a sweep over connection counts for the plot. Every run's JSON
# line goes to bench/results/<stamp>.jsonl; bench/report.py then writes the tables to
# docs/BENCHMARKS.md and the plot to docs/benchmarks.png.
#
#   --quick      smaller and shorter runs (2,000 clients; to try the kit, not for figures);
#                its report goes to bench/results/quick/BENCHMARKS.md unless --out is given
#   --clients N  clients for the fan-out, latency, idle and memory scenarios (default 10000)
#   --out FILE   the report (default docs/BENCHMARKS.md); the plot is written beside it
#
# BENCH_SKIP_SETUP=1 skips the installs and the build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
invocation="bash bench/run.sh${*:+ $*}"

clients=10000
duration=10
latency_duration=20
sweep=(1000 2500 5000 10000)
out=""
quick=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick)
            clients=2000 duration=4 latency_duration=6 sweep=(500 1000 2000) quick=1
            ;;
        --clients)
            clients=${2:?--clients needs a number}
            shift
            ;;
        --out)
            out=${2:?--out needs a file}
            shift
            ;;
        -h | --help)
            sed -n '2,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *)
            echo "run.sh: unknown option '$1' (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done

if [[ -z "$out" ]]; then
    if [[ $quick == 1 ]]; then
        out="$root/bench/results/quick/BENCHMARKS.md"
    else
        out="$root/docs/BENCHMARKS.md"
    fi
fi
mkdir -p "$(dirname "$out")"

log() { printf 'run.sh: %s\n' "$*" >&2; }

# --- setup -------------------------------------------------------------------------------
if [[ "${BENCH_SKIP_SETUP:-0}" != 1 ]]; then
    extra="gnuplot-nox util-linux procps"
    # Node.js from Debian only where none is installed (a NodeSource nodejs brings its own
    # npm and conflicts with Debian's npm package).
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        extra+=" nodejs npm"
    fi
    SWITCHBOARD_EXTRA_PACKAGES="$extra ${SWITCHBOARD_EXTRA_PACKAGES:-}" bash scripts/install-deps.sh
    bash scripts/build.sh release switchboardd sb_loadgen
    for peer in bridge socketio; do
        log "installing the $peer peer's npm packages"
        (cd "bench/peers/$peer" && npm ci --no-audit --no-fund --loglevel=error)
    done
fi

daemon="$root/build/release/app/daemon/switchboardd"
loadgen="$root/build/release/bench/loadgen/sb-loadgen"
for f in "$daemon" "$loadgen"; do
    [[ -x "$f" ]] || { log "missing $f (run without BENCH_SKIP_SETUP)"; exit 1; }
done

# Every connection is a file descriptor in the server and one in the load generator.
ulimit -n "$(ulimit -Hn)"
need=$((clients + 200))
if [[ $(ulimit -n) -lt $need ]]; then
    log "the open-file limit $(ulimit -n) is below $need; raise it (ulimit -Hn) or use --clients"
    exit 1
fi
cpus=$(nproc)
if [[ $cpus -lt 2 ]]; then
    log "needs two CPUs (server on CPU 0, load generator on CPU 1); this machine has $cpus"
    exit 1
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    commit+=" with local changes"
fi
mkdir -p bench/results
results="$root/bench/results/$stamp.jsonl"
work=$(mktemp -d /tmp/switchboard-bench.XXXXXX)
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

port=18500
api_key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
jwt_secret=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')

start_server() { # name
    local name=$1
    port=$((port + 1))
    rm -rf "$work/data" && mkdir -p "$work/data"
    case "$name" in
        switchboard)
            # QT_NO_GLIB is set by the daemon itself; nothing is tuned here beyond the port.
            taskset -c 0 "$daemon" --listen "127.0.0.1:$port" --data-dir "$work/data" \
                --api-key "$api_key" --jwt-secret "$jwt_secret" 2>"$work/server.log" &
            ;;
        bridge | socketio)
            # The seed runs `nohup node server.js > rtm.log`: its console.log goes to a file.
            PORT=$port taskset -c 0 node "bench/peers/$name/server.js" >"$work/server.log" 2>&1 &
            ;;
    esac
    server_pid=$!
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
            return 0
        fi
        sleep 0.1
    done
    log "$name did not start; its log:"
    cat "$work/server.log" >&2
    exit 1
}

stop_server() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    sleep 1 # let the kernel finish the closed sockets before the next server starts
}

run() { # scenario name [loadgen options...]
    local scenario=$1 name=$2
    shift 2
    start_server "$name"
    local cmd=(taskset -c 1 "$loadgen" --protocol "$name" --port "$port" --api-key "$api_key"
        --pid "$server_pid" --label "$scenario" "$@")
    log "$scenario / $name: ${cmd[*]:3}"
    local line
    if ! line=$("${cmd[@]}" 2>"$work/loadgen.err"); then
        log "$scenario / $name: the load generator reported a failure:"
        tail -5 "$work/loadgen.err" >&2
    fi
    stop_server
    if [[ -z "$line" ]]; then
        log "$scenario / $name: no result"
        return
    fi
    # Keep the exact command with its result (the port and PID vary from run to run).
    local shown="taskset -c 1 sb-loadgen --protocol $name --label $scenario $*"
    printf '{"command":"%s",%s\n' "$shown" "${line#\{}" >>"$results"
    printf '%s\n' "$line" | cut -c1-240 >&2
}

servers=(switchboard bridge socketio)

log "results in $results"
for s in "${servers[@]}"; do
    run fanout "$s" --clients "$clients" --duration "$duration" --window 8
done
# The p99 of a one-CPU fan-out moves with the machine's other work from run to run: three
# runs per server, interleaved, and the report takes each server's median run.
for round in 1 2 3; do
    for s in "${servers[@]}"; do
        run latency "$s" --clients "$clients" --duration "$latency_duration" \
            --rate $((20000 / clients > 0 ? 20000 / clients : 1))
    done
done
for s in "${servers[@]}"; do
    run rest "$s" --clients 0 --emitters 8 --duration "$duration"
done
for s in switchboard socketio; do
    run rest_idle "$s" --clients "$clients" --idle --emitters 8 --duration "$duration"
done
for n in "${sweep[@]}"; do
    for s in "${servers[@]}"; do
        run sweep "$s" --clients "$n" --duration 5 --window 8
    done
done

/usr/bin/python3 bench/report.py --results "$results" --out "$out" \
    --plot "$(dirname "$out")/benchmarks.png" --command "$invocation" \
    --daemon "$daemon" --commit "$commit"
log "report written to $out"
