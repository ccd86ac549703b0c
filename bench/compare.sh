#!/usr/bin/env bash
# Two builds of switchboardd side by side: the Switchboard scenarios of bench/run.sh
# (fan-out CPU per delivery, REST emits with and without idle clients, memory per idle
# connection), run alternately A, B, A, B, ... so that the machine's drift hits both alike.
#
#   bash bench/compare.sh OLD_DAEMON NEW_DAEMON [--rounds N] [--clients N] [--duration S]
#
# Each daemon is started afresh per run pinned to CPU 0, sb-loadgen (build/release) to
# CPU 1. Prints one line per run and, at the end, the median of each figure per daemon.
# For a refactor that must not change speed: the medians should differ by less than the
# spread of the runs of one daemon.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
a=${1:?usage: compare.sh OLD_DAEMON NEW_DAEMON [--rounds N] [--clients N] [--duration S]}
b=${2:?usage: compare.sh OLD_DAEMON NEW_DAEMON [--rounds N] [--clients N] [--duration S]}
shift 2
rounds=3
clients=10000
duration=10
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds=${2:?}; shift 2 ;;
        --clients) clients=${2:?}; shift 2 ;;
        --duration) duration=${2:?}; shift 2 ;;
        *) echo "compare.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done
loadgen=$root/build/release/bench/loadgen/sb-loadgen
[[ -x $loadgen ]] || { echo "compare.sh: build sb-loadgen first (scripts/build.sh release sb-loadgen)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d)
results=$work/results.jsonl
server_pid=""
cleanup() {
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
api_key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
jwt_secret=$(head -c 48 /dev/urandom | base64 | tr -d '/+=')

run() { # label daemon scenario [loadgen options...]
    local label=$1 daemon=$2 scenario=$3
    shift 3
    local port=$((20000 + RANDOM % 20000))
    rm -rf "$work/data"
    start_daemon "$daemon" "$port" "$work" "$api_key" "$jwt_secret" || true
    local line
    line=$(taskset -c 1 "$loadgen" --port "$port" --api-key "$api_key" --pid "$server_pid" \
        --label "$scenario" "$@" 2>/dev/null) || true
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    sleep 1
    [[ -n $line ]] || { echo "$label $scenario: no result" >&2; return; }
    printf '{"daemon":"%s",%s\n' "$label" "${line#\{}" >>"$results"
    echo "$label $scenario: ${line:0:200}" >&2
}

for round in $(seq 1 "$rounds"); do
    for side in A B; do
        daemon=$a
        [[ $side == B ]] && daemon=$b
        run "$side" "$daemon" fanout --clients "$clients" --duration "$duration" --window 8
        run "$side" "$daemon" rest --clients 0 --emitters 8 --duration "$duration"
        run "$side" "$daemon" rest_idle --clients "$clients" --idle --emitters 8 \
            --duration "$duration"
    done
done

/usr/bin/python3 - "$results" "$a" "$b" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def fig(r, path):
    v = r
    for k in path.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    return v
figures = [
    ("fanout", "CPU us / delivery", "server.cpu_us_per_delivery"),
    ("fanout", "deliveries/s", "deliveries_per_s"),
    ("fanout", "lost", "lost"),
    ("rest", "emits/s", "emits_per_s"),
    ("rest", "CPU us / emit", "server.cpu_us_per_emit"),
    ("rest_idle", "emits/s with idle clients", "emits_per_s"),
    ("rest_idle", "bytes RSS per idle connection", "server.rss_per_conn_bytes"),
]
print(f"A = {sys.argv[2]}\nB = {sys.argv[3]}")
print(f"{'figure':34} {'A median':>12} {'B median':>12}  runs A | runs B")
for scenario, name, path in figures:
    cols = {}
    for side in "AB":
        vals = [fig(r, path) for r in rows if r["daemon"] == side and r.get("label") == scenario]
        cols[side] = [v for v in vals if v is not None]
    if not cols["A"] and not cols["B"]:
        continue
    med = lambda v: f"{statistics.median(v):.2f}" if v else "-"
    runs = lambda v: ", ".join(f"{x:.2f}" for x in v)
    print(f"{name:34} {med(cols['A']):>12} {med(cols['B']):>12}  {runs(cols['A'])} | {runs(cols['B'])}")
EOF
