#!/usr/bin/env bash
# Soak and chaos run of switchboardd: churning WebSocket clients, a REST emitter, kill -9 and
# restarts, PostgreSQL restarts, a full disk; checks that no answered emit is lost from the log
# or from a client, that nothing arrives twice or out of order, and that memory and file
# descriptors return to their baselines (docs/soak.md).
#
#   bash bench/soak.sh [--duration S] [--no-postgres] [--no-diskfull] [soak.py options...]
#
# --duration is the whole run in seconds (default 3600; CI uses 90 with --no-postgres).
# Uses build/release/app/daemon/switchboardd when it exists (else builds that target), or the
# binary named by --daemon / $SWITCHBOARDD. Needs Debian's python3 and python3-websockets; the
# diskfull phase mounts a tmpfs (root), the postgres phase starts a throw-away PostgreSQL 15
# (scripts/pg-test-cluster.sh). `bash bench/soak.sh --help` lists every option.
# Exit status 0 only when every check passes; the last line is `soak: PASS ...` or
# `soak: FAIL ...`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

python=/usr/bin/python3 # Debian's, with python3-websockets (pyenv's may come first in PATH)
if ! "$python" -c 'import websockets' 2>/dev/null; then
    echo "soak.sh: $python cannot import websockets (apt-get install python3-websockets)" >&2
    exit 2
fi

daemon=${SWITCHBOARDD:-}
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --daemon) daemon=$2; shift 2 ;;
        -h | --help)
            sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
            echo
            exec "$python" bench/soak/soak.py --daemon x --help
            ;;
        *) args+=("$1"); shift ;;
    esac
done

if [[ -z "$daemon" ]]; then
    daemon="$root/build/release/app/daemon/switchboardd"
    if [[ ! -x "$daemon" ]]; then
        echo "soak.sh: $daemon is missing; building it" >&2
        bash scripts/build.sh release switchboardd >&2
    fi
fi
if [[ ! -x "$daemon" ]]; then
    echo "soak.sh: no daemon at $daemon" >&2
    exit 2
fi
# 200 clients and their reconnects: more descriptors than a default soft limit of 1024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec "$python" -u bench/soak/soak.py --daemon "$daemon" "${args[@]}"
