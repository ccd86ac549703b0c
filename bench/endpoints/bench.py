"""Handler calls per second and the latency a handler adds (bench/endpoints.sh).

Against a running switchboardd with the endpoints `bench-script` (echo-handler.js) and
`bench-http` (http-handler.mjs): for each, N sessions each keep W messages in flight for D
seconds (calls/s = echoes received per second), then one session sends M messages one after
the other (round-trip percentiles). The baseline round trip is a /ws ping answered by the
server itself, so the difference is what the handler adds. Prints one JSON line per figure.
"""
import argparse
import asyncio
import json
import statistics
import time
import urllib.request

import websockets


def rest(base, key, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"X-API-Key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


async def throughput(url, sessions, window, duration):
    received = 0
    stop_at = time.monotonic() + duration
    payload = "x" * 64

    async def one():
        nonlocal received
        async with websockets.connect(url, max_queue=None) as ws:
            for _ in range(window):
                await ws.send(payload)
            while time.monotonic() < stop_at:
                await ws.recv()
                received += 1
                await ws.send(payload)

    start = time.monotonic()
    await asyncio.gather(*(one() for _ in range(sessions)))
    return received / (time.monotonic() - start)


async def latency(url, count, ping_frame=None, answer_type=None):
    samples = []
    async with websockets.connect(url) as ws:
        for i in range(count):
            text = ping_frame or f"m{i}"
            t0 = time.perf_counter()
            await ws.send(text)
            while True:
                answer = await ws.recv()
                if answer_type is None or json.loads(answer).get("type") == answer_type:
                    break
            samples.append((time.perf_counter() - t0) * 1e6)
    samples.sort()
    return {"p50_us": round(statistics.median(samples), 1),
            "p99_us": round(samples[int(len(samples) * 0.99) - 1], 1)}


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--window", type=int, default=32)
    p.add_argument("--duration", type=float, default=8)
    p.add_argument("--count", type=int, default=2000)
    a = p.parse_args()
    base = f"http://127.0.0.1:{a.port}"
    ws = f"ws://127.0.0.1:{a.port}"
    token = rest(base, a.key, "/api/register", {"room": "bench", "user": "u", "session": "s"})["token"]
    base_lat = await latency(f"{ws}/ws?token={token}", a.count, '{"type":"ping"}', "pong")
    print(json.dumps({"figure": "baseline_ws_ping", **base_lat}), flush=True)
    for name in ("bench-script", "bench-http"):
        url = f"{ws}/websockets/v4/service/{name}"
        rate = await throughput(url, a.sessions, a.window, a.duration)
        lat = await latency(url, a.count)
        print(json.dumps({"figure": name, "calls_per_s": round(rate),
                          "sessions": a.sessions, "window": a.window, **lat,
                          "added_p50_us": round(lat["p50_us"] - base_lat["p50_us"], 1)}), flush=True)


asyncio.run(main())
