#!/usr/bin/env bash
# What the cluster costs (docs/SCALING.md, "Measured"): one switchboardd with and without
# Redis side by side, then 1, 2 and 3 nodes on one Redis. Prints one table per scenario (also
# written to docs/benchmarks-cluster.md, which bench/report.py keeps in docs/BENCHMARKS.md)
# and writes every run's JSON line to bench/results/cluster-<stamp>.jsonl.
#
#   bash bench/cluster.sh [--clients N] [--duration S] [--rate R]
#
#   --clients N   WebSocket clients of the fan-out and the multi-node runs (default 5000)
#   --duration S  seconds measured per run (default 10)
#   --rate R      emits per second of the multi-node runs, all nodes together (default 0: as
#                 fast as delivered, each load generator with 8 emits in flight)
#
# Scenarios:
#   rest     REST emits/s with no clients, 16 emitters: single node, then the same node with
#            --redis. Server CPU per emit, and Redis's own CPU per emit.
#   fanout   as fast as delivered to N clients in one room: server CPU per delivery, single
#            node and with --redis (the cost of the bus).
#   nodes    1, 2 and 3 nodes, N clients spread over them (a room per node), each node's
#            emits sent to the NEXT node, so that every event crosses the bus: deliveries/s
#            and p99 latency of each load generator.
#
# Pinning: this machine has few cores. The daemons run on CPU 0, redis-server and the load
# generators on CPU 1 (Redis has a machine of its own in a real cluster); with several nodes
# on one core the figures show the cost of the cluster, not its capacity (docs/SCALING.md says
# how to read them).
# BENCH_SKIP_SETUP=1 skips the build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source bench/lib.sh
invocation="bash bench/cluster.sh${*:+ $*}"

clients=5000
duration=10
rate=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --clients) clients=${2:?}; shift ;;
        --duration) duration=${2:?}; shift ;;
        --rate) rate=${2:?}; shift ;;
        -h | --help) sed -n '2,26s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "cluster.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [[ "${BENCH_SKIP_SETUP:-0}" != 1 ]]; then
    SWITCHBOARD_EXTRA_PACKAGES="redis-server util-linux procps ${SWITCHBOARD_EXTRA_PACKAGES:-}" \
        bash scripts/install-deps.sh >&2
    bash scripts/build.sh release switchboardd sb_loadgen >&2
fi
daemon=$root/build/release/app/daemon/switchboardd
loadgen=$root/build/release/bench/loadgen/sb-loadgen
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/sb-cluster-bench.XXXXXX)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p bench/results
results=bench/results/cluster-$stamp.jsonl
key=bench-key-$RANDOM$RANDOM
secret=bench-secret-$RANDOM$RANDOM$RANDOM
redis_port=$((20000 + RANDOM % 20000))
pids=()
redis_pid=""

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -n "$redis_pid" ]] && kill "$redis_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# CPU seconds (user + system) of a process so far.
cpu_of() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"
}

start_redis() {
    taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save "" \
        --appendonly yes --appendfsync everysec --dir "$work" --daemonize no \
        >"$work/redis.log" 2>&1 &
    redis_pid=$!
    for _ in $(seq 1 50); do
        redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "cluster.sh: redis-server did not start" >&2
    exit 1
}

