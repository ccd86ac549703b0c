#!/usr/bin/env bash
# Repro (found by bench/soak.sh, postgres phase): after PostgreSQL restarts, the message log
# writer of switchboardd never reconnects. Emits are still answered 200 (their records are in
# the journal), but every batch fails ("QPSQLDriver::beginTransaction: Database not open"),
# so they are missing from GET /api/log until the daemon itself restarts; each GET /api/log
# also waits its full 2 s for a commit that never comes.
#
#   bash bench/soak/repro/pg_restart_log.sh [path/to/switchboardd]
#
# Prints REPRODUCED (exit 1) or FIXED (exit 0).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
daemon=${1:-$root/build/release/app/daemon/switchboardd}
work=$(mktemp -d)
port=18994
pid=""
cleanup() {
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    bash "$root/scripts/pg-test-cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
url=$(bash "$root/scripts/pg-test-cluster.sh" start "$work/pg" 2>/dev/null)
QT_NO_GLIB=1 "$daemon" --listen 127.0.0.1:$port --data-dir "$work/data" --api-key k \
    --jwt-secret s --log-database "$url" 2>"$work/daemon.log" &
pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:$port/api/health && break; sleep 0.1; done
emit() {
    curl -s -X POST http://127.0.0.1:$port/api/emit/room -H 'X-API-Key: k' \
        -H 'Content-Type: application/json' -d "{\"room\":\"r\",\"event\":\"e\",\"data\":$1}"
    echo
}
emit 1
bash "$root/scripts/pg-test-cluster.sh" restart "$work/pg" >/dev/null
echo "PostgreSQL restarted"
sleep 2
for i in 2 3 4; do emit $i; done
sleep 2
start=$(date +%s.%N)
count=$(curl -s "http://127.0.0.1:$port/api/log?since_id=0" -H 'X-API-Key: k' | grep -o '"id":' | wc -l)
echo "GET /api/log lists $count of 4 answered emits ($(echo "$(date +%s.%N) - $start" | bc) s)"
echo "daemon log:"
grep -v 'open file limit' "$work/daemon.log" | sort | uniq -c | sort -rn | head -8 | cut -c1-200
if [[ $count -eq 4 ]]; then echo FIXED; exit 0; fi
echo REPRODUCED
exit 1
