#!/usr/bin/env python3
"""Turns the JSON lines of bench/run.sh into docs/BENCHMARKS.md and a gnuplot PNG.

    python3 bench/report.py --results bench/results/<stamp>.jsonl --out docs/BENCHMARKS.md \
        --plot docs/benchmarks.png [--command "bash bench/run.sh"] [--daemon path]

Standard library only (Debian's python3); the plot is drawn by gnuplot.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

SERVERS = ["switchboard", "bridge", "socketio"]
NAMES = {
    "switchboard": "Switchboard",
    "bridge": "Node bridge (seed: express + ws)",
    "socketio": "Socket.IO 4 (rooms)",
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(path):
    runs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    return runs


def pick(runs, label, protocol, clients=None):
    for r in runs:
        if r.get("label") == label and r.get("protocol") == protocol:
            if clients is None or r.get("clients") == clients:
                return r
    return None


def pick_all(runs, label, protocol):
    return [r for r in runs if r.get("label") == label and r.get("protocol") == protocol]


def median_run(runs, label, protocol, *path):
    """The run whose value at path is the median of the server's runs of this scenario."""
    candidates = [r for r in pick_all(runs, label, protocol) if get(r, *path) is not None]
    if not candidates:
        return None
    candidates.sort(key=lambda r: get(r, *path))
    return candidates[(len(candidates) - 1) // 2]


def num(value, digits=1):
    if value is None:
        return "n/a"
    if isinstance(value, float) and digits >= 0:
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def ratio(ours, theirs):
    if ours is None or theirs in (None, 0):
        return "n/a"
    return f"{ours / theirs:.2f}x"


def get(run, *path):
    value = run
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def command_output(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def npm_version(peer, package):
    path = os.path.join(ROOT, "bench", "peers", peer, "node_modules", package, "package.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)["version"]
    except (OSError, KeyError, ValueError):
        return "?"


def machine_section(daemon, commit):
    cpu = ""
    for line in command_output(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    mem_kb = 0
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    qt = command_output(["dpkg-query", "-W", "-f=${Version}", "libqt6core6"]) or "?"
    sb = command_output([daemon, "--version"]) if daemon else ""
    commit = commit or command_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    rows = [
        ("CPU", f"{cpu} ({os.cpu_count()} CPUs; server pinned to CPU 0, load generator to CPU 1)"),
        ("Memory", f"{mem_kb // 1024:,} MiB"),
        ("Kernel", platform.release()),
        ("Switchboard", f"{sb or 'switchboardd'} (commit {commit or '?'}), Release build, Qt {qt}"),
        ("Compiler", command_output(["g++", "--version"]).splitlines()[0] if command_output(["g++", "--version"]) else "?"),
        ("Node.js", command_output(["node", "--version"])),
        ("Bridge packages", f"express {npm_version('bridge', 'express')}, ws {npm_version('bridge', 'ws')}"),
        ("Socket.IO packages", f"socket.io {npm_version('socketio', 'socket.io')}, express {npm_version('socketio', 'express')}"),
    ]
    lines = ["| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(value, target, higher_is_better):
    if value is None:
        return "not measured"
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "**not met**"


def server_rows(find, row_of):
    """One table row for each server in SERVERS that find(server) has a run of: the server's
    name, then row_of(server, run)."""
    rows = []
    for s in SERVERS:
        r = find(s)
        if r:
            rows.append([NAMES[s]] + row_of(s, r))
    return rows


def section_fanout(runs, lines, targets):
    bridge = pick(runs, "fanout", "bridge")

    def row(s, r):
        cpu = get(r, "server", "cpu_us_per_delivery")
        return [r["clients"], num(cpu, 2), num(r.get("deliveries_per_s")),
                num(get(r, "latency_us", "p99")), r.get("lost"),
                ratio(cpu, get(bridge, "server", "cpu_us_per_delivery")) if bridge else "n/a"]
    rows = server_rows(lambda s: pick(runs, "fanout", s), row)
    ref = pick(runs, "fanout", "switchboard") or {}
    lines += ["## Server CPU per delivered message", "",
              f"{ref.get('clients', 0):,} clients in one room; emits as fast as they are delivered "
              f"(at most {ref.get('window', 8)} emits in flight), {ref.get('duration_s', 0):.0f} s. CPU is the server's user + system time from /proc over the "
              "measured window, divided by the deliveries in it.", "",
              table(["server", "clients", "CPU µs / delivery", "deliveries/s", "p99 µs (saturated)",
                     "lost", "vs bridge"], rows), ""]
    sb = pick(runs, "fanout", "switchboard")
    if sb and bridge:
        value = get(sb, "server", "cpu_us_per_delivery") / get(bridge, "server", "cpu_us_per_delivery")
        targets.append(("server CPU per delivered message", f"{value:.2f}x the bridge", "at most 0.4x",
                        verdict(value, 0.4, False)))


def section_latency(runs, lines, targets):
    bridge = median_run(runs, "latency", "bridge", "latency_us", "p99")

    def row(s, r):
        p99 = get(r, "latency_us", "p99")
        each = ", ".join(num(get(x, "latency_us", "p99")) for x in pick_all(runs, "latency", s))
        return [r["clients"], num(r.get("deliveries_per_s")),
                num(get(r, "latency_us", "p50")), num(p99), num(get(r, "latency_us", "max")),
                num(get(r, "server", "cpu_us_per_delivery"), 2), each,
                sum((x.get("lost") or 0) for x in pick_all(runs, "latency", s)),
                ratio(p99, get(bridge, "latency_us", "p99")) if bridge else "n/a"]
    rows = server_rows(lambda s: median_run(runs, "latency", s, "latency_us", "p99"), row)
    ref = pick(runs, "latency", "switchboard") or {}
    rate = ref.get("rate", 0)
    count = len(pick_all(runs, "latency", "switchboard"))
    lines += [f"## Delivery latency at {rate * ref.get('clients', 0):,.0f} deliveries/s", "",
              f"{ref.get('clients', 0):,} clients in one room, {rate:g} emits/s at fixed times for "
              f"{ref.get('duration_s', 0):.0f} s. Latency runs from the moment the load generator "
              "writes the REST request to the moment a client has read the event "
              "(CLOCK_MONOTONIC carried in `data`), over every delivery. Each server ran "
              f"{count} times, interleaved with the others; the row is its median run by p99, "
              "and the p99 of every run is listed.", "",
              table(["server", "clients", "deliveries/s", "p50 µs", "p99 µs", "max µs",
                     "CPU µs / delivery", "p99 of each run", "lost", "p99 vs bridge"], rows), ""]
    sb = median_run(runs, "latency", "switchboard", "latency_us", "p99")
    if sb and bridge:
        value = get(sb, "latency_us", "p99") / get(bridge, "latency_us", "p99")
        targets.append(("p99 delivery latency", f"{value:.2f}x the bridge (medians of {count} runs)",
                        "at most 0.7x", verdict(value, 0.7, False)))


def section_rest(runs, lines, targets):
    bridge = pick(runs, "rest", "bridge")
    rows = server_rows(lambda s: pick(runs, "rest", s), lambda s, r: [
        num(r.get("emits_per_s")), num(get(r, "rest_latency_us", "p50")),
        num(get(r, "rest_latency_us", "p99")), num(get(r, "server", "cpu_us_per_emit"), 1),
        r.get("emit_errors"), ratio(r.get("emits_per_s"), bridge.get("emits_per_s")) if bridge else "n/a"])
    lines += ["## REST emits per second", "",
              "No WebSocket clients; 8 keep-alive HTTP/1.1 callers, each sending its next emit "
              f"when the previous one is answered, {(pick(runs, 'rest', 'switchboard') or {}).get('duration_s', 0):.0f} s.", "",
              table(["server", "emits/s", "p50 µs", "p99 µs", "CPU µs / emit", "errors", "vs bridge"], rows), ""]
    sb = pick(runs, "rest", "switchboard")
    if sb and bridge:
        value = sb["emits_per_s"] / bridge["emits_per_s"]
        targets.append(("REST emits per second", f"{value:.2f}x the bridge", "at least 3x",
                        verdict(value, 3.0, True)))

    def row(s, idle):
        alone = pick(runs, "rest", s)
        return [idle["clients_ready"], num(alone.get("emits_per_s")),
                num(idle.get("emits_per_s")), ratio(idle.get("emits_per_s"), alone.get("emits_per_s"))]
    rows = server_rows(lambda s: pick(runs, "rest", s) and pick(runs, "rest_idle", s), row)
    lines += ["## REST with idle clients connected", "",
              f"The same 8 callers while {(pick(runs, 'rest_idle', 'switchboard') or {}).get('clients', 0):,} "
              "WebSocket clients sit joined to another room. "
              "(The bridge has no rooms: every broadcast goes to all its clients, so it has no "
              "idle-client figure.)", "",
              table(["server", "idle clients", "emits/s alone", "emits/s with idle clients", "ratio"], rows), ""]
    alone, idle = pick(runs, "rest", "switchboard"), pick(runs, "rest_idle", "switchboard")
    if alone and idle:
        value = idle["emits_per_s"] / alone["emits_per_s"]
        targets.append(("REST with idle clients", f"{value:.2f}x its own figure", "at least 0.7x",
                        verdict(value, 0.7, True)))


def section_memory(runs, lines, targets):
    def row(s, r):
        per = get(r, "server", "rss_per_conn_bytes")
        return [r["clients_ready"], num(get(r, "server", "rss_before_kb")),
                num(get(r, "server", "rss_connected_kb")), num(per / 1024 if per else None, 1)]
    rows = server_rows(lambda s: pick(runs, "fanout", s), row)
    lines += ["## Memory per idle connection", "",
              "Resident memory of the server before the clients connect and 2 s after the last "
              "one joined (before any emit), from the fan-out runs.", "",
              table(["server", "clients", "RSS before (KiB)", "RSS connected (KiB)", "KiB / connection"], rows), ""]
    sb = pick(runs, "fanout", "switchboard")
    if sb and get(sb, "server", "rss_per_conn_bytes"):
        value = get(sb, "server", "rss_per_conn_bytes") / 1024
        targets.append(("memory per idle connection", f"{value:.1f} KiB", "at most 12 KB",
                        verdict(value * 1.024, 12, False)))


def section_loss(runs, lines, targets):
    rows = []
    total_lost = 0
    for r in runs:
        total_lost += r.get("lost") or 0
        rows.append([r.get("label"), NAMES.get(r.get("protocol"), r.get("protocol")), r.get("clients_ready"),
                     num(r.get("expected")), num(r.get("delivered")), r.get("lost"),
                     r.get("clients_closed"), r.get("emit_errors")])
    lines += ["## Loss: every run", "",
              table(["scenario", "server", "clients", "expected", "delivered", "lost", "clients closed",
                     "emit errors"], rows), ""]
    sb_lost = sum((r.get("lost") or 0) for r in runs if r.get("protocol") == "switchboard")
    targets.append(("loss", f"{sb_lost} deliveries lost by Switchboard ({total_lost} in all runs)",
                    "zero", verdict(sb_lost, 0, False)))


def section_sweep(runs, lines, plot):
    counts = sorted({r["clients"] for r in runs if r.get("label") == "sweep"})
    rows = []
    for n in counts:
        row = [f"{n:,}"]
        for s in SERVERS:
            r = pick(runs, "sweep", s, n)
            row += [num(r.get("deliveries_per_s")) if r else "n/a",
                    num(get(r, "latency_us", "p99")) if r else "n/a"]
        rows.append(row)
    header = ["clients"]
    for s in SERVERS:
        header += [f"{s} deliveries/s", f"{s} p99 µs"]
    lines += ["## Deliveries/s and p99 against connection count", "",
              "Emits as fast as delivered (8 in flight), 5 s per point, each server started afresh "
              "for each point; p99 here is under "
              "saturation, so it measures how long one emit's fan-out takes.", "",
              table(header, rows), "", f"![deliveries/s and p99 against connections]({os.path.basename(plot)})", ""]
    draw_plot(runs, counts, plot)


def draw_plot(runs, counts, plot):
    if not counts:
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for s in SERVERS:
            path = os.path.join(tmp, f"{s}.dat")
            with open(path, "w", encoding="utf-8") as f:
                for n in counts:
                    r = pick(runs, "sweep", s, n)
                    if r and r.get("deliveries_per_s") and get(r, "latency_us", "p99"):
                        f.write(f"{n} {r['deliveries_per_s'] / 1000:.3f} {get(r, 'latency_us', 'p99') / 1000:.3f}\n")
            files[s] = path
        script = [
            "set terminal pngcairo size 1200,480 font 'DejaVu Sans,10'",
            f"set output '{plot}'",
            "set multiplot layout 1,2 title 'Fan-out to one room, emits as fast as delivered (server on one CPU)'",
            "set grid", "set key below", "set xlabel 'connected clients'",
            "set ylabel 'thousand deliveries per second'", "set yrange [0:*]",
            "plot " + ", ".join(f"'{files[s]}' using 1:2 with linespoints lw 2 title '{NAMES[s]}'" for s in SERVERS),
            "set ylabel 'p99 delivery latency (ms)'",
            "plot " + ", ".join(f"'{files[s]}' using 1:3 with linespoints lw 2 title '{NAMES[s]}'" for s in SERVERS),
            "unset multiplot",
        ]
        subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)


def section_cluster(lines, path):
    """The tables of the last `bench/cluster.sh` run (docs/benchmarks-cluster.md), kept here."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        text = f.read().strip().splitlines()
    # Its title becomes a section; its own sections one level down.
    lines += ["## Cluster: one node with and without Redis, and 1, 2 and 3 nodes", ""]
    lines += [("#" + l if l.startswith("## ") else l) for l in text[1:]][1:]
    lines += ["", "Written by `bash bench/cluster.sh` (docs/benchmarks-cluster.md); how to read "
              "the figures: [SCALING.md](SCALING.md#measured).", ""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--plot", required=True)
    parser.add_argument("--command", default="bash bench/run.sh")
    parser.add_argument("--daemon", default="")
    parser.add_argument("--commit", default="", help="the commit measured (default: HEAD now)")
    args = parser.parse_args()

    runs = load(args.results)
    if not runs:
        sys.exit(f"report.py: no results in {args.results}")

    targets = []
    body = []
    section_fanout(runs, body, targets)
    section_latency(runs, body, targets)
    section_rest(runs, body, targets)
    section_memory(runs, body, targets)
    section_sweep(runs, body, args.plot)
    section_loss(runs, body, targets)
    section_cluster(body, os.path.join(os.path.dirname(os.path.abspath(args.out)),
                                       "benchmarks-cluster.md"))

    # The run's time is in the results file name (run.sh names it by its start, UTC).
    try:
        started = datetime.datetime.strptime(os.path.basename(args.results).split(".")[0], "%Y%m%dT%H%M%SZ")
        now = started.strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        "# Benchmarks", "",
        f"Switchboard side by side with the Node.js servers it replaces, measured in one run of "
        f"`{args.command}` on {now}. Every server was started afresh for every scenario, pinned "
        "to CPU 0; the load generator (`bench/loadgen`, C++, epoll, one thread) ran on CPU 1. "
        "This file and the plot are written by that command; the raw JSON lines are in "
        f"`bench/results/{os.path.basename(args.results)}`.", "",
        "How the core gets these figures and what limits them: [performance.md](performance.md).", "",
        "## Targets", "",
        table(["figure", "measured", "target", ""], targets), "",
        "## Machine and versions", "",
        machine_section(args.daemon, args.commit), "",
    ]
    how = [
        "## How to reproduce", "",
        "```sh",
        "bash bench/run.sh            # installs, builds, runs every scenario, rewrites this file",
        "bash bench/run.sh --quick    # 2,000 clients, short runs, to try the kit (report in bench/results/quick/)",
        "```", "",
        "One scenario by hand (server on CPU 0, generator on CPU 1):", "",
        "```sh",
        "ulimit -n $(ulimit -Hn)",
        "taskset -c 0 build/release/app/daemon/switchboardd --listen 127.0.0.1:18501 \\",
        "    --data-dir /tmp/sb-bench --api-key KEY --jwt-secret SECRET 2>/tmp/sb.log &",
        "taskset -c 1 build/release/bench/loadgen/sb-loadgen --protocol switchboard --port 18501 \\",
        "    --api-key KEY --pid $! --clients 10000 --duration 10 --window 8",
        "```", "",
        "run.sh starts each server afresh for every run, pinned to CPU 0, with its defaults:", "",
        "```sh",
        "taskset -c 0 switchboardd --listen 127.0.0.1:PORT --data-dir TMP --api-key KEY --jwt-secret SECRET 2>server.log",
        "PORT=PORT taskset -c 0 node bench/peers/bridge/server.js >server.log 2>&1    # logs every request, as the seed",
        "PORT=PORT taskset -c 0 node bench/peers/socketio/server.js >server.log 2>&1",
        "```", "",
        "The commands of every run, exactly as run.sh issued them (plus `--port`, `--api-key` "
        "and `--pid` of the server started for it):", "",
        "```",
    ]
    for r in runs:
        how.append(r.get("command", f"{r.get('label')}/{r.get('protocol')}"))
    how += ["```", ""]
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(head + body + how))


if __name__ == "__main__":
    main()
