#!/usr/bin/env bash
# Repro (found by bench/soak.sh, diskfull phase; needs root for the tmpfs): while the data
# dir's disk is full, switchboardd still answers emits 200 (their records fit in the journal,
# allocated at start), but the SQLite batch commits fail ("database or disk is full") and the
# failed batches are dropped. Once the disk has room again, later records commit, so a
# restart's journal replay (ids above the log's highest only) cannot bring the dropped ones
# back either: answered emits are lost from the log for good.
#
#   bash bench/soak/repro/disk_full_log.sh [path/to/switchboardd]
#
# Prints REPRODUCED (exit 1) or FIXED (exit 0).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
daemon=${1:-$root/build/release/app/daemon/switchboardd}
work=$(mktemp -d)
mnt=$work/tmpfs
port=18995
pid=""
cleanup() {
    if [[ -n "$pid" ]]; then
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$mnt"
mount -t tmpfs -o size=64m tmpfs "$mnt"
mkdir "$mnt/data"
start() {
    QT_NO_GLIB=1 "$daemon" --listen 127.0.0.1:$port --data-dir "$mnt/data" --api-key k \
        --jwt-secret s 2>>"$work/daemon.log" &
    pid=$!
    for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:$port/api/health && return; sleep 0.1; done
    echo "the daemon did not start"; exit 2
}
emit() { # n: emits, prints how many were answered 200
    local ok=0
    for i in $(seq "$1"); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
            http://127.0.0.1:$port/api/emit/room -H 'X-API-Key: k' \
            -H 'Content-Type: application/json' -d "{\"room\":\"r\",\"event\":\"e\",\"data\":$i}")
        [[ $code == 200 ]] && ok=$((ok + 1))
    done
    echo $ok
}
logged() {
    curl -s "http://127.0.0.1:$port/api/log?since_id=0&limit=1000" -H 'X-API-Key: k' \
        | grep -o '"id":' | wc -l
}
start
a=$(emit 20)
dd if=/dev/zero of="$mnt/filler" bs=1M 2>/dev/null || true   # the disk is full now
b=$(emit 50)
echo "while full: $b of 50 emits answered 200"
rm -f "$mnt/filler"
sleep 0.5
c=$(emit 20)
kill "$pid"; wait "$pid" 2>/dev/null || true   # a clean restart does not bring them back
start
total=$((a + b + c))
n=$(logged)
echo "answered 200: $total; in GET /api/log after a restart: $n"
grep -m 3 'could not write' "$work/daemon.log" | cut -c1-160
if [[ $n -eq $total ]]; then echo FIXED; exit 0; fi
echo REPRODUCED
exit 1
