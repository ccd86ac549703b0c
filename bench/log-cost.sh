#!/usr/bin/env bash
# What the message log costs: REST emits per second with the log on (the default: SQLite in
# the data dir, journal + group commit) and off (--log-database off), with 8 keep-alive
# callers and with 1,000 emits in flight (1,000 callers, one request each).
#
#   bash bench/log-cost.sh [--rounds N] [--duration S] [--postgresql URL]
#
# The daemon runs on CPU 0, the load generator on CPU 1, as in run.sh. On and off alternate,
# N rounds each (default 3), and the medians are compared: the issue's limit is a cost of at
# most 20% at 1,000 in flight. --postgresql adds a third variant with the log in PostgreSQL.
# The JSON lines go to bench/results/log-cost-<time>.jsonl; the table to stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"
cd "$root"

rounds=3 duration=5 pg_url=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --postgresql) pg_url=$2; shift 2 ;;
        -h | --help) sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "log-cost.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done

log() { printf 'log-cost.sh: %s\n' "$*" >&2; }
if [[ "${BENCH_SKIP_SETUP:-}" != 1 ]]; then
    bash scripts/install-deps.sh >&2
    bash scripts/build.sh release switchboardd sb_loadgen >&2
fi
daemon="$root/build/release/app/daemon/switchboardd"
loadgen="$root/build/release/bench/loadgen/sb-loadgen"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d)
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p bench/results
results="bench/results/log-cost-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
api_key=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
port=18700
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

variants=(on off)
[[ -n "$pg_url" ]] && variants+=(postgresql)

one_run() { # variant emitters
    local variant=$1 emitters=$2
    port=$((port + 1))
    rm -rf "$work/data" && mkdir -p "$work/data"
    local flags=()
    case "$variant" in
        off) flags=(--log-database off) ;;
        postgresql) flags=(--log-database "$pg_url") ;;
    esac
    start_daemon "$daemon" "$port" "$work" "$api_key" "bench-secret" "${flags[@]}" || true
    local line
    line=$(taskset -c 1 "$loadgen" --protocol switchboard --port "$port" --api-key "$api_key" \
        --pid "$server_pid" --label "log_$variant" --clients 0 --emitters "$emitters" \
        --duration "$duration" 2>"$work/loadgen.err") || {
        log "$variant/$emitters: the load generator failed:"
        tail -3 "$work/loadgen.err" >&2
    }
    kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
    server_pid=""
    sleep 1
    [[ -n "$line" ]] || return 0
    printf '{"commit":"%s","log":"%s",%s\n' "$commit" "$variant" "${line#\{}" >>"$results"
}

for emitters in 8 1000; do
    for round in $(seq 1 "$rounds"); do
        for variant in "${variants[@]}"; do
            log "round $round: log $variant, $emitters callers"
            one_run "$variant" "$emitters"
        done
    done
done

/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    j = json.loads(line)
    runs.setdefault((j["emitters"], j["log"]), []).append(j["emits_per_s"])
print("| callers | log | emits/s (median) | runs | cost vs off |")
print("|---|---|---|---|---|")
for emitters in sorted({k[0] for k in runs}):
    off = statistics.median(runs.get((emitters, "off"), [0]))
    for variant in ("on", "postgresql", "off"):
        if (emitters, variant) not in runs:
            continue
        values = runs[(emitters, variant)]
        median = statistics.median(values)
        cost = "" if variant == "off" or not off else f"{(1 - median / off) * 100:.1f}%"
        shown = ", ".join(f"{v:,.0f}" for v in values)
        print(f"| {emitters} | {variant} | {median:,.0f} | {shown} | {cost} |")
print(f"\nraw results: {sys.argv[1]}")
PY
