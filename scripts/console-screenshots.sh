#!/usr/bin/env bash
# Screenshots of the admin console for the README, made the way a user sees it: the real
# `switchboard` under Xvfb, with browser-like clients connected and a database emitting.
#
#   bash scripts/console-screenshots.sh [BUILD_DIR]      (default build/release)
#
# Writes docs/images/console-hosted.png (the console hosting the server, English),
# docs/images/console-attached-de.png (attached to a separate switchboardd, German) and
# docs/images/console-cluster.png (attached to node a of two nodes on a redis-server).
# SB_SCREENSHOT_SCENES picks scenes (default: hosted attached cluster).
# Installs xvfb and imagemagick when they are missing.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build/release}
[[ ${SB_SCREENSHOT_INSIDE:-} ]] ||
    SWITCHBOARD_EXTRA_PACKAGES="xvfb xauth imagemagick ${SWITCHBOARD_EXTRA_PACKAGES:-}" \
        bash "$root/scripts/install-deps.sh"
console=$build/app/console/switchboard
daemon=$build/app/daemon/switchboardd
[[ -x $console && -x $daemon ]] || { echo "build first: bash scripts/build.sh release" >&2; exit 1; }

if [[ ${SB_SCREENSHOT_INSIDE:-} ]]; then
    work=$SB_SCREENSHOT_WORK
    trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
export XDG_CONFIG_HOME=$work/config QT_NO_GLIB=1
mkdir -p "$root/docs/images"

# Clients like browser pages (rooms, users, sessions of an APEX application) and a database
# that emits: traffic.py PORT KEY SECONDS.
cat >"$work/traffic.py" <<'PY'
import asyncio, json, random, sys, urllib.request
port, key, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
base = f"http://127.0.0.1:{port}"
def call(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"X-API-Key": key, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
people = [("SCOTT", "hr:emp:1234"), ("ADAMS", "hr:emp:1234"), ("KING", "hr:dept:10"),
          ("BLAKE", "hr:dept:10"), ("CLARK", "tenant:ACME"), ("FORD", "tenant:ACME"),
          ("JONES", "orders:4711"), ("MILLER", "tenant:ACME"), ("TURNER", "chat:lobby"),
          ("WARD", "chat:lobby"), ("ALLEN", "chat:lobby"), ("MARTIN", "user:MARTIN")]
async def page(user, room, n):
    import websockets
    token = call("/api/register", {"room": room, "user": user, "session": str(4711 + n)})["token"]
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", origin=f"https://apex.example.com") as ws:
        await ws.send(json.dumps({"type": "join", "token": token}))
        end = asyncio.get_event_loop().time() + seconds
        while asyncio.get_event_loop().time() < end:
            try:
                await asyncio.wait_for(ws.recv(), 0.5)
            except asyncio.TimeoutError:
                pass
async def database():
    events = [("hr:emp:1234", "websocket::refresh", {"region": "emp_report"}),
              ("tenant:ACME", "websocket::message", {"text": "Invoice 2024-117 approved", "amount": 1250.00}),
              ("chat:lobby", "ChatLine", {"from": "WARD", "text": "Deploy finished"}),
              ("orders:4711", "OrderShipped", {"order": 4711, "carrier": "DHL"}),
              ("hr:dept:10", "RefreshEmployees", {"dept": 10})]
    await asyncio.sleep(1.0)
    end = asyncio.get_event_loop().time() + seconds - 1
    while asyncio.get_event_loop().time() < end:
        room, event, data = random.choice(events)
        await asyncio.to_thread(call, "/api/emit/room", {"room": room, "event": event, "data": data})
        await asyncio.sleep(random.uniform(0.02, 0.15))
async def main():
    await asyncio.gather(*(page(u, r, i) for i, (u, r) in enumerate(people)), database())
asyncio.run(main())
PY

shot() { # shot FILE: the whole virtual screen
    import -display "$DISPLAY" -window root "$1"
}

run_hosted() {
    "$console" --listen 127.0.0.1:18090 --api-key demo-key --jwt-secret demo-secret \
        --data-dir "$work/hosted" --log-level warning &
    for _ in $(seq 50); do curl -sf 127.0.0.1:18090/api/health >/dev/null && break; sleep 0.2; done
    /usr/bin/python3 "$work/traffic.py" 18090 demo-key 14 &
    sleep 9
    shot "$root/docs/images/console-hosted.png"
    wait %2 || true
    kill %1; wait %1 || true
}

run_attached() {
    "$daemon" --listen 127.0.0.1:18091 --api-key demo-key --jwt-secret demo-secret \
        --data-dir "$work/daemon" --log-level warning &
    for _ in $(seq 50); do curl -sf 127.0.0.1:18091/api/health >/dev/null && break; sleep 0.2; done
    "$console" --attach http://127.0.0.1:18091 --api-key demo-key --lang de &
    sleep 2
    /usr/bin/python3 "$work/traffic.py" 18091 demo-key 12 &
    sleep 8
    shot "$root/docs/images/console-attached-de.png"
    wait %3 || true
    kill %2 %1; wait || true
}

run_cluster() {
    redis-server --port 18379 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
    for _ in $(seq 50); do redis-cli -p 18379 ping >/dev/null 2>&1 && break; sleep 0.2; done
    for node in a:18092 b:18093; do
        "$daemon" --listen "127.0.0.1:${node#*:}" --api-key demo-key --jwt-secret demo-secret \
            --data-dir "$work/node-${node%%:*}" --log-level warning \
            --redis redis://127.0.0.1:18379 --node-name "${node%%:*}" &
        for _ in $(seq 50); do curl -sf "127.0.0.1:${node#*:}/api/health" >/dev/null && break; sleep 0.2; done
    done
    "$console" --attach http://127.0.0.1:18092 --api-key demo-key &
    sleep 2
    /usr/bin/python3 "$work/traffic.py" 18092 demo-key 12 &
    /usr/bin/python3 "$work/traffic.py" 18093 demo-key 12 &
    sleep 8
    shot "$root/docs/images/console-cluster.png"
    wait %5 %6 || true
    kill %4 %3 %2 %1; wait || true
}

if [[ ${SB_SCREENSHOT_INSIDE:-} ]]; then # under Xvfb (the second call below)
    "run_$SB_SCREENSHOT_INSIDE"
    exit 0
fi
for scene in ${SB_SCREENSHOT_SCENES:-hosted attached cluster}; do
    SB_SCREENSHOT_INSIDE=$scene SB_SCREENSHOT_WORK=$work \
        xvfb-run -a -s "-screen 0 1440x900x24" bash "${BASH_SOURCE[0]}" "$build"
done
echo "wrote docs/images/console-{hosted,attached-de,cluster}.png (the scenes that ran)"