stop_all() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
    if [[ -n "$redis_pid" ]]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
        redis_pid=""
    fi
    rm -rf "$work"/n* "$work"/*.aof "$work/appendonlydir"
}

# node INDEX PORT [flags...]: starts a daemon, appends its pid to pids.
node() {
    local index=$1 port=$2
    shift 2
    mkdir -p "$work/n$index"
    start_daemon "$daemon" "$port" "$work/n$index" "$key" "$secret" --log-level warning "$@" || {
        echo "cluster.sh: node $index did not start:" >&2
        cat "$work/n$index/server.log" >&2
        exit 1
    }
    pids+=("$server_pid")
}

run_loadgen() { # label, then loadgen args
    local label=$1
    shift
    taskset -c 1 "$loadgen" --api-key "$key" --label "$label" "$@" 2>>"$work/loadgen.log" |
        tee -a "$results"
}

# The single node (port 18601) and the node with Redis (18602) run side by side; the load
# generator alternates between them, `rounds` times each, and the median of each counts.
rounds=3

start_pair() {
    start_redis
    node 1 18601
    node 2 18602 --redis "redis://127.0.0.1:$redis_port" --node-name n2
}

scenario_rest() {
    printf '\n## REST emits, no clients, 16 emitters (median of %s alternating runs)\n\n' "$rounds"
    printf '| server | emits/s | server CPU per emit (us) | Redis CPU per emit (us) |\n|---|---|---|---|\n'
    start_pair
    : >"$work/rest.txt"
    for _ in $(seq 1 "$rounds"); do
        for mode in single redis; do
            local port=18601 pid=${pids[0]}
            [[ $mode == redis ]] && port=18602 pid=${pids[1]}
            local r0 line r1
            r0=$(cpu_of "$redis_pid")
            line=$(run_loadgen "rest-$mode" --port "$port" --clients 0 --emitters 16 \
                --duration "$duration" --pid "$pid")
            r1=$(cpu_of "$redis_pid")
            echo "$mode $r0 $r1 $line" >>"$work/rest.txt"
        done
    done
    /usr/bin/python3 - "$work/rest.txt" <<'EOF'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    mode, r0, r1, js = line.split(' ', 3)
    r = json.loads(js)
    emits = (r.get('emits_ok') or 0) + (r.get('warmup_emits') or 0) or 1
    redis = (float(r1) - float(r0)) / emits * 1e6
    rows.setdefault(mode, []).append((r['emits_per_s'], r['server']['cpu_us_per_emit'], redis))
for mode in ('single', 'redis'):
    runs = rows.get(mode, [])
    med = lambda k: statistics.median(x[k] for x in runs)
    print(f"| {mode} | {med(0):,.0f} | {med(1):.1f} | " + (f"{med(2):.1f}" if mode == 'redis' else '-') + " |")
EOF
    stop_all
}

scenario_fanout() {
    printf '\n## Fan-out to %s clients, as fast as delivered (median of %s alternating runs)\n\n' \
        "$clients" "$rounds"
    printf '| server | deliveries/s | server CPU per delivery (us) | p99 (ms) |\n|---|---|---|---|\n'
    start_pair
    : >"$work/fanout.txt"
    for _ in $(seq 1 "$rounds"); do
        for mode in single redis; do
            local port=18601 pid=${pids[0]}
            [[ $mode == redis ]] && port=18602 pid=${pids[1]}
            local line
            line=$(run_loadgen "fanout-$mode" --port "$port" --clients "$clients" \
                --room "fan-$mode" --duration "$duration" --pid "$pid")
            echo "$mode $line" >>"$work/fanout.txt"
        done
    done
    /usr/bin/python3 - "$work/fanout.txt" <<'EOF'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    mode, js = line.split(' ', 1)
    r = json.loads(js)
    rows.setdefault(mode, []).append((r['deliveries_per_s'], r['server']['cpu_us_per_delivery'],
                                      r['latency_us']['p99'] / 1000))
for mode in ('single', 'redis'):
    runs = rows.get(mode, [])
    med = lambda k: statistics.median(x[k] for x in runs)
    print(f"| {mode} | {med(0):,.0f} | {med(1):.2f} | {med(2):.1f} |")
EOF
    stop_all
}

scenario_nodes() {
    local pace="as fast as delivered"
    [[ $rate != 0 ]] && pace="$rate emits/s in all"
    printf '\n## 1, 2 and 3 nodes: %s clients spread over them, %s, each emit sent to the next node\n\n' \
        "$clients" "$pace"
    printf '| nodes | deliveries/s | p99 (ms), worst node | lost |\n|---|---|---|---|\n'
    for n in 1 2 3; do
        start_redis
        local i
        for i in $(seq 1 "$n"); do
            node "$i" $((18600 + i)) --redis "redis://127.0.0.1:$redis_port" --node-name "n$i"
        done
        local lines=() lg=()
        local per=$((clients / n))
        local per_rate=()
        [[ $rate != 0 ]] && per_rate=(--rate "$(/usr/bin/python3 -c "print($rate / $n)")")
        for i in $(seq 1 "$n"); do
            local next=$(((i % n) + 1))
            run_loadgen "nodes-$n-$i" --port $((18600 + i)) --emit-port $((18600 + next)) \
                --room "room$i" --clients "$per" "${per_rate[@]}" --duration "$duration" \
                >"$work/lg$i.json" &
            lg+=($!)
            lines+=("$work/lg$i.json")
        done
        wait "${lg[@]}" || true
        /usr/bin/python3 - "$n" "${lines[@]}" <<'EOF'
import json, sys
n, files = sys.argv[1], sys.argv[2:]
runs = [json.loads(open(f).read() or '{}') for f in files]
print(f"| {n} | {sum(r.get('deliveries_per_s', 0) for r in runs):,.0f} | "
      f"{max(r.get('latency_us', {}).get('p99', 0) for r in runs) / 1000:.1f} | "
      f"{sum(r.get('lost', 0) for r in runs)} |")
EOF
        stop_all
    done
}

{
    printf '# Cluster benchmark, %s\n\n%s, %s cores, redis-server %s, `%s`\n' "$stamp" \
        "$("$daemon" --version 2>/dev/null | head -1)" "$(nproc)" \
        "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" "$invocation"
    scenario_rest
    scenario_fanout
    scenario_nodes
    printf '\nEvery run: `%s`\n' "$results"
} | tee docs/benchmarks-cluster.md
