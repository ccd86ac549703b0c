#!/usr/bin/env bash
# Handler calls per second and the latency a handler adds (docs/endpoints.md, "Performance"):
# a script handler (QJSEngine) and an HTTP handler (Node's http module on loopback), each an
# echo, against one switchboardd. The client is bench/endpoints/bench.py (python3-websockets).
#
#   bash bench/endpoints.sh [--sessions N] [--window W] [--duration S]
#
# Prints one JSON line per figure and keeps them in bench/results/endpoints-<stamp>.jsonl.
# Pinning: the daemon on CPU 0, the client and the HTTP handler on CPU 1.
# BENCH_SKIP_SETUP=1 skips the build.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [[ "${BENCH_SKIP_SETUP:-0}" != 1 ]]; then
    bash scripts/build.sh release switchboardd >/dev/null
fi
daemon=build/release/app/daemon/switchboardd
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
mkdir -p "$work/data/endpoints"
cp bench/endpoints/echo-handler.js "$work/data/endpoints/echo-handler.js"
taskset -c 1 node bench/endpoints/http-handler.mjs 0 >"$work/http.log" &
pids+=($!)
for _ in $(seq 50); do grep -q listening "$work/http.log" && break; sleep 0.1; done
http_port=$(awk '/listening/ {print $2}' "$work/http.log")
echo '{"endpoint": "bench-script", "handler": "echo-handler"}' >"$work/data/endpoints/script.websocket"
echo "{\"endpoint\": \"bench-http\", \"handler\": \"http://127.0.0.1:$http_port/h\"}" \
    >"$work/data/endpoints/http.websocket"
taskset -c 0 "$daemon" --listen "127.0.0.1:$port" --data-dir "$work/data" --api-key bench \
    --jwt-secret bench-secret --log-level warning 2>"$work/daemon.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done

mkdir -p bench/results
out="bench/results/endpoints-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
taskset -c 1 /usr/bin/python3 bench/endpoints/bench.py --port "$port" --key bench "$@" | tee "$out"
echo "figures kept in $out"
